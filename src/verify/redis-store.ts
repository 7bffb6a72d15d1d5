import type { Redis } from 'ioredis';
import { LazyRedisClient } from '../redis-client.js';
import { StoreFullError } from './memory-store.js';
import type { Store } from './store.js';

/** Counts, and starts the expiry only on the first hit so a window is never extended. */
const INCREMENT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return count
`;

/** SET only when the value is still the one the caller read. */
const COMPARE_AND_SET_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
`;

/** DEL only when the value is still the one the caller read. */
const COMPARE_AND_DELETE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
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
}

/** The store for several processes: every operation is one atomic Redis command or script. */
export class RedisStore implements Store {
  private readonly redis: LazyRedisClient;
  private readonly keyPrefix: string;
  /** Why the connection is down, if it is: names the real cause when a command gives up. */
  private connectionError: Error | undefined;
  /** The URL without user or password, safe to put in messages and logs. */
  readonly location: string;

  constructor(url: string, options: RedisStoreOptions = {}) {
    this.location = redactRedisUrl(url);
    this.keyPrefix = options.keyPrefix ?? 'sbm:';
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

  async get(key: string): Promise<string | undefined> {
    const value = await this.run((client) => client.get(this.keyFor(key)));
    return value ?? undefined;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.run((client) => client.set(this.keyFor(key), value, 'PX', redisTtl(ttlMs)));
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    const reply = await this.run((client) => client.set(this.keyFor(key), value, 'PX', redisTtl(ttlMs), 'NX'));
    return reply === 'OK';
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    const reply = await this.run((client) => client.eval(INCREMENT_SCRIPT, 1, this.keyFor(key), redisTtl(ttlMs)));
    return Number(reply);
  }

  async compareAndSet(key: string, expected: string, next: string, ttlMs: number): Promise<boolean> {
    const reply = await this.run((client) => client.eval(COMPARE_AND_SET_SCRIPT, 1, this.keyFor(key), expected, next, redisTtl(ttlMs)));
    return Number(reply) === 1;
  }

  async compareAndDelete(key: string, expected: string): Promise<boolean> {
    const reply = await this.run((client) => client.eval(COMPARE_AND_DELETE_SCRIPT, 1, this.keyFor(key), expected));
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
