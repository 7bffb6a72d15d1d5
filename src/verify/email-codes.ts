import { createHmac, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import { BUSY_MESSAGE, ToolError, UserInputError } from '../errors.js';
import type { Logger } from '../log.js';
import type { StripeWork } from '../stripe/caller-context.js';
import type { GrantStore, Grant } from './grants.js';
import { isPlausibleEmail, normalizeEmail } from './principal.js';
import type { Store } from './store.js';
import { conversationOwner, conversationStore } from './store-quotas.js';

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
  /**
   * Wrong codes one email may take per 24 h, across every conversation and process (default 10).
   * Per-code attempts and per-hour code limits alone still allowed 600 guesses a day at one address.
   */
  wrongCodesPerEmailPerDay?: number;
}

const DAY_MS = 24 * 3600_000;
const CONVERSATIONS_PER_HOST_KEY_PER_DAY = 10_000;
/** After this many wrong codes in 24 h, code verification for that email stops until the 24 h end. */
export const WRONG_CODES_PER_EMAIL_PER_DAY = 10;
const GUESS_WINDOW_MS = DAY_MS;

export const DEFAULT_CODE_LIMITS: CodeLimits = {
  codeTtlMs: 10 * 60_000,
  maxAttempts: 5,
  resendCooldownMs: 60_000,
  codesPerEmailPerHour: 5,
  emailsPerConversationPerDay: 3,
  conversationsPerHostKeyPerDay: CONVERSATIONS_PER_HOST_KEY_PER_DAY,
  wrongCodesPerEmailPerDay: WRONG_CODES_PER_EMAIL_PER_DAY,
};

export interface EmailCodeDependencies {
  store: Store;
  grants: GrantStore;
  /** HMAC key: codes are stored only as keyed hashes. Shared by every process of one deployment. */
  secret: Uint8Array;
  /** Does a Stripe customer use this email? Decides only whether mail is sent. */
  /** `work`: whose look-up it is (the tool call's), for the Stripe request budget. */
  customerExists(email: string, work?: StripeWork): Promise<boolean>;
  /** Sends the code; rejects on delivery failure. */
  sendCode(message: { to: string; code: string; expiresInMinutes: number }): Promise<void>;
  /** Connects and logs in to the mail server, without a recipient; rejects when it cannot. */
  checkMailServer?: () => Promise<void>;
  log: Logger;
  limits?: CodeLimits;
  now?: () => number;
  /** Waits between customer look-ups for a code's delivery (tests shorten them). */
  deliveryRetryDelaysMs?: readonly number[];
}

const describeError = (error: unknown) => (error instanceof Error ? { name: error.name, message: error.message } : String(error));

/** About a minute of retries in all, well inside a code's 10 minutes. */
const DELIVERY_RETRY_DELAYS_MS = [1_000, 2_000, 4_000, 8_000, 15_000, 30_000];

interface Challenge {
  id: string;
  email: string;
  hash: string;
  expiresAt: number;
}

/** The one answer to every accepted start, whether or not the email has a billing account. */
export const CODE_SENT_MESSAGE =
  'If a billing account uses this email address, a 6-digit code is on its way to it. Ask the customer to read the code from that email, then call verify_email_confirm. The code expires in 10 minutes.';

/**
 * The refusal while an email's codes are locked. It depends only on guesses made at that address,
 * never on whether a billing account uses it, so it tells nobody who is a customer.
 */
function codeLockMessage(until: string): string {
  return `Too many wrong codes were entered for this email address, so code verification for it is paused until ${until}. The customer can sign in to their account on the website instead (the chat then knows them), or try again after that time.`;
}

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
  private readonly lockListeners = new Set<() => void>();

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

  private get wrongCodesAllowed(): number {
    return this.limits.wrongCodesPerEmailPerDay ?? WRONG_CODES_PER_EMAIL_PER_DAY;
  }

  /** Told once each time an email's codes become locked (on the one process whose guess locked it). */
  onLock(listener: () => void): void {
    this.lockListeners.add(listener);
  }

  /**
   * Whether code verification for this email is locked, and until when (the panel shows it to staff).
   * The count is of guesses not proven right: each guess is counted before it is checked, so a burst
   * of parallel guesses cannot slip past the limit, and a right one is taken back.
   */
  async lockOf(rawEmail: string): Promise<{ until: string } | undefined> {
    return this.lockOfHash(this.emailKey(normalizeEmail(rawEmail)));
  }

  private async lockOfHash(emailHash: string): Promise<{ until: string } | undefined> {
    const key = `code-guesses:${emailHash}`;
    if (Number((await this.deps.store.get(key)) ?? 0) < this.wrongCodesAllowed) return undefined;
    const left = await this.deps.store.ttl(key);
    return left === undefined ? undefined : { until: new Date(this.now() + Math.min(left, GUESS_WINDOW_MS)).toISOString() };
  }

  /**
   * Locks begun in the current day-long count (its first lock and how many since), for the doctor:
   * a number and a time, never an address.
   */
  async recentLocks(): Promise<{ count: number; since: string } | undefined> {
    const count = Number((await this.deps.store.get('code-locks')) ?? 0);
    const left = await this.deps.store.ttl('code-locks');
    if (count === 0 || left === undefined) return undefined;
    return { count, since: new Date(this.now() + Math.min(left, GUESS_WINDOW_MS) - GUESS_WINDOW_MS).toISOString() };
  }

  /** Takes back a guess counted before it was checked and found right (a compare-and-set decrement). */
  private async forgiveGuess(key: string): Promise<void> {
    const { store } = this.deps;
    for (let tries = 0; tries < 5; tries++) {
      const value = await store.get(key);
      const left = await store.ttl(key);
      if (value === undefined || left === undefined || Number(value) <= 0) return;
      if (await store.compareAndSet(key, value, String(Number(value) - 1), Math.min(left, GUESS_WINDOW_MS))) return;
    }
  }

  private async lockBegan(): Promise<void> {
    await this.deps.store.increment('code-locks', GUESS_WINDOW_MS).catch(() => undefined);
    this.deps.log.warn({ event: 'code verification locked', limit: `${this.wrongCodesAllowed} wrong codes per email per 24 h` }, 'code verification locked for an email address');
    for (const listener of this.lockListeners) listener();
  }

  async start(conversation: string, rawEmail: string, work?: StripeWork): Promise<{ message: string; expiresInMinutes: number }> {
    const trimmed = rawEmail.trim();
    if (!isPlausibleEmail(trimmed)) throw new UserInputError('That does not look like an email address. Ask the customer to check it (for example name@example.com).');
    const email = normalizeEmail(trimmed);
    // What this conversation creates is charged to its host key, which may hold only its share.
    const store = conversationStore(this.deps.store, conversation);
    const { limits } = this;
    // A locked address gets no new code: it could not be confirmed anyway.
    const lock = await this.lockOfHash(this.emailKey(email));
    if (lock) throw new ToolError('input', codeLockMessage(lock.until));

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
        if ((await store.increment(`code-conversations:${owner}`, DAY_MS)) > perDay) {
          throw new ToolError(
            'temporarily_unavailable',
            'Verification codes cannot be sent in new conversations right now. The customer can sign in to their account on the website instead, or try again later.',
            { limit: `${perDay} new verification conversations per host key per day`, owner },
          );
        }
      }
      const emailHash = this.emailKey(email);
      await this.rememberEmailTried(store, conversation, emailHash);
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
    void this.deliver(email, code, work);
    return { message: CODE_SENT_MESSAGE, expiresInMinutes: Math.round(limits.codeTtlMs / 60_000) };
  }

  /**
   * The addresses a conversation tried today, kept as ONE entry (a comma list of their HMACs): the
   * only day-long state a start leaves, so a host key's share of the store holds as many
   * conversations as it can. Starts in one conversation are already serialised by the cooldown
   * claim; the compare-and-set covers a store shared with an older process all the same.
   */
  private async rememberEmailTried(store: Store, conversation: string, emailHash: string): Promise<void> {
    const key = `conv-emails:${conversation}`;
    for (let attempt = 0; attempt < 8; attempt++) {
      const current = await store.get(key);
      const tried = current ? current.split(',') : [];
      if (tried.includes(emailHash)) return;
      if (tried.length >= this.limits.emailsPerConversationPerDay) {
        throw new ToolError('input', 'Too many different email addresses were tried in this conversation. The customer should sign in to their account on the website instead.');
      }
      const next = [...tried, emailHash].join(',');
      const saved = current === undefined ? await store.setIfAbsent(key, next, DAY_MS) : await store.compareAndSet(key, current, next, (await store.ttl(key)) ?? DAY_MS);
      if (saved) return;
    }
    throw new ToolError('busy', BUSY_MESSAGE, { contention: key });
  }

  /**
   * The visitor was told a code is on its way, so a passing failure of the customer look-up
   * (Stripe's request budget used up by a cold start, a 5xx) is tried again while the code is
   * young, instead of leaving them waiting for a mail that never comes. A set-up error is not
   * retried, and neither is the mail: the mailer reports its own failures and the mail-server
   * check then refuses new starts.
   */
  private async deliver(email: string, code: string, work: StripeWork | undefined): Promise<void> {
    try {
      if (!(await this.lookUpWithRetries(email, work))) return;
      await this.deps.sendCode({ to: email, code, expiresInMinutes: Math.round(this.limits.codeTtlMs / 60_000) });
    } catch (error) {
      this.deps.log.error({ err: describeError(error) }, 'verification code could not be delivered');
    }
  }

  private async lookUpWithRetries(email: string, work: StripeWork | undefined): Promise<boolean> {
    const delays = this.deps.deliveryRetryDelaysMs ?? DELIVERY_RETRY_DELAYS_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.deps.customerExists(email, work);
      } catch (error) {
        const lasting = error instanceof ToolError && (error.kind === 'configuration' || error.kind === 'not_available' || error.kind === 'input');
        const delay = delays[attempt];
        if (lasting || delay === undefined) throw error;
        this.deps.log.warn({ err: describeError(error), attempt: attempt + 1, retryInMs: delay }, 'customer look-up for a verification code failed; trying again');
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
      }
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
    const store = conversationStore(this.deps.store, conversation);
    const raw = await store.get(`code:${conversation}`);
    if (!raw) throw new ToolError('input', 'There is no active code in this conversation (it may have expired or been used). Call verify_email_start to send a new one.');
    const challenge = JSON.parse(raw) as Challenge;
    // Every removal below is of THIS challenge only: a newer code sent meanwhile stays usable.
    const forgetThisCode = () => store.compareAndDelete(`code:${conversation}`, raw);
    if (this.now() >= challenge.expiresAt) {
      await forgetThisCode();
      throw new ToolError('input', 'That code has expired. Call verify_email_start to send a new one.');
    }
    const emailHash = this.emailKey(challenge.email);
    const locked = async () => {
      await forgetThisCode();
      const lock = await this.lockOfHash(emailHash);
      return new ToolError('input', codeLockMessage(lock?.until ?? new Date(this.now() + GUESS_WINDOW_MS).toISOString()));
    };
    if (await this.lockOfHash(emailHash)) throw await locked();
    // Keyed by challenge: a start racing this confirm cannot reset the count of guesses at its new code.
    const attemptsKey = `code-attempts:${conversation}:${challenge.id}`;
    const attempts = await store.increment(attemptsKey, this.limits.codeTtlMs);
    if (attempts > this.limits.maxAttempts) {
      await forgetThisCode();
      throw new ToolError('input', 'Too many wrong codes. That code no longer works; call verify_email_start to send a new one.');
    }
    // Counted per email before the check, across every conversation and process.
    const guessesKey = `code-guesses:${emailHash}`;
    const guesses = await store.increment(guessesKey, GUESS_WINDOW_MS);
    if (guesses > this.wrongCodesAllowed) throw await locked();
    const expected = Buffer.from(challenge.hash, 'hex');
    const actual = Buffer.from(this.hash(challenge.id, code), 'hex');
    if (!timingSafeEqual(expected, actual)) {
      if (guesses === this.wrongCodesAllowed) {
        await this.lockBegan();
        throw await locked();
      }
      const left = this.limits.maxAttempts - attempts;
      if (left <= 0) await forgetThisCode();
      throw new ToolError(
        'input',
        left > 0 ? `That code is not right. ${left} attempt${left === 1 ? '' : 's'} left.` : 'That code is not right, and it no longer works. Call verify_email_start to send a new one.',
      );
    }
    // Single use, even against a concurrent confirm with the same code; a newer code sent
    // meanwhile replaced this one and is left alone.
    await this.forgiveGuess(guessesKey);
    if (!(await forgetThisCode())) {
      throw new ToolError('input', 'That code has already been used or replaced by a newer one. Use the most recent code, or call verify_email_start to send a new one.');
    }
    await store.delete(attemptsKey);
    return this.deps.grants.grant(conversation, challenge.email, 'email-code');
  }
}
