/**
 * The one-time-code email. Plain words, the code in the subject (so it shows in a phone's
 * notification), and nothing a phisher could reuse: no links, no images, no reply address.
 */
import { escapeHtml, expiryWords, footnote, htmlEmail, singleLine } from './email-layout.js';

export interface CodeEmail {
  subject: string;
  text: string;
  html: string;
}

export function renderCodeEmail(input: { code: string; merchantName: string; expiresInMinutes: number }): CodeEmail {
  const merchant = singleLine(input.merchantName);
  const expiry = expiryWords(input.expiresInMinutes);
  const ignore = "If you didn't ask for this, ignore this email — someone may have typed your address by mistake.";

  const subject = `Your verification code for ${merchant}: ${input.code}`;

  const text = [
    `Your verification code for ${merchant} is:`,
    '',
    `    ${input.code}`,
    '',
    `It expires in ${expiry}. Enter it in the chat where you asked for it, and don't share it with anyone else.`,
    '',
    ignore,
    '',
  ].join('\n');

  const html = htmlEmail(
    `Your verification code for ${merchant}`,
    `<p style="margin:0 0 16px">Your verification code for ${escapeHtml(merchant)} is:</p>
<p style="margin:0 0 16px;font-family:Menlo,Consolas,monospace;font-size:28px;font-weight:600;letter-spacing:4px">${escapeHtml(input.code)}</p>
<p style="margin:0 0 16px">It expires in ${expiry}. Enter it in the chat where you asked for it, and don't share it with anyone else.</p>
${footnote(ignore)}`,
  );

  return { subject, text, html };
}
