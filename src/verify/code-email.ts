/**
 * The one-time-code email. Plain words, the code in the subject (so it shows in a phone's
 * notification), and nothing a phisher could reuse: no links, no images, no reply address.
 */
export interface CodeEmail {
  subject: string;
  text: string;
  html: string;
}

export function renderCodeEmail(input: { code: string; merchantName: string; expiresInMinutes: number }): CodeEmail {
  const merchant = singleLine(input.merchantName);
  const expiry = input.expiresInMinutes === 1 ? '1 minute' : `${input.expiresInMinutes} minutes`;
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

  const name = escapeHtml(merchant);
  const html = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Your verification code for ${name}</title></head>
<body style="margin:0;padding:24px;font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#1a1a1a;line-height:1.5">
<p style="margin:0 0 16px">Your verification code for ${name} is:</p>
<p style="margin:0 0 16px;font-family:Menlo,Consolas,monospace;font-size:28px;font-weight:600;letter-spacing:4px">${escapeHtml(input.code)}</p>
<p style="margin:0 0 16px">It expires in ${expiry}. Enter it in the chat where you asked for it, and don't share it with anyone else.</p>
<p style="margin:0;color:#666;font-size:14px">${escapeHtml(ignore)}</p>
</body>
</html>
`;

  return { subject, text, html };
}

/** A merchant name comes from configuration; keep line breaks and control characters out of headers. */
function singleLine(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').replace(/\s+/g, ' ').trim();
}

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
