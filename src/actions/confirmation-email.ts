/**
 * The email that carries an action request's confirmation link to the verified address. Plain
 * words: what will happen, one "Review and confirm" link, when it expires, and that nothing
 * happens without the click. The link is the whole secret, so it appears in the body only: never
 * in the subject (a phone's notification, a mail server's log) or a header.
 */
import { escapeHtml, expiryWords, footnote, htmlEmail, singleLine } from '../verify/email-layout.js';
import type { ConfirmationMail } from './engine.js';
import type { RequestKind } from './requests.js';

export interface ConfirmationEmail {
  subject: string;
  text: string;
  html: string;
}

const KIND_WORDS: Record<RequestKind, string> = {
  refund: 'refund',
  credit: 'account credit',
  pause: 'subscription pause',
  resume: 'subscription resume',
  plan_change: 'plan change',
  retry_payment: 'invoice payment',
};

/** What the request's stored preview says, read defensively (it is JSON from the database). */
export function previewOf(request: ConfirmationMail['request']): { summary: string; when: string; amount: string | undefined; approvalBecause: string[] } {
  const preview = request.preview;
  const amount = preview.amount as { formatted?: unknown } | undefined;
  const because = Array.isArray(preview.approval_because) ? preview.approval_because.filter((item): item is string => typeof item === 'string') : [];
  return {
    summary: typeof preview.summary === 'string' ? preview.summary : `A ${KIND_WORDS[request.kind]} on your account`,
    when: typeof preview.when === 'string' ? preview.when : '',
    amount: typeof amount?.formatted === 'string' ? amount.formatted : undefined,
    approvalBecause: because,
  };
}

export function kindWords(kind: RequestKind): string {
  return KIND_WORDS[kind];
}

export function renderConfirmationEmail(mail: ConfirmationMail, merchantName: string): ConfirmationEmail {
  const merchant = singleLine(merchantName);
  const preview = previewOf(mail.request);
  const expiry = expiryWords(mail.expiresInMinutes);
  const what = kindWords(mail.request.kind);
  const approval = preview.approvalBecause.length > 0 ? `After you confirm, ${merchant}'s team reviews it before it is carried out.` : undefined;
  const nothing = 'Nothing happens unless you confirm.';
  const ignore = "If you did not ask for this, ignore this email — nothing will change.";

  const subject = `Confirm your ${what} request with ${merchant}`;

  const text = [
    `You asked ${merchant} for this in a chat:`,
    '',
    `    ${singleLine(preview.summary)}`,
    ...(preview.when ? [`    ${singleLine(preview.when)}`] : []),
    '',
    ...(approval ? [approval, ''] : []),
    `Review and confirm (the link expires in ${expiry}):`,
    mail.url,
    '',
    `${nothing} Don't forward this email: the link is yours alone.`,
    '',
    ignore,
    '',
  ].join('\n');

  const name = escapeHtml(merchant);
  const href = escapeHtml(mail.url);
  const html = htmlEmail(
    subject,
    `<p style="margin:0 0 16px">You asked ${name} for this in a chat:</p>
<p style="margin:0 0 8px;font-size:18px;font-weight:600">${escapeHtml(preview.summary)}</p>
${preview.when ? `<p style="margin:0 0 16px">${escapeHtml(preview.when)}</p>\n` : ''}${approval ? `<p style="margin:0 0 16px">${escapeHtml(approval)}</p>\n` : ''}<p style="margin:0 0 16px"><a href="${href}" style="display:inline-block;padding:10px 18px;background:#533afd;color:#ffffff;border-radius:6px;text-decoration:none;font-weight:600">Review and confirm</a></p>
<p style="margin:0 0 16px">The link expires in ${expiry}. ${nothing} Don't forward this email: the link is yours alone.</p>
${footnote(ignore)}`,
  );

  return { subject, text, html };
}
