/**
 * Where the Stripe request budget's sliding windows live: in this process, or in Redis so that
 * every process counts against one budget. One atomic operation, "take one from each bucket, or
 * say how long to wait", plus the two notes the budget shares between processes: answers are
 * active (background reads hold back) and which callers are waiting for room (shares stop being
 * lent).
 */
import { LazyRedisClient } from '../redis-client.js';

export const WINDOW_MS = 1_100;

export interface Bucket {
  key: string;
  limit: number;
  /** For logs and errors: which limit it is, without ids. */
  label: string;
  /**
   * A caller's share (CALLER_STRIPE_SHARE). Its takes are always counted, but its limit holds only
   * while another caller waits for room (TakeOptions.lending); until then the caller is lent the
   * rest of the budget that nobody else is asking for.
   */
  share?: boolean;
}

export interface TakeOptions {
  /** Take nothing while this mark (see `mark`) is set. */
  unlessMarked?: string;
  /**
   * Share buckets hold only while a caller other than `caller` is listed in `waiters` (see
   * `listWaiting`); without this option they always hold.
   */
  lending?: { waiters: string; caller: string };
}

export interface WindowBackend {
  /** 0: taken from every bucket; otherwise ms until all of them have room (nothing taken). */
  tryTake(buckets: readonly Bucket[], options?: TakeOptions): Promise<number>;
  /** Sets a mark for `ttlMs` (answers are active: see StripeRateBudget). */
  mark(key: string, ttlMs: number): Promise<void>;
  /**
   * Lists `member` (`<budget id>|<caller>`) as waiting for room in `waiters` for `ttlMs`; 0 takes it
   * off. Per budget, so one process taking its caller off leaves another's listing alone.
   */
  listWaiting(waiters: string, member: string, ttlMs: number): Promise<void>;
  /** Fills a bucket for one window: Stripe said it is over this limit. */
  fill(bucket: Bucket): Promise<void>;
  close(): Promise<void>;
}

/** The caller of a waiting list's member: what follows the budget id. */
const callerOf = (member: string) => member.slice(member.indexOf('|') + 1);

export class MemoryWindows implements WindowBackend {
  private readonly logs = new Map<string, number[]>();
  private readonly marks = new Map<string, number>();
  private readonly waiting = new Map<string, Map<string, number>>();

  /** `now`: tests move the clock that the windows slide by. */
  constructor(private readonly now: () => number = Date.now) {}

  async mark(key: string, ttlMs: number): Promise<void> {
    this.marks.set(key, this.now() + ttlMs);
  }

  async listWaiting(waiters: string, member: string, ttlMs: number): Promise<void> {
    let listed = this.waiting.get(waiters);
    if (!listed) this.waiting.set(waiters, (listed = new Map()));
    if (ttlMs > 0) listed.set(member, this.now() + ttlMs);
    else listed.delete(member);
    if (listed.size === 0) this.waiting.delete(waiters);
  }

  async tryTake(buckets: readonly Bucket[], options: TakeOptions = {}): Promise<number> {
    const now = this.now();
    if (options.unlessMarked !== undefined) {
      const until = this.marks.get(options.unlessMarked) ?? 0;
      if (until > now) return until - now;
    }
    const sharesHold = this.sharesHold(options, now);
    this.forgetIdle(now);
    const logs = buckets.map((bucket) => this.prune(bucket.key, now));
    let wait = 0;
    buckets.forEach((bucket, i) => {
      const log = logs[i]!;
      if (bucket.share && !sharesHold) return;
      if (log.length >= bucket.limit) wait = Math.max(wait, log[log.length - bucket.limit]! + WINDOW_MS - now);
    });
    if (wait > 0) return Math.max(1, wait);
    for (const log of logs) log.push(now);
    return 0;
  }

  async fill(bucket: Bucket): Promise<void> {
    const now = this.now();
    const log = this.prune(bucket.key, now);
    while (log.length < bucket.limit) log.push(now);
  }

  async close(): Promise<void> {
    this.logs.clear();
  }

  /** Another caller than the one taking is listed as waiting (expired listings are dropped). */
  private sharesHold(options: TakeOptions, now: number): boolean {
    if (!options.lending) return true;
    const listed = this.waiting.get(options.lending.waiters);
    if (!listed) return false;
    let hold = false;
    for (const [member, until] of listed) {
      if (until <= now) listed.delete(member);
      else if (callerOf(member) !== options.lending.caller) hold = true;
    }
    return hold;
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

/** How long this process's "my takes are in Redis" note lives without a take to renew it. */
const ALIVE_MS = 60_000;

/**
 * KEYS: the buckets, then the mark (when ARGV[4] is 1), the waiting list (when ARGV[5] is not
 * empty), and last this process's "alive" note. ARGV: window, member, bucket count, marked,
 * caller, then limit and share (1/0) per bucket. Redis's clock, so every process agrees.
 *
 * Replies {0, now} when taken, {ms} to wait, or {-1} when the alive note was missing: Redis lost
 * the windows (a flush, a restart) or this process is new, and its recent takes must be put back
 * first (RedisWindows.restore), or every process would start again from an empty window while
 * Stripe still counts what they sent.
 */
const TAKE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local n = tonumber(ARGV[3])
local alive = KEYS[#KEYS]
if not redis.call('SET', alive, '1', 'PX', ${ALIVE_MS}, 'XX') then
  redis.call('SET', alive, '1', 'PX', ${ALIVE_MS})
  return {-1}
end
local next_key = n + 1
if ARGV[4] == '1' then
  local held = redis.call('PTTL', KEYS[next_key])
  next_key = next_key + 1
  if held > 0 then return {held} end
end
local shares_hold = true
if ARGV[5] ~= '' then
  local waiters = KEYS[next_key]
  redis.call('ZREMRANGEBYSCORE', waiters, '-inf', now)
  shares_hold = false
  for _, m in ipairs(redis.call('ZRANGE', waiters, 0, -1)) do
    local bar = string.find(m, '|', 1, true)
    if bar and string.sub(m, bar + 1) ~= ARGV[5] then
      shares_hold = true
      break
    end
  end
end
local wait = 0
for i = 1, n do
  local key = KEYS[i]
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local limit = tonumber(ARGV[4 + 2 * i])
  if shares_hold or ARGV[5 + 2 * i] ~= '1' then
    local count = redis.call('ZCARD', key)
    if count >= limit then
      local freeing = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
      local until_free = tonumber(freeing[2]) + window - now
      if until_free > wait then wait = until_free end
    end
  end
end
if wait > 0 then return {math.max(1, wait)} end
for i = 1, n do
  redis.call('ZADD', KEYS[i], now, ARGV[2] .. ':' .. i)
  redis.call('PEXPIRE', KEYS[i], window * 2)
end
return {0, now}
`;

/** KEYS: the waiting list; ARGV: member, ttl (0: take it off). */
const LIST_WAITING_SCRIPT = `
local ttl = tonumber(ARGV[2])
if ttl <= 0 then return redis.call('ZREM', KEYS[1], ARGV[1]) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl * 2)
return 1
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

interface Taken {
  /** Redis time of the take. */
  at: number;
  member: string;
}

export class RedisWindows implements WindowBackend {
  private readonly redis: LazyRedisClient;
  /** This process's takes of the last window, by Redis key: what it puts back when Redis lost them. */
  private readonly recent = new Map<string, Taken[]>();
  private readonly alive = `alive:${process.pid}.${Math.random().toString(36).slice(2, 10)}`;

  constructor(url: string, private readonly keyPrefix = 'sbm:rl:') {
    this.redis = new LazyRedisClient(url, { connectTimeout: 2_000, maxRetriesPerRequest: 1, commandTimeout: 1_000 });
  }

  async tryTake(buckets: readonly Bucket[], options: TakeOptions = {}): Promise<number> {
    const keys = buckets.map((b) => this.keyPrefix + b.key);
    const extraKeys = [
      ...(options.unlessMarked !== undefined ? [this.keyPrefix + options.unlessMarked] : []),
      ...(options.lending ? [this.keyPrefix + options.lending.waiters] : []),
      this.keyPrefix + this.alive,
    ];
    const id = member();
    const args = [WINDOW_MS, id, buckets.length, options.unlessMarked !== undefined ? 1 : 0, options.lending?.caller ?? '', ...buckets.flatMap((b) => [b.limit, b.share ? 1 : 0])];
    const redis = await this.redis.get();
    for (let attempt = 0; ; attempt++) {
      const [code, at] = ((await redis.eval(TAKE_SCRIPT, keys.length + extraKeys.length, ...keys, ...extraKeys, ...args)) as number[]).map(Number);
      if (code === -1 && attempt === 0) {
        await this.restore();
        continue;
      }
      if (code !== 0) return Math.max(1, code ?? 1);
      this.remember(keys, id, at!);
      return 0;
    }
  }

  async mark(key: string, ttlMs: number): Promise<void> {
    await (await this.redis.get()).set(this.keyPrefix + key, '1', 'PX', Math.max(1, Math.ceil(ttlMs)));
  }

  async listWaiting(waiters: string, entry: string, ttlMs: number): Promise<void> {
    await (await this.redis.get()).eval(LIST_WAITING_SCRIPT, 1, this.keyPrefix + waiters, entry, Math.max(0, Math.ceil(ttlMs)));
  }

  async fill(bucket: Bucket): Promise<void> {
    await (await this.redis.get()).eval(FILL_SCRIPT, 1, this.keyPrefix + bucket.key, WINDOW_MS, member(), bucket.limit);
  }

  async close(): Promise<void> {
    this.recent.clear();
    await this.redis.close();
  }

  private remember(keys: readonly string[], id: string, at: number): void {
    this.forgetOld(at);
    keys.forEach((key, i) => {
      let taken = this.recent.get(key);
      if (!taken) this.recent.set(key, (taken = []));
      taken.push({ at, member: `${id}:${i + 1}` });
    });
  }

  /** Drops takes older than a window (by the latest Redis time seen), at most four times a window. */
  private lastSweep = 0;
  private forgetOld(now: number): void {
    if (now - this.lastSweep < WINDOW_MS / 4) return;
    this.lastSweep = now;
    for (const [key, taken] of this.recent) {
      let drop = 0;
      while (drop < taken.length && taken[drop]!.at <= now - WINDOW_MS) drop++;
      if (drop === taken.length) this.recent.delete(key);
      else if (drop > 0) taken.splice(0, drop);
    }
  }

  /**
   * Puts this process's takes of the last window back (same members: adding one twice is
   * harmless). Each process has its own alive note, so each puts back its own part.
   */
  private async restore(): Promise<void> {
    if (this.recent.size === 0) return;
    const batch = (await this.redis.get()).multi();
    for (const [key, taken] of this.recent) {
      batch.zadd(key, ...taken.flatMap((take) => [take.at, take.member]));
      batch.pexpire(key, WINDOW_MS * 2);
    }
    await batch.exec();
  }
}
