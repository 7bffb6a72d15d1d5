import { LazyRedisClient } from '../redis-client.js';
import { newToken, TAG_TTL_MS, type CacheBackend } from './cache-backend.js';

/**
 * Every key the cache writes is tracked in a sorted set (score: expiry) with its size, and the
 * total is kept under a byte budget by dropping the keys that expire soonest. So the cache
 * stays bounded even on the `noeviction` Redis that holds grants and limits: a full cache drops
 * its own entries and never makes Redis refuse the store's writes.
 */
const TRACK = `
local prefix = ARGV[1]
local now = tonumber(ARGV[2])
local budget = tonumber(ARGV[3])
local idx, sizes, total = prefix .. 'meta:idx', prefix .. 'meta:sizes', prefix .. 'meta:total'
local function track(key, size, ttl)
  local old = redis.call('HGET', sizes, key)
  if old then redis.call('DECRBY', total, old) end
  redis.call('HSET', sizes, key, size)
  redis.call('INCRBY', total, size)
  redis.call('ZADD', idx, now + ttl, key)
end
local function forget(key)
  local size = redis.call('HGET', sizes, key)
  if size then redis.call('DECRBY', total, size) end
  redis.call('HDEL', sizes, key)
  redis.call('ZREM', idx, key)
end
local function trim()
  for _, key in ipairs(redis.call('ZRANGEBYSCORE', idx, '-inf', now, 'LIMIT', 0, 100)) do forget(key) end
  while tonumber(redis.call('GET', total) or '0') > budget do
    local popped = redis.call('ZRANGE', idx, 0, 49)
    if #popped == 0 then break end
    for _, key in ipairs(popped) do
      redis.call('DEL', key)
      forget(key)
    end
  end
end
`;

/** KEYS: entry, tags…; ARGV: prefix, now, budget, fresh token, tag TTL. Returns {entry|false, token…}. */
const READ_SCRIPT = `${TRACK}
local result = { redis.call('GET', KEYS[1]) }
local created = false
for i = 2, #KEYS do
  local token = redis.call('GET', KEYS[i])
  if not token then
    token = ARGV[4] .. '.' .. i
    redis.call('SET', KEYS[i], token, 'PX', ARGV[5])
    track(KEYS[i], #KEYS[i] + #token + 64, tonumber(ARGV[5]))
    created = true
  end
  result[i] = token
end
if created then trim() end
return result
`;

/** KEYS: key; ARGV: prefix, now, budget, value, ttl, nx. */
const WRITE_SCRIPT = `${TRACK}
local ok
if ARGV[6] == '1' then ok = redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[5], 'NX')
else ok = redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[5]) end
if not ok then return 0 end
track(KEYS[1], #KEYS[1] + #ARGV[4] + 64, tonumber(ARGV[5]))
trim()
return 1
`;

/** KEYS: key; ARGV: prefix, now, budget. */
const DELETE_SCRIPT = `${TRACK}
redis.call('DEL', KEYS[1])
forget(KEYS[1])
return 1
`;

/** KEYS: tags; ARGV: prefix, now, budget, fresh token, tag TTL. */
const INVALIDATE_SCRIPT = `${TRACK}
for i = 1, #KEYS do
  local token = ARGV[4] .. '.' .. i
  redis.call('SET', KEYS[i], token, 'PX', ARGV[5])
  track(KEYS[i], #KEYS[i] + #token + 64, tonumber(ARGV[5]))
end
trim()
return 1
`;

export interface RedisCacheBackendOptions {
  /** Prepended to every key: the cache's keys never collide with the store's (`sbm:`). */
  keyPrefix?: string;
  maxBytes?: number;
  onConnectionError?: (error: Error) => void;
}

/** The cache shared by every process: one script (one round trip) per operation. */
export class RedisCacheBackend implements CacheBackend {
  private readonly redis: LazyRedisClient;
  private readonly prefix: string;
  private readonly maxBytes: number;

  constructor(url: string, options: RedisCacheBackendOptions = {}) {
    this.prefix = options.keyPrefix ?? 'sbmc:';
    this.maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    // A cache that does not answer fast is worse than none: fail the command, read Stripe instead.
    const onConnectionError = options.onConnectionError ?? (() => {});
    this.redis = new LazyRedisClient(url, { connectTimeout: 2_000, maxRetriesPerRequest: 1, commandTimeout: 1_000, enableOfflineQueue: true }, (client) =>
      client.on('error', (error: Error) => onConnectionError(error)),
    );
  }

  async read(key: string, tags: readonly string[]): Promise<{ value: string | undefined; tokens: string[] }> {
    const keys = [key, ...tags].map((k) => this.prefix + k);
    const reply = (await (await this.redis.get()).eval(READ_SCRIPT, keys.length, ...keys, ...this.meta(), newToken(), TAG_TTL_MS)) as Array<string | null>;
    return { value: reply[0] ?? undefined, tokens: reply.slice(1).map(String) };
  }

  async write(key: string, value: string, ttlMs: number): Promise<void> {
    await (await this.redis.get()).eval(WRITE_SCRIPT, 1, this.prefix + key, ...this.meta(), value, Math.max(1, Math.ceil(ttlMs)), '0');
  }

  async invalidate(tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return;
    const keys = tags.map((tag) => this.prefix + tag);
    await (await this.redis.get()).eval(INVALIDATE_SCRIPT, keys.length, ...keys, ...this.meta(), newToken(), TAG_TTL_MS);
  }

  async claim(key: string, ttlMs: number, value = '1'): Promise<boolean> {
    const reply = await (await this.redis.get()).eval(WRITE_SCRIPT, 1, this.prefix + key, ...this.meta(), value, Math.max(1, Math.ceil(ttlMs)), '1');
    return Number(reply) === 1;
  }

  async get(key: string): Promise<string | undefined> {
    return (await (await this.redis.get()).get(this.prefix + key)) ?? undefined;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.write(key, value, ttlMs);
  }

  async delete(key: string): Promise<void> {
    await (await this.redis.get()).eval(DELETE_SCRIPT, 1, this.prefix + key, ...this.meta());
  }

  async close(): Promise<void> {
    await this.redis.close();
  }

  private meta(): [string, number, number] {
    return [this.prefix, Date.now(), this.maxBytes];
  }
}
