import { randomBytes } from 'node:crypto';
import type { BillingReads } from '../cache/billing-reads.js';
import type { Settings } from '../config.js';
import { ConfigurationError } from '../errors.js';
import type { Logger } from '../log.js';
import { EmailCodeVerifier } from './email-codes.js';
import { GrantStore } from './grants.js';
import { createSmtpMailer, type CodeMailer } from './mailer.js';
import type { Store } from './store.js';
import type { Verification } from './verification.js';

export interface VerificationOptions {
  settings: Settings;
  store: Store;
  /** Cached: a flood of code requests for one address costs one customer look-up per TTL. */
  reads: BillingReads;
  log: Logger;
  /** A mailer other than SMTP_URL's (the demo outbox). */
  mailer?: CodeMailer | undefined;
}

/**
 * The verification set-up the settings ask for. Code mode needs somewhere to send mail; with
 * none, only identity tokens verify customers and the code tools are not listed.
 */
export function createVerification(options: VerificationOptions): Verification | undefined {
  const { settings, store, log } = options;
  const grants = new GrantStore(store, { maxAgeMs: settings.GRANT_MAX_AGE_MINUTES * 60_000, idleMs: settings.GRANT_IDLE_MINUTES * 60_000 });
  if (settings.VERIFY_MODE === 'trust-email') {
    log.warn(
      'VERIFY_MODE=trust-email: visitors are matched by the email they type, WITHOUT verification. Anyone who knows a customer\'s email can read their billing data. Use only if the chat host verified the user itself.',
    );
    return { mode: 'trust-email', grants };
  }
  const mailer =
    options.mailer ??
    (settings.SMTP_URL ? createSmtpMailer({ smtpUrl: settings.SMTP_URL, mailFrom: settings.MAIL_FROM, merchantName: settings.MERCHANT_NAME ?? 'our billing team', log }) : undefined);
  if (!mailer) return undefined;
  if (settings.STORE_URL && !settings.VERIFY_SECRET) {
    throw new ConfigurationError('VERIFY_SECRET must be set when STORE_URL is: every process sharing the store must hash codes with the same secret (generate one with `openssl rand -base64 48`).');
  }
  const secret = settings.VERIFY_SECRET ? new TextEncoder().encode(settings.VERIFY_SECRET) : randomBytes(32);
  const codes = new EmailCodeVerifier({
    store,
    grants,
    secret,
    log,
    customerExists: async (email, work) => (await options.reads.forWork(work).customersByEmail(email)).length > 0,
    sendCode: (message) => mailer.sendCode(message),
    ...(mailer.verify ? { checkMailServer: () => mailer.verify!() } : {}),
  });
  return { mode: 'code', grants, codes, mailer };
}
