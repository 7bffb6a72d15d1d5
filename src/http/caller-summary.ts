import type { Settings } from '../config.js';

export interface CustomerVerification {
  /** X-Customer-Token can be checked (IDENTITY_SECRET or IDENTITY_JWKS_URL). */
  identityTokens: boolean;
  /** verify_email_start / verify_email_confirm are on (SMTP_URL or the demo outbox). */
  emailCodes: boolean;
  trustEmail: boolean;
}

/**
 * What `serve` says at start-up about who can call it: HTTP hosts name each visitor per request,
 * so the question is which caller kinds are configured and how their customers get verified.
 */
export function serveCallerSummary(settings: Pick<Settings, 'HOST_KEYS' | 'STAFF_KEYS'>, verification: CustomerVerification): { level: 'info' | 'warn'; message: string } {
  const hosts = settings.HOST_KEYS.length;
  const staff = settings.STAFF_KEYS.length;
  if (hosts === 0 && staff === 0) {
    return { level: 'warn', message: 'serve: neither HOST_KEYS nor STAFF_KEYS is set, so every request to /mcp and /v1/tools will be refused (401)' };
  }
  const ways = [
    ...(verification.identityTokens ? ['X-Customer-Token identity tokens'] : []),
    ...(verification.emailCodes ? ['emailed one-time codes (X-Conversation-Id)'] : []),
    ...(verification.trustEmail ? ['UNVERIFIED email matching (VERIFY_MODE=trust-email)'] : []),
  ];
  const staffPart = staff > 0 ? `; ${staff} staff key${staff === 1 ? '' : 's'} (any customer, /panel)` : '; no staff keys';
  if (hosts === 0) return { level: 'info', message: `serve: no host keys (chatbots)${staffPart}` };
  const hostPart = `${hosts} host key${hosts === 1 ? '' : 's'} (chatbots)`;
  if (ways.length === 0) {
    return {
      level: 'warn',
      message: `serve: ${hostPart}, but no way to verify their customers: set IDENTITY_SECRET or IDENTITY_JWKS_URL for X-Customer-Token, or SMTP_URL and MAIL_FROM for email codes; until then customer tools answer "not verified"${staffPart}`,
    };
  }
  return { level: verification.trustEmail ? 'warn' : 'info', message: `serve: ${hostPart}, customers verified by ${ways.join(' or ')}${staffPart}` };
}
