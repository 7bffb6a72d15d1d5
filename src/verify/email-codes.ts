import { createHmac, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import { ToolError, UserInputError } from '../errors.js';
import type { Logger } from '../log.js';
import type { GrantStore, Grant } from './grants.js';
import { isPlausibleEmail, normalizeEmail } from './principal.js';
import type { Store } from './store.js';

export interface CodeLimits {
  codeTtlMs: number;
  maxAttempts: number;
  /** Between two codes in one conversation. */
  resendCooldownMs: number;
  /** Codes one email may receive per hour, across every conversation. */
  codesPerEmailPerHour: number;
  /** Distinct emails one conversation may try per day (no cycling through a list). */
  emailsPerConversationPerDay: number;
  /**
   * New conversations one host key may start verifying per day (default 10,000). Each holds state
   * in the store for a day, so this bounds what one key can create: a flood of new conversation ids
   * cannot fill the store for everyone else.
   */
  conversationsPerHostKeyPerDay?: number;
}

const CONVERSATIONS_PER_HOST_KEY_PER_DAY = 10_000;

export const DEFAULT_CODE_LIMITS: CodeLimits = {
  codeTtlMs: 10 * 60_000,
  maxAttempts: 5,
  resendCooldownMs: 60_000,
  codesPerEmailPerHour: 5,
  emailsPerConversationPerDay: 3,
  conversationsPerHostKeyPerDay: CONVERSATIONS_PER_HOST_KEY_PER_DAY,
};

/** Who created a conversation key: the host key (`host:<name>:<id>` → `host:<name>`); else the conversation itself (stdio). */
function conversationOwner(conversation: string): string {
  const [kind, name] = conversation.split(':');
  return kind === 'host' && name ? `host:${name}` : conversation;
}

export interface EmailCodeDependencies {
  store: Store;
  grants: GrantStore;
  /** HMAC key: codes are stored only as keyed hashes. Shared by every process of one deployment. */
  secret: Uint8Array;
  /** Does a Stripe customer use this email? Decides only whether mail is sent. */
  customerExists(email: string): Promise<boolean>;
  /** Sends the code; rejects on delivery failure. */
  sendCode(message: { to: string; code: string; expiresInMinutes: number }): Promise<void>;
  /** Connects and logs in to the mail server, without a recipient; rejects when it cannot. */
  checkMailServer?: () => Promise<void>;
  log: Logger;
  limits?: CodeLimits;
  now?: () => number;
}

interface Challenge {
  id: string;
  email: string;
  hash: string;
  expiresAt: number;
}

/** The one answer to every accepted start, whether or not the email has a billing account. */
export const CODE_SENT_MESSAGE =
  'If a billing account uses this email address, a 6-digit code is on its way to it. Ask the customer to read the code from that email, then call verify_email_confirm. The code expires in 10 minutes.';

/** How often a start may trigger a check of the mail server itself (connect + login). */
const MAIL_CHECK_INTERVAL_MS = 60_000;

/**
 * Email one-time codes. The model never sees a code; the customer reads it from their inbox
 * and types it into the chat. Every limit lives in the shared store, so several processes
 * enforce one budget.
 */
export class EmailCodeVerifier {
  private readonly limits: CodeLimits;
  private readonly now: () => number;
  /**
   * Whether the mail server answered its last check. The check is recipient-independent and
   * triggered by any start, existing email or not, so the state it reports enumerates nobody
   * (a failed delivery to one address must not change the answer for the next).
   */
  private mailServerDown = false;
  private lastMailCheck = Number.NEGATIVE_INFINITY;

  constructor(private readonly deps: EmailCodeDependencies) {
    this.limits = deps.limits ?? DEFAULT_CODE_LIMITS;
    this.now = deps.now ?? Date.now;
  }

  private hash(challengeId: string, code: string): string {
    return createHmac('sha256', this.deps.secret).update(`${challengeId}:${code}`).digest('hex');
  }

  private emailKey(email: string): string {
    // Hashed so the store (and a Redis dump) holds no address in a key.
    return createHmac('sha256', this.deps.secret).update(`email:${email}`).digest('hex').slice(0, 32);
  }

  async start(conversation: string, rawEmail: string): Promise<{ message: string; expiresInMinutes: number }> {
    const trimmed = rawEmail.trim();
    if (!isPlausibleEmail(trimmed)) throw new UserInputError('That does not look like an email address. Ask the customer to check it (for example name@example.com).');
    const email = normalizeEmail(trimmed);
    const { store } = this.deps;
    const { limits } = this;

    this.checkMailServer();
    if (this.mailServerDown) {
      throw new ToolError('temporarily_unavailable', 'Verification emails cannot be sent right now. Apologise and suggest trying again in a few minutes.');
    }
    // Claimed atomically: of several concurrent starts in one conversation (on any process), one goes on.
    const cooldownKey = `code-cooldown:${conversation}`;
    if (!(await store.setIfAbsent(cooldownKey, '1', limits.resendCooldownMs))) {
      const cooldownLeft = (await store.ttl(cooldownKey)) ?? limits.resendCooldownMs;
      throw new ToolError('input', `A code was sent less than a minute ago. Ask the customer to check their inbox (and spam folder); a new code can be requested in ${Math.ceil(Math.min(cooldownLeft, limits.resendCooldownMs) / 1000)} seconds.`);
    }
    try {
      // A conversation's first start creates state that lives a day: counted per host key.
      if ((await store.get(`conv-emails:${conversation}`)) === undefined) {
        const owner = conversationOwner(conversation);
        const perDay = limits.conversationsPerHostKeyPerDay ?? CONVERSATIONS_PER_HOST_KEY_PER_DAY;
        if ((await store.increment(`code-conversations:${owner}`, 24 * 3600_000)) > perDay) {
          throw new ToolError(
            'temporarily_unavailable',
            'Verification codes cannot be sent in new conversations right now. The customer can sign in to their account on the website instead, or try again later.',
            { limit: `${perDay} new verification conversations per host key per day`, owner },
          );
        }
      }
      const emailHash = this.emailKey(email);
      const seenKey = `conv-email:${conversation}:${emailHash}`;
      const isNewEmail = await store.setIfAbsent(seenKey, '1', 24 * 3600_000);
      if (isNewEmail && (await store.increment(`conv-emails:${conversation}`, 24 * 3600_000)) > limits.emailsPerConversationPerDay) {
        // Not remembered as seen: otherwise a second try with the same refused address would pass.
        await store.delete(seenKey);
        throw new ToolError('input', 'Too many different email addresses were tried in this conversation. The customer should sign in to their account on the website instead.');
      }
      if ((await store.increment(`email-codes:${emailHash}`, 3600_000)) > limits.codesPerEmailPerHour) {
        throw new ToolError('input', 'Too many codes were requested for this email address. Ask the customer to use the most recent code they received, or to try again in an hour.');
      }
    } catch (error) {
      // A refused start sends nothing, so it starts no cooldown.
      await store.delete(cooldownKey);
      throw error;
    }

    const challenge: Challenge = { id: randomUUID(), email, hash: '', expiresAt: this.now() + limits.codeTtlMs };
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    challenge.hash = this.hash(challenge.id, code);
    // A new challenge replaces the old one: only the latest code works.
    // Wrong guesses are counted per challenge (see confirm), so nothing here resets a budget.
    try {
      await store.set(`code:${conversation}`, JSON.stringify(challenge), limits.codeTtlMs);
    } catch (error) {
      // No room for the code (a full store): nothing is sent, so no cooldown either.
      await store.delete(cooldownKey);
      throw error;
    }

    // Neither the lookup nor the mail is awaited: the answer must not reveal, by content or by
    // timing, whether the address belongs to a customer.
    void this.deliver(email, code);
    return { message: CODE_SENT_MESSAGE, expiresInMinutes: Math.round(limits.codeTtlMs / 60_000) };
  }

  private async deliver(email: string, code: string): Promise<void> {
    try {
      if (!(await this.deps.customerExists(email))) return;
      await this.deps.sendCode({ to: email, code, expiresInMinutes: Math.round(this.limits.codeTtlMs / 60_000) });
    } catch (error) {
      this.deps.log.error({ err: error instanceof Error ? { name: error.name, message: error.message } : String(error) }, 'verification code could not be delivered');
    }
  }

  private checkMailServer(): void {
    const check = this.deps.checkMailServer;
    if (!check || this.now() - this.lastMailCheck < MAIL_CHECK_INTERVAL_MS) return;
    this.lastMailCheck = this.now();
    void check().then(
      () => {
        this.mailServerDown = false;
      },
      (error: unknown) => {
        this.mailServerDown = true;
        this.deps.log.error({ err: error instanceof Error ? { name: error.name, message: error.message } : String(error) }, 'mail server check failed; verification codes cannot be sent');
      },
    );
  }

  async confirm(conversation: string, rawCode: string): Promise<Grant> {
    const code = rawCode.replace(/[\s-]/g, '');
    if (!/^\d{6}$/.test(code)) throw new UserInputError('The code is 6 digits. Ask the customer to copy it exactly from the email.');
    const { store } = this.deps;
    const raw = await store.get(`code:${conversation}`);
    if (!raw) throw new ToolError('input', 'There is no active code in this conversation (it may have expired or been used). Call verify_email_start to send a new one.');
    const challenge = JSON.parse(raw) as Challenge;
    // Every removal below is of THIS challenge only: a newer code sent meanwhile stays usable.
    const forgetThisCode = () => store.compareAndDelete(`code:${conversation}`, raw);
    if (this.now() >= challenge.expiresAt) {
      await forgetThisCode();
      throw new ToolError('input', 'That code has expired. Call verify_email_start to send a new one.');
    }
    // Keyed by challenge: a start racing this confirm cannot reset the count of guesses at its new code.
    const attemptsKey = `code-attempts:${conversation}:${challenge.id}`;
    const attempts = await store.increment(attemptsKey, this.limits.codeTtlMs);
    if (attempts > this.limits.maxAttempts) {
      await forgetThisCode();
      throw new ToolError('input', 'Too many wrong codes. That code no longer works; call verify_email_start to send a new one.');
    }
    const expected = Buffer.from(challenge.hash, 'hex');
    const actual = Buffer.from(this.hash(challenge.id, code), 'hex');
    if (!timingSafeEqual(expected, actual)) {
      const left = this.limits.maxAttempts - attempts;
      if (left <= 0) await forgetThisCode();
      throw new ToolError(
        'input',
        left > 0 ? `That code is not right. ${left} attempt${left === 1 ? '' : 's'} left.` : 'That code is not right, and it no longer works. Call verify_email_start to send a new one.',
      );
    }
    // Single use, even against a concurrent confirm with the same code; a newer code sent
    // meanwhile replaced this one and is left alone.
    if (!(await forgetThisCode())) {
      throw new ToolError('input', 'That code has already been used or replaced by a newer one. Use the most recent code, or call verify_email_start to send a new one.');
    }
    await store.delete(attemptsKey);
    return this.deps.grants.grant(conversation, challenge.email, 'email-code');
  }
}
