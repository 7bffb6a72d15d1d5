/**
 * The Stripe request budget of one Stripe key, shared by every process (Redis) or kept in this
 * process. Stripe limits an account across all its processes: 25 requests/s in a sandbox or 100
 * live, 25/s per endpoint, 20 searches/s. Ours is a sliding window log: no span of WINDOW_MS ever
 * passes more than a limit, which a token bucket of one second's worth (Stripe's limiter)
 * always accepts, with 10 % of slack for the time a request takes to reach Stripe.
 *
 * A request waits briefly for room (MAX_WAIT_MS), then fails as "busy" instead of drawing a 429.
 * Each caller (host key, staff key) also has a share of the budget, so one caller's flood leaves
 * room for everyone else.
 */
import { LazyRedisClient } from '../redis-client.js';

export const WINDOW_MS = 1_100;
const MAX_WAIT_MS = 5_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
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

/** Where the windows live: one atomic "take one from each, or say how long to wait". */
export interface WindowBackend {
  /** 0: taken from every bucket; otherwise ms until all of them have room (nothing taken). */
  tryTake(buckets: readonly Bucket[]): Promise<number>;
  /** Fills a bucket for one window: Stripe said it is over this limit. */
  fill(bucket: Bucket): Promise<void>;
  close(): Promise<void>;
}

export class MemoryWindows implements WindowBackend {
  private readonly logs = new Map<string, number[]>();

  async tryTake(buckets: readonly Bucket[]): Promise<number> {
    const now = Date.now();
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

/** KEYS: buckets; ARGV: window, member, limit per bucket. Redis's clock, so every process agrees. */
const TAKE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
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
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[2] .. ':' .. i)
  redis.call('PEXPIRE', key, window * 2)
end
return 0
`;

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

  async tryTake(buckets: readonly Bucket[]): Promise<number> {
    const reply = await (await this.redis.get()).eval(TAKE_SCRIPT, buckets.length, ...buckets.map((b) => this.keyPrefix + b.key), WINDOW_MS, member(), ...buckets.map((b) => b.limit));
    return Number(reply);
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

  /** Waits for room in every bucket, at most MAX_WAIT_MS; then StripeBudgetExhausted. */
  async acquire(method: string, path: string, caller: string | undefined): Promise<void> {
    const buckets = this.bucketsFor(method, path, caller);
    const deadline = Date.now() + this.maxWaitMs;
    for (;;) {
      const wait = await this.windows.tryTake(buckets);
      if (wait === 0) return;
      if (Date.now() + wait > deadline) throw new StripeBudgetExhausted(buckets.map((b) => b.label).join(', '), wait);
      // A little jitter, so waiters spread over the freed slots instead of racing for the first.
      await sleep(wait + Math.floor(Math.random() * 25));
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
