import type { EmailCodeVerifier } from './email-codes.js';
import type { GrantStore } from './grants.js';
import type { CodeMailer } from './mailer.js';

/**
 * How a visitor without an identity token becomes a verified customer: email one-time codes
 * (the default), or the opt-in, loudly labelled `trust-email` matching.
 */
export type Verification =
  | { mode: 'code'; grants: GrantStore; codes: EmailCodeVerifier; mailer: CodeMailer }
  | { mode: 'trust-email'; grants: GrantStore };
