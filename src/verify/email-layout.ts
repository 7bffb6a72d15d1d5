/**
 * The one layout of every email the server sends (the one-time code, an action's confirmation
 * link): a plain HTML page of paragraphs, and the small helpers that keep configured and stored
 * text safe in headers and markup.
 */

/** Merchant-set and stored text: keep line breaks and control characters out of headers and lines. */
export function singleLine(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').replace(/\s+/g, ' ').trim();
}

export function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** "1 minute", "15 minutes". */
export function expiryWords(minutes: number): string {
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}

/** The muted closing line ("if you did not ask for this…"). */
export function footnote(text: string): string {
  return `<p style="margin:0;color:#666;font-size:14px">${escapeHtml(text)}</p>`;
}

/** The HTML document around `body` (already escaped markup); `title` is escaped here. */
export function htmlEmail(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body style="margin:0;padding:24px;font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#1a1a1a;line-height:1.5">
${body}
</body>
</html>
`;
}
