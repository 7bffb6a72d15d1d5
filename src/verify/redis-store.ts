import type { Redis } from 'ioredis';
import { LazyRedisClient } from '../redis-client.js';
import { DEFAULT_MEMORY_STORE_CAPACITY, StoreFullError } from './memory-store.js';
import type { Store } from './store.js';
import { withOwner, type StoreOwner } from './store-quotas.js';

/** Counts, and starts the expiry only on the first hit so a window is never extended. */
const INCREMENT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return count
`;

/** Now in ms on Redis's own clock, the one every process and every expiry shares. */
const NOW_MS = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
`;

/**
 * A write by a view with owners. KEYS[1] is the key; KEYS[2..] are the owners' sorted sets (member:
 * key, score: when it expires): the members scored after now are exactly the owner's live entries, so
 * no count can drift past an entry's TTL; expired members are trimmed whenever one is added. ARGV: 'set' | 'nx' | 'incr', TTL in ms,
 * value, then each owner's limit. A new key over an owner's limit is refused: SBM_QUOTA <owner #>.
 */
const OWNED_WRITE_SCRIPT = `${NOW_MS}
local op, ttl = ARGV[1], tonumber(ARGV[2])
local exists = redis.call('EXISTS', KEYS[1]) == 1
if exists and op == 'nx' then return 0 end
if not exists then
  for i = 2, #KEYS do
    -- Read-only: the first write below must be SET or INCR, so a Redis at its maxmemory refuses the script (OOM).
    if redis.call('ZCOUNT', KEYS[i], '(' .. now, '+inf') >= tonumber(ARGV[i + 2]) then
      return redis.error_reply('SBM_QUOTA ' .. (i - 1))
    end
  end
end
local reply = 1
if op == 'incr' then
  reply = redis.call('INCR', KEYS[1])
  if redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], ttl) end
  -- A counter's window, and so its charge, is set by its first hit.
  if exists then return reply end
else
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ttl)
end
for i = 2, #KEYS do
  -- An update moves the expiry only where the key is charged (its creator's owners).
  if exists then redis.call('ZADD', KEYS[i], 'XX', now + ttl, KEYS[1]) else
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
    redis.call('ZADD', KEYS[i], now + ttl, KEYS[1])
  end
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return reply
`;

/** SET only when the value is still the one the caller read; KEYS[2..]: owners whose charge follows the new expiry. */
const COMPARE_AND_SET_SCRIPT = `${NOW_MS}
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  for i = 2, #KEYS do
    redis.call('ZADD', KEYS[i], 'XX', now + tonumber(ARGV[3]), KEYS[1])
    if redis.call('PTTL', KEYS[i]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
  end
  return 1
end
return 0
`;

/** DEL only when the value is still the one the caller read; KEYS[2..]: owners it is no longer charged to. */
const COMPARE_AND_DELETE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  for i = 2, #KEYS do redis.call('ZREM', KEYS[i], KEYS[1]) end
  return 1
end
return 0
`;

/** DEL, and the key's charge to the view's owners. */
const OWNED_DELETE_SCRIPT = `
redis.call('DEL', KEYS[1])
for i = 2, #KEYS do redis.call('ZREM', KEYS[i], KEYS[1]) end
return 1
`;

/** A Redis operation failed; the message names the server without its credentials. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

export interface RedisStoreOptions {
  /** Prepended to every key, so several apps or environments can share one Redis. */
  keyPrefix?: string;
  /** Connection errors the client reports between commands; commands still reject on their own. */
  onConnectionError?: (error: Error) => void;
  /** STORE_MAX_ENTRIES: what owners' quotas are shares of (Redis itself is bounded by its maxmemory). */
  maxEntries?: number;
}

/** The store for several processes: every operation is one atomic Redis command or script. */
export class RedisStore implements Store {
  private readonly redis: LazyRedisClient;
  private readonly keyPrefix: string;
  readonly capacity: number;
  /** Who pays for the keys this view creates, outermost first (none: the store itself). */
  private owners: readonly StoreOwner[] = [];
  /** Why the connection is down, if it is: names the real cause when a command gives up. */
  private connectionError: Error | undefined;
  /** The URL without user or password, safe to put in messages and logs. */
  readonly location: string;

  constructor(url: string, options: RedisStoreOptions = {}) {
    this.location = redactRedisUrl(url);
    this.keyPrefix = options.keyPrefix ?? 'sbm:';
    this.capacity = options.maxEntries ?? DEFAULT_MEMORY_STORE_CAPACITY;
    const onConnectionError = options.onConnectionError ?? (() => {});
    this.redis = new LazyRedisClient(url, {
      enableOfflineQueue: true,
      // A dead or unreachable Redis fails the command after a couple of reconnect attempts
      // instead of queueing it forever; the client keeps reconnecting in the background.
      connectTimeout: 2_000,
      maxRetriesPerRequest: 2,
      // A server that accepted the connection but stopped answering must not hang a request.
      commandTimeout: 2_000,
    }, (client) => {
      // Without a listener ioredis prints every reconnect failure to the console.
      client.on('error', (error: Error) => {
        this.connectionError = error;
        onConnectionError(error);
      });
      client.on('ready', () => (this.connectionError = undefined));
    });
  }

  /**
   * The same connection; the keys this view creates are also charged to `owner`, within `share` of
   * this view's quota. A view is an object whose prototype is this store: it shares the client and
   * its connection state, and has owners of its own.
   */
  ownedBy(owner: string, share: number): RedisStore {
    const view = Object.create(this) as RedisStore;
    view.owners = withOwner(this.owners, owner, share, this.capacity);
    return view;
  }

  async get(key: string): Promise<string | undefined> {
    const value = await this.run((client) => client.get(this.keyFor(key)));
    return value ?? undefined;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    if (this.owners.length > 0) {
      await this.ownedWrite('set', key, ttlMs, value);
      return;
    }
    await this.run((client) => client.set(this.keyFor(key), value, 'PX', redisTtl(ttlMs)));
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.owners.length > 0) return Number(await this.ownedWrite('nx', key, ttlMs, value)) === 1;
    const reply = await this.run((client) => client.set(this.keyFor(key), value, 'PX', redisTtl(ttlMs), 'NX'));
    return reply === 'OK';
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    if (this.owners.length > 0) return Number(await this.ownedWrite('incr', key, ttlMs, ''));
    const reply = await this.run((client) => client.eval(INCREMENT_SCRIPT, 1, this.keyFor(key), redisTtl(ttlMs)));
    return Number(reply);
  }

  async compareAndSet(key: string, expected: string, next: string, ttlMs: number): Promise<boolean> {
    const keys = this.keysWithOwners(key);
    const reply = await this.run((client) => client.eval(COMPARE_AND_SET_SCRIPT, keys.length, ...keys, expected, next, redisTtl(ttlMs)));
    return Number(reply) === 1;
  }

  async compareAndDelete(key: string, expected: string): Promise<boolean> {
    const keys = this.keysWithOwners(key);
    const reply = await this.run((client) => client.eval(COMPARE_AND_DELETE_SCRIPT, keys.length, ...keys, expected));
    return Number(reply) === 1;
  }

  async ttl(key: string): Promise<number | undefined> {
    const remaining = await this.run((client) => client.pttl(this.keyFor(key)));
    if (remaining === -2) return undefined;
    // -1 (no expiry) cannot come from this store, which sets a TTL on every key it writes.
    if (remaining === -1) return Number.POSITIVE_INFINITY;
    return remaining;
  }

  async delete(key: string): Promise<void> {
    if (this.owners.length > 0) {
      const keys = this.keysWithOwners(key);
      await this.run((client) => client.eval(OWNED_DELETE_SCRIPT, keys.length, ...keys));
      return;
    }
    await this.run((client) => client.del(this.keyFor(key)));
  }

  /** SCAN, not KEYS: Redis keeps answering other clients while a large tenant is forgotten. */
  async deleteByPrefix(prefix: string): Promise<number> {
    const pattern = `${this.keyFor(prefix).replace(/[*?[\]\\]/g, (char) => `\\${char}`)}*`;
    return this.run(async (client) => {
      let deleted = 0;
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
        cursor = next;
        if (keys.length > 0) deleted += await client.unlink(...keys);
      } while (cursor !== '0');
      return deleted;
    });
  }

  /** For health checks: true when Redis answers PING, false on any failure. */
  async ping(): Promise<boolean> {
    try {
      return (await (await this.redis.get()).ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  /** `INFO <section>` as Redis prints it (`field:value` lines), for the doctor: works where CONFIG is disabled. */
  async info(section: string): Promise<string> {
    return this.run((client) => client.info(section));
  }

  async close(): Promise<void> {
    await this.redis.close();
  }

  private keyFor(key: string): string {
    return this.keyPrefix + key;
  }

  /** The key, then the sorted set of each owner of this view (named inside the owner's own prefix). */
  private keysWithOwners(key: string): string[] {
    return [this.keyFor(key), ...this.owners.map((owner) => this.keyFor(`${owner.id}:store-quota`))];
  }

  private async ownedWrite(op: 'set' | 'nx' | 'incr', key: string, ttlMs: number, value: string): Promise<unknown> {
    const keys = this.keysWithOwners(key);
    return this.run((client) => client.eval(OWNED_WRITE_SCRIPT, keys.length, ...keys, op, redisTtl(ttlMs), value, ...this.owners.map((owner) => owner.limit)));
  }

  private async run<T>(operation: (client: Redis) => Promise<T>): Promise<T> {
    try {
      return await operation(await this.redis.get());
    } catch (error) {
      const gaveUp = error instanceof Error && error.name === 'MaxRetriesPerRequestError';
      if (gaveUp && this.connectionError !== undefined) {
        const reason = this.connectionError.message;
        throw new StoreUnavailableError(`Redis store at ${this.location} is unreachable: ${reason}`, { cause: error });
      }
      const reason = error instanceof Error ? error.message : String(error);
      // `maxmemory-policy noeviction` at its maxmemory: new state is refused, nothing live was evicted.
      if (/^OOM\b/.test(reason)) throw new StoreFullError({ store: 'redis', location: this.location });
      const overQuota = /^SBM_QUOTA (\d+)/.exec(reason);
      const owner = overQuota && this.owners[Number(overQuota[1]) - 1];
      if (owner) throw new StoreFullError({ store: 'redis', owner: owner.id, quota: owner.limit });
      throw new StoreUnavailableError(`Redis store at ${this.location} failed: ${reason}`, { cause: error });
    }
  }
}

/** Redis rejects a PX of 0 or a fraction; round up so a key never outlives its caller's TTL by much. */
function redisTtl(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`TTL must be a positive number of ms, got ${ttlMs}`);
  return Math.ceil(ttlMs);
}

/** `redis://user:secret@host:6379/0` → `redis://host:6379/0`. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return 'an unparseable STORE_URL';
  }
}
