/**
 * The Stripe request budget of one Stripe key, shared by every process (Redis) or kept in this
 * process. Stripe limits an account across all its processes: 25 requests/s in a sandbox or 100
 * live, 25/s per endpoint, 20 searches/s. Ours is a sliding window log: no span of WINDOW_MS ever
 * passes more than a limit, which a token bucket of one second's worth (Stripe's limiter)
 * always accepts, with 10 % of slack for the time a request takes to reach Stripe.
 *
 * A request waits briefly for room (MAX_WAIT_MS), then fails as "busy" instead of drawing a 429.
 * Each caller (host key, staff key) also has a share of the budget, so one caller's flood leaves
 * room for everyone else. Requests waiting in this process are admitted round-robin by caller, and
 * background reads (warming, revalidation) only when no answer is waiting here or in any other
 * process sharing the windows, and only while a reserve of the global limit stays free.
 */
import { LazyRedisClient } from '../redis-client.js';
import type { StripeWork } from './caller-context.js';

export const WINDOW_MS = 1_100;
const MAX_WAIT_MS = 5_000;
const SEARCH_LIMIT = 20;
const ENDPOINT_LIMIT = 25;

/** The budget ran out for longer than a caller may wait. */
export class StripeBudgetExhausted extends Error {
  constructor(
    readonly bucket: string,
    readonly retryAfterMs: number,
  ) {
    super(`Stripe request budget exhausted (${bucket})`);
    this.name = 'StripeBudgetExhausted';
  }
}

export interface Bucket {
  key: string;
  limit: number;
  /** For logs and errors: which limit it is, without ids. */
  label: string;
}

/**
 * Share of the global limit background reads leave free for answers (of other processes too): a
 * slot taken now is gone for a whole window, so background reads stay well clear of the limit.
 */
const BACKGROUND_RESERVE = 0.5;
/** How long an answer's request (made or waiting) holds background reads back, in every process: a window. */
const ANSWERS_ACTIVE_MS = WINDOW_MS;

/** Where the windows live: one atomic "take one from each, or say how long to wait". */
export interface WindowBackend {
  /**
   * 0: taken from every bucket; otherwise ms until all of them have room (nothing taken).
   * `unlessMarked`: take nothing while that mark (see `mark`) is set.
   */
  tryTake(buckets: readonly Bucket[], unlessMarked?: string): Promise<number>;
  /** Sets a mark for `ttlMs` (answers are waiting: see StripeRateBudget). */
  mark(key: string, ttlMs: number): Promise<void>;
  /** Fills a bucket for one window: Stripe said it is over this limit. */
  fill(bucket: Bucket): Promise<void>;
  close(): Promise<void>;
}

export class MemoryWindows implements WindowBackend {
  private readonly logs = new Map<string, number[]>();
  private readonly marks = new Map<string, number>();

  async mark(key: string, ttlMs: number): Promise<void> {
    this.marks.set(key, Date.now() + ttlMs);
  }

  async tryTake(buckets: readonly Bucket[], unlessMarked?: string): Promise<number> {
    const now = Date.now();
    if (unlessMarked !== undefined) {
      const until = this.marks.get(unlessMarked) ?? 0;
      if (until > now) return until - now;
    }
    this.forgetIdle(now);
    const logs = buckets.map((bucket) => this.prune(bucket.key, now));
    let wait = 0;
    buckets.forEach((bucket, i) => {
      const log = logs[i]!;
      if (log.length >= bucket.limit) wait = Math.max(wait, log[log.length - bucket.limit]! + WINDOW_MS - now);
    });
    if (wait > 0) return Math.max(1, wait);
    for (const log of logs) log.push(now);
    return 0;
  }

  async fill(bucket: Bucket): Promise<void> {
    const now = Date.now();
    const log = this.prune(bucket.key, now);
    while (log.length < bucket.limit) log.push(now);
  }

  async close(): Promise<void> {
    this.logs.clear();
  }

  private prune(key: string, now: number): number[] {
    let log = this.logs.get(key);
    if (!log) this.logs.set(key, (log = []));
    let drop = 0;
    while (drop < log.length && log[drop]! <= now - WINDOW_MS) drop++;
    if (drop > 0) log.splice(0, drop);
    return log;
  }

  /** Buckets of callers and endpoints gone quiet do not stay in memory: swept once a window. */
  private lastSweep = 0;
  private forgetIdle(now: number): void {
    if (now - this.lastSweep < WINDOW_MS) return;
    this.lastSweep = now;
    for (const [key, log] of this.logs) if (log.length === 0 || log[log.length - 1]! <= now - WINDOW_MS) this.logs.delete(key);
  }
}

/**
 * KEYS: buckets; ARGV: window, member, limit per bucket. Redis's clock, so every process agrees.
 * The marked variant has the mark as its last key: while it exists, nothing is taken.
 */
const takeScript = (marked: boolean) => `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local n = #KEYS
${marked ? `n = n - 1
local held = redis.call('PTTL', KEYS[#KEYS])
if held > 0 then return held end` : ''}
local wait = 0
for i = 1, n do
  local key = KEYS[i]
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local limit = tonumber(ARGV[i + 2])
  local count = redis.call('ZCARD', key)
  if count >= limit then
    local freeing = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    local until_free = tonumber(freeing[2]) + window - now
    if until_free > wait then wait = until_free end
  end
end
if wait > 0 then return math.max(1, wait) end
for i = 1, n do
  redis.call('ZADD', KEYS[i], now, ARGV[2] .. ':' .. i)
  redis.call('PEXPIRE', KEYS[i], window * 2)
end
return 0
`;
const TAKE_SCRIPT = takeScript(false);
const TAKE_UNLESS_MARKED_SCRIPT = takeScript(true);

/** KEYS: bucket; ARGV: window, member prefix, limit. */
const FILL_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local missing = tonumber(ARGV[3]) - redis.call('ZCARD', KEYS[1])
for i = 1, missing do redis.call('ZADD', KEYS[1], now, ARGV[2] .. ':' .. i) end
redis.call('PEXPIRE', KEYS[1], window * 2)
return missing
`;

let sequence = 0;
const member = () => `${process.pid}.${Date.now().toString(36)}.${(sequence++).toString(36)}.${Math.random().toString(36).slice(2, 6)}`;

export class RedisWindows implements WindowBackend {
  private readonly redis: LazyRedisClient;

  constructor(url: string, private readonly keyPrefix = 'sbm:rl:') {
    this.redis = new LazyRedisClient(url, { connectTimeout: 2_000, maxRetriesPerRequest: 1, commandTimeout: 1_000 });
  }

  async tryTake(buckets: readonly Bucket[], unlessMarked?: string): Promise<number> {
    const keys = buckets.map((b) => this.keyPrefix + b.key);
    const redis = await this.redis.get();
    const reply =
      unlessMarked === undefined
        ? await redis.eval(TAKE_SCRIPT, keys.length, ...keys, WINDOW_MS, member(), ...buckets.map((b) => b.limit))
        : await redis.eval(TAKE_UNLESS_MARKED_SCRIPT, keys.length + 1, ...keys, this.keyPrefix + unlessMarked, WINDOW_MS, member(), ...buckets.map((b) => b.limit));
    return Number(reply);
  }

  async mark(key: string, ttlMs: number): Promise<void> {
    await (await this.redis.get()).set(this.keyPrefix + key, '1', 'PX', Math.max(1, Math.ceil(ttlMs)));
  }

  async fill(bucket: Bucket): Promise<void> {
    await (await this.redis.get()).eval(FILL_SCRIPT, 1, this.keyPrefix + bucket.key, WINDOW_MS, member(), bucket.limit);
  }

  async close(): Promise<void> {
    await this.redis.close();
  }
}

export interface BudgetLimits {
  /** Requests per second this deployment may spend on the key (STRIPE_RATE_LIMIT). */
  global: number;
  /** Percent of each limit one caller may take (CALLER_STRIPE_SHARE). */
  callerSharePercent: number;
  /** Stripe's per-endpoint and search limits (25/s, 20/s); only tests raise them. */
  endpoint?: number;
  search?: number;
}

/** `GET /v1/customers/cus_123/balance_transactions` → `GET /v1/customers/{id}/balance_transactions`: Stripe's endpoints. */
export function endpointOf(method: string, path: string): string {
  const [, version = '', ...rest] = path.split('?')[0]!.split('/');
  // Ids carry digits or capitals (cus_NffrFeUfNV2Hib); path words are lower case (balance_transactions).
  const named = rest.map((segment) => (/[0-9A-Z]/.test(segment) ? '{id}' : segment));
  return `${method.toUpperCase()} /${[version, ...named].join('/')}`;
}

export interface RateLimitEvent {
  /** Stripe-Rate-Limited-Reason, or `unspecified`. */
  reason: string;
  endpoint: string;
  /** `retried`, or `gave_up` once the retries or their time ran out. */
  outcome: 'retried' | 'gave_up';
}

interface Waiter {
  buckets: Bucket[];
  work: StripeWork | undefined;
  deadline: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class StripeRateBudget {
  /** Told of every 429 Stripe sent despite the budget (logs, metrics). */
  private readonly observers = new Set<(event: RateLimitEvent) => void>();

  constructor(
    private readonly windows: WindowBackend,
    private readonly scope: string,
    private readonly limits: BudgetLimits,
    /** How long a request may wait for room before the call answers busy. */
    private readonly maxWaitMs = MAX_WAIT_MS,
  ) {}

  /** Every limit a request counts against: the key's, its endpoint's, search's, and the caller's share of them. */
  bucketsFor(method: string, path: string, caller: string | undefined): Bucket[] {
    const endpoint = endpointOf(method, path);
    const search = endpoint.endsWith('/search');
    const share = (limit: number) => Math.max(1, Math.floor((limit * this.limits.callerSharePercent) / 100));
    const global = this.limits.global;
    const searchLimit = Math.min(this.limits.search ?? SEARCH_LIMIT, global);
    const buckets: Bucket[] = [
      { key: `${this.scope}:global`, limit: global, label: 'global' },
      { key: `${this.scope}:ep:${endpoint}`, limit: Math.min(this.limits.endpoint ?? ENDPOINT_LIMIT, global), label: 'endpoint' },
    ];
    if (search) buckets.push({ key: `${this.scope}:search`, limit: searchLimit, label: 'search' });
    if (caller && this.limits.callerSharePercent < 100) {
      buckets.push({ key: `${this.scope}:caller:${caller}`, limit: share(global), label: 'caller share' });
      if (search) buckets.push({ key: `${this.scope}:caller-search:${caller}`, limit: share(searchLimit), label: 'caller search share' });
    }
    return buckets;
  }

  /**
   * Waits for room in every bucket, at most MAX_WAIT_MS; then StripeBudgetExhausted. Waiting
   * requests are admitted round-robin by caller; background work only when no answer's request
   * was made or waited for within the last window, in any process sharing the windows.
   */
  async acquire(method: string, path: string, caller: string | undefined, work?: StripeWork): Promise<void> {
    const buckets = this.bucketsFor(method, path, caller);
    const background = work?.background === true;
    // Answers are being read: background reads everywhere hold back for a window.
    if (!background) this.noteAnswersActive();
    // Nobody waits here: no turn to keep, take room at once if there is some.
    if (this.waiting === 0) {
      const wait = background ? await this.windows.tryTake(this.backgroundBuckets(buckets), this.answersWaitingMark) : await this.windows.tryTake(buckets);
      if (wait === 0) return;
      if (!background && wait > this.maxWaitMs) throw new StripeBudgetExhausted(buckets.map((b) => b.label).join(', '), wait);
    }
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { buckets, work, deadline: Date.now() + this.maxWaitMs, resolve, reject };
      this.enqueue(caller ?? '', waiter);
      this.wake?.();
      if (!this.pumping) void this.pump();
    });
  }

  /** Waiting requests by caller; Map order is the rotation (a caller served goes to the back). */
  private readonly answers = new Map<string, Waiter[]>();
  private readonly background: Waiter[] = [];
  private waiting = 0;
  private pumping = false;
  private wake: (() => void) | undefined;
  private lastMarked = 0;

  private get answersWaitingMark(): string {
    return `${this.scope}:answers-waiting`;
  }

  /** Marks "answers active" for a window, at most a few times a window (one Redis write each). */
  private noteAnswersActive(): void {
    if (Date.now() - this.lastMarked < ANSWERS_ACTIVE_MS / 4) return;
    this.lastMarked = Date.now();
    this.windows.mark(this.answersWaitingMark, ANSWERS_ACTIVE_MS).catch(() => {});
  }

  /** Background reads leave BACKGROUND_RESERVE of the global limit to answers. */
  private backgroundBuckets(buckets: Bucket[]): Bucket[] {
    return buckets.map((b) => (b.label === 'global' ? { ...b, limit: Math.max(1, Math.floor(b.limit * (1 - BACKGROUND_RESERVE))) } : b));
  }

  private enqueue(caller: string, waiter: Waiter): void {
    this.waiting++;
    if (waiter.work?.background) {
      this.background.push(waiter);
      return;
    }
    const queue = this.answers.get(caller);
    if (queue) queue.push(waiter);
    else this.answers.set(caller, [waiter]);
  }

  /** One loop per process while anything waits: admits in turn, sleeps until room, refuses past deadlines. */
  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.waiting > 0) {
        // A background read an answer now waits for (it joined it) is an answer.
        for (let i = this.background.length - 1; i >= 0; i--) {
          const waiter = this.background[i]!;
          if (waiter.work?.background) continue;
          this.background.splice(i, 1);
          this.waiting--;
          waiter.deadline = Date.now() + this.maxWaitMs;
          this.enqueue(waiter.work?.caller ?? '', waiter);
        }
        let soonest = Infinity;
        let admitted = false;
        for (const [caller, queue] of this.answers) {
          const waiter = queue[0]!;
          const wait = await this.tryTake(waiter.buckets);
          if (wait === 0) {
            queue.shift();
            this.answers.delete(caller);
            if (queue.length > 0) this.answers.set(caller, queue);
            this.admit(waiter);
            admitted = true;
            break;
          }
          soonest = Math.min(soonest, wait);
          this.refuseLate(queue, wait);
          if (queue.length === 0) this.answers.delete(caller);
        }
        if (admitted) continue;
        if (this.answers.size > 0) {
          // Other processes' background reads hold back while answers wait here.
          this.noteAnswersActive();
        } else if (this.background.length > 0) {
          const waiter = this.background[0]!;
          const wait = await this.tryTake(this.backgroundBuckets(waiter.buckets), this.answersWaitingMark);
          if (wait === 0) {
            this.background.shift();
            this.admit(waiter);
            continue;
          }
          soonest = Math.min(soonest, wait);
          this.refuseLate(this.background, wait);
        }
        if (this.waiting === 0) break;
        // A little jitter, so processes spread over the freed slots instead of racing for the first.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, (Number.isFinite(soonest) ? soonest : 1) + Math.floor(Math.random() * 25));
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    } finally {
      this.pumping = false;
    }
  }

  /** The windows unreachable (Redis down): admit; Stripe's own limit and our 429 retries still hold. */
  private async tryTake(buckets: Bucket[], unlessMarked?: string): Promise<number> {
    try {
      return await this.windows.tryTake(buckets, unlessMarked);
    } catch {
      return 0;
    }
  }

  private admit(waiter: Waiter): void {
    this.waiting--;
    waiter.resolve();
  }

  /** Waiters whose deadline comes before room would: busy now, not after waiting in vain. */
  private refuseLate(queue: Waiter[], wait: number): void {
    const now = Date.now();
    for (let i = queue.length - 1; i >= 0; i--) {
      const waiter = queue[i]!;
      if (now + wait <= waiter.deadline) continue;
      queue.splice(i, 1);
      this.waiting--;
      waiter.reject(new StripeBudgetExhausted(waiter.buckets.map((b) => b.label).join(', '), wait));
    }
  }

  /** Stripe answered 429 for this limit: leave it alone for one window, in every process. */
  async slowDown(reason: string, method: string, path: string): Promise<void> {
    const label = reason === 'global-rate' ? 'global' : reason === 'endpoint-rate' ? 'endpoint' : undefined;
    const bucket = this.bucketsFor(method, path, undefined).find((b) => b.label === label);
    if (bucket) await this.windows.fill(bucket);
  }

  onRateLimited(observer: (event: RateLimitEvent) => void): void {
    this.observers.add(observer);
  }

  reportRateLimited(event: RateLimitEvent): void {
    for (const observer of this.observers) observer(event);
  }

  close(): Promise<void> {
    return this.windows.close();
  }
}
