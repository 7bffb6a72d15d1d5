import type { Transporter } from 'nodemailer';
import type { ConfirmationMail } from '../actions/engine.js';
import { ConfigurationError } from '../errors.js';
import type { Logger } from '../log.js';
import { renderConfirmationEmail } from '../actions/confirmation-email.js';
import { renderCodeEmail } from './code-email.js';

/** Sends one-time codes. The SMTP mailer for real use, the outbox for `--demo`. */
export interface CodeMailer {
  /** `outbox`: the demo's, which prints codes instead of mailing them. */
  readonly transport: 'smtp' | 'outbox';
  sendCode(message: { to: string; code: string; expiresInMinutes: number }): Promise<void>;
  /** An action request's confirmation link, to the verified email (src/actions/engine.ts). */
  sendActionConfirmation?(mail: ConfirmationMail): Promise<void>;
  /** Connects and logs in without sending anything (for `doctor`); `quiet` leaves the logging to the caller. */
  verify?(options?: { quiet?: boolean }): Promise<void>;
}

export type MailFailureReason = 'connection' | 'timeout' | 'tls' | 'auth' | 'rejected' | 'server';

const FAILURE_MESSAGES: Record<MailFailureReason, string> = {
  connection: 'The verification email could not be sent: the mail server could not be reached (check the host and port in SMTP_URL).',
  timeout: 'The verification email could not be sent: the mail server did not answer in time.',
  tls: 'The verification email could not be sent: a secure connection to the mail server failed (smtps:// is for port 465, smtp:// with STARTTLS for 587).',
  auth: 'The verification email could not be sent: the mail server refused the login (check the user and password in SMTP_URL).',
  rejected: 'The verification email could not be sent: the mail server refused the message.',
  server: 'The verification email could not be sent: the mail server returned an error.',
};

/**
 * The message names neither the recipient, the code nor any credential. `cause` is a scrubbed
 * copy of the transport's error (code, SMTP reply code, command, cleaned text), never the
 * original, whose text can quote the recipient back.
 */
export class MailDeliveryError extends Error {
  readonly reason: MailFailureReason;

  constructor(reason: MailFailureReason, cause?: Error) {
    super(FAILURE_MESSAGES[reason], cause ? { cause } : undefined);
    this.name = 'MailDeliveryError';
    this.reason = reason;
  }
}

/** 'alice@example.com' → 'a***@example.com': enough to tell messages apart in a log, not to address one. */
export function redactEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 0) return '***';
  return `${email.slice(0, Math.min(1, at))}***@${email.slice(at + 1)}`;
}

export interface SmtpMailerOptions {
  smtpUrl: string;
  mailFrom: string | undefined;
  merchantName: string;
  log: Logger;
  /** Connection, greeting and socket timeout. A chat visitor is waiting, so keep it short. */
  timeoutMs?: number;
  /**
   * Refuse to log in over an unencrypted connection. Defaults to true when SMTP_URL carries
   * credentials for a non-loopback host with smtp://; `?requireTLS=false` in SMTP_URL overrides.
   */
  requireTls?: boolean;
}

const DEFAULT_TIMEOUT_MS = 10_000;

export function createSmtpMailer(options: SmtpMailerOptions): CodeMailer {
  const url = parseSmtpUrl(options.smtpUrl);
  const mailFrom = options.mailFrom?.trim();
  if (!mailFrom) {
    throw new ConfigurationError(
      "MAIL_FROM is required when SMTP_URL is set: the address codes are sent from, e.g. MAIL_FROM='Acme Billing <billing@acme.example>'.",
    );
  }
  if (!mailFrom.includes('@')) {
    throw new ConfigurationError("MAIL_FROM must contain an email address, e.g. MAIL_FROM='Acme Billing <billing@acme.example>'.");
  }

  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const hasCredentials = url.username !== '' || url.password !== '';
  const requireTLS = options.requireTls ?? (url.protocol === 'smtp:' && hasCredentials && !isLoopback(url.hostname));
  // Decoded, as nodemailer sends it; used only to scrub it out of error text. (The user name is
  // not secret, and scrubbing a short one would mangle the server's reply.)
  const secrets = [safeDecode(url.password), url.password].filter((s) => s.length > 0);

  // nodemailer loads on the first mail or check: most processes never send one.
  let transport: Promise<Transporter> | undefined;
  const transporter = () =>
    (transport ??= import('nodemailer').then((module) =>
      (module.createTransport ?? (module as unknown as { default: typeof module }).default.createTransport)({
        url: options.smtpUrl,
        connectionTimeout: timeoutMs,
        greetingTimeout: timeoutMs,
        socketTimeout: timeoutMs,
        dnsTimeout: timeoutMs,
        requireTLS,
      }),
    ));

  const fail = (error: unknown, scrub: string[], context: Record<string, unknown>, what: string, quiet = false): never => {
    const summary = summarizeSmtpError(error, [...secrets, ...scrub]);
    if (!quiet) options.log.error({ ...context, smtp: summary.logged }, what);
    throw new MailDeliveryError(summary.reason, summary.cause);
  };

  return {
    transport: 'smtp',
    async sendCode({ to, code, expiresInMinutes }) {
      const recipient = redactEmail(to);
      const scrub = [code, to];
      // One visitor, one address: a list or a display name here would mail the code elsewhere.
      if (!SINGLE_ADDRESS.test(to)) {
        fail(new Error('recipient is not a single plain address'), scrub, { recipient }, 'verification email not sent');
      }
      const email = renderCodeEmail({ code, merchantName: options.merchantName, expiresInMinutes });
      let rejected: unknown[] = [];
      try {
        const info = await (await transporter()).sendMail({
          from: mailFrom,
          to,
          subject: email.subject,
          text: email.text,
          html: email.html,
          disableFileAccess: true,
          disableUrlAccess: true,
        });
        rejected = Array.isArray(info.rejected) ? info.rejected : [];
      } catch (error) {
        fail(error, scrub, { recipient }, 'verification email not sent');
      }
      if (rejected.length > 0) {
        fail(Object.assign(new Error('recipient rejected'), { code: 'EENVELOPE' }), scrub, { recipient }, 'verification email not sent');
      }
      options.log.info({ recipient }, 'verification email sent');
    },

    async sendActionConfirmation(mail) {
      const recipient = redactEmail(mail.to);
      // The link is the secret: the whole URL, its token and the secret alone are scrubbed from any error text.
      const token = mail.url.slice(mail.url.lastIndexOf('/') + 1);
      const scrub = [mail.url, token, token.slice(token.lastIndexOf('.') + 1), mail.to];
      const context = { recipient, request: mail.request.id };
      if (!SINGLE_ADDRESS.test(mail.to)) fail(new Error('recipient is not a single plain address'), scrub, context, 'action confirmation email not sent');
      const email = renderConfirmationEmail(mail, options.merchantName);
      let rejected: unknown[] = [];
      try {
        const info = await (await transporter()).sendMail({ from: mailFrom, to: mail.to, subject: email.subject, text: email.text, html: email.html, disableFileAccess: true, disableUrlAccess: true });
        rejected = Array.isArray(info.rejected) ? info.rejected : [];
      } catch (error) {
        fail(error, scrub, context, 'action confirmation email not sent');
      }
      if (rejected.length > 0) fail(Object.assign(new Error('recipient rejected'), { code: 'EENVELOPE' }), scrub, context, 'action confirmation email not sent');
      options.log.info(context, 'action confirmation email sent');
    },

    async verify({ quiet = false } = {}) {
      try {
        await (await transporter()).verify();
      } catch (error) {
        fail(error, [], {}, 'mail server check failed', quiet);
      }
    },
  };
}

export interface OutboxMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  code: string;
}

/** An action request's confirmation email as the outbox keeps it: `url` is the link the customer would click. */
export interface OutboxConfirmation {
  to: string;
  subject: string;
  text: string;
  html: string;
  url: string;
  request_id: string;
}

/**
 * `--demo` only: nothing leaves the machine. Messages stay in memory (the most recent
 * `limit`) and each is handed to `print` so a person trying the demo can read the code (or
 * click an action's confirmation link). This is the one place a code or a link is ever printed,
 * and the output says so.
 */
export function createOutboxMailer(options: {
  merchantName: string;
  print: (formatted: string) => void;
  limit?: number;
}): CodeMailer & { messages: OutboxMessage[]; confirmations: OutboxConfirmation[] } {
  const limit = options.limit ?? 100;
  const messages: OutboxMessage[] = [];
  const confirmations: OutboxConfirmation[] = [];
  const printOutbox = (to: string, email: { subject: string; text: string }) =>
    options.print(['----- DEMO OUTBOX (not sent: demo mode has no SMTP_URL) -----', `To: ${to}`, `Subject: ${email.subject}`, '', email.text.trimEnd(), '----- end of DEMO OUTBOX message -----', ''].join('\n'));
  return {
    transport: 'outbox',
    messages,
    confirmations,
    async sendCode({ to, code, expiresInMinutes }) {
      const email = renderCodeEmail({ code, merchantName: options.merchantName, expiresInMinutes });
      messages.push({ to, code, ...email });
      if (messages.length > limit) messages.splice(0, messages.length - limit);
      printOutbox(to, email);
    },
    // The demo's printed inbox: the confirmation link is printed like a code, for the person trying it.
    async sendActionConfirmation(mail) {
      const email = renderConfirmationEmail(mail, options.merchantName);
      confirmations.push({ to: mail.to, url: mail.url, request_id: mail.request.id, ...email });
      if (confirmations.length > limit) confirmations.splice(0, confirmations.length - limit);
      printOutbox(mail.to, email);
    },
    async verify() {},
  };
}

const SINGLE_ADDRESS = /^[^\s@,;:<>()[\]"\\]+@[^\s@,;:<>()[\]"\\]+$/;

function parseSmtpUrl(smtpUrl: string): URL {
  const hint = 'e.g. SMTP_URL=smtps://user:password@smtp.example.com:465 or smtp://user:password@smtp.example.com:587';
  // Never echo the value: it carries the SMTP password.
  if (!/^smtps?:\/\//i.test(smtpUrl.trim())) {
    throw new ConfigurationError(`SMTP_URL must start with smtp:// or smtps://, ${hint}.`);
  }
  let url: URL;
  try {
    url = new URL(smtpUrl.trim());
  } catch {
    throw new ConfigurationError(`SMTP_URL is not a valid URL (percent-encode special characters in the user and password), ${hint}.`);
  }
  if (!url.hostname) throw new ConfigurationError(`SMTP_URL has no host, ${hint}.`);
  return url;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

interface SmtpErrorSummary {
  reason: MailFailureReason;
  cause: Error;
  logged: Record<string, unknown>;
}

/**
 * Nodemailer's text can quote the server's reply, which often repeats the recipient
 * ("550 <alice@example.com> unknown"). Keep the machine-readable parts and a cleaned text.
 */
function summarizeSmtpError(error: unknown, secrets: string[]): SmtpErrorSummary {
  const fields = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  const errorCode = typeof fields.code === 'string' ? fields.code : undefined;
  const originalCode = typeof fields.originalCode === 'string' ? fields.originalCode : undefined;
  const responseCode = typeof fields.responseCode === 'number' ? fields.responseCode : undefined;
  const command = typeof fields.command === 'string' ? scrub(fields.command, secrets) : undefined;
  const message = scrub(error instanceof Error ? error.message : String(error), secrets);

  const reason = classify(errorCode, originalCode, responseCode, command);
  const cause = Object.assign(new Error(message), { errorCode, originalCode, responseCode, command });
  cause.name = 'SmtpError';
  // `code` is a redacted log path (it usually means a one-time code), hence `errorCode`.
  const logged = { reason, errorCode, originalCode, responseCode, command, message };
  return { reason, cause, logged };
}

function classify(errorCode?: string, originalCode?: string, responseCode?: number, command?: string): MailFailureReason {
  if (errorCode === 'ETIMEDOUT' || originalCode === 'ETIMEDOUT') return 'timeout';
  if (errorCode === 'EAUTH' || errorCode === 'ENOAUTH' || errorCode === 'EOAUTH2') return 'auth';
  if (errorCode === 'ETLS' || errorCode === 'EREQUIRETLS') return 'tls';
  if (errorCode === 'ECONNECTION' || errorCode === 'ESOCKET' || errorCode === 'EDNS' || errorCode === 'EPROXY') {
    return command === 'CONN' || originalCode !== undefined || errorCode === 'EDNS' ? 'connection' : 'server';
  }
  if (errorCode === 'EENVELOPE' || errorCode === 'EMESSAGE' || (responseCode !== undefined && responseCode >= 500)) return 'rejected';
  return 'server';
}

const EMAIL_LIKE = /[^\s<>()[\]"',;:]+@[^\s<>()[\]"',;:]+\.[^\s<>()[\]"',;:]+/g;

function scrub(text: string, secrets: string[]): string {
  let out = text;
  // Longest first, so a secret that contains another is removed whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret) out = out.split(secret).join('[redacted]');
  }
  return out.replace(EMAIL_LIKE, (match) => redactEmail(match));
}
