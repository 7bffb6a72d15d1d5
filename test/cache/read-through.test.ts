import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CacheBackend } from '../../src/cache/cache-backend.js';
import { MemoryCacheBackend } from '../../src/cache/memory-cache-backend.js';
import { ReadThroughCache } from '../../src/cache/read-through.js';
import { RedisCacheBackend } from '../../src/cache/redis-cache-backend.js';
import { silentLogger } from '../../src/log.js';
import { RedisStore } from '../../src/verify/redis-store.js';
import { testRuntime } from '../support/mcp-harness.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

/** A Stripe read the test controls: counts calls, and can be held until the test lets it answer. */
function stripeRead(value: () => string) {
  let calls = 0;
  let gate: Promise<void> | undefined;
  let open: (() => void) | undefined;
  return {
    get calls() {
      return calls;
    },
    hold() {
      gate = new Promise((resolve) => (open = resolve));
    },
    release() {
      open?.();
      gate = undefined;
    },
    load: async () => {
      calls++;
      const answer = value();
      if (gate) await gate;
      return answer;
    },
  };
}

const backends: Array<[string, () => CacheBackend]> = [
  ['memory', () => new MemoryCacheBackend()],
  ['redis', () => new RedisCacheBackend(redis.url, { keyPrefix: `t${Math.random().toString(36).slice(2)}:` })],
];

describe.each(backends)('read-through cache (%s)', (_name, makeBackend) => {
  const read = (cache: ReadThroughCache, load: () => Promise<string>, tags = ['t:cus:1']) => cache.read({ key: 'cus:1:subs', tags, ttlMs: () => 60_000, load });

  it('answers a repeated read from the cache, and from Stripe again once a tag is invalidated', async () => {
    const backend = makeBackend();
    const cache = new ReadThroughCache(backend, silentLogger());
    let plan = 'Pro';
    const stripe = stripeRead(() => plan);
    expect(await read(cache, stripe.load)).toBe('Pro');
    expect(await read(cache, stripe.load)).toBe('Pro');
    expect(stripe.calls).toBe(1);
    plan = 'Team';
    await cache.invalidate(['t:other']);
    expect(await read(cache, stripe.load)).toBe('Pro');
    await cache.invalidate(['t:cus:1']);
    expect(await read(cache, stripe.load)).toBe('Team');
    expect(stripe.calls).toBe(2);
    await backend.close();
  });

  it('never keeps what a read fetched before an invalidation that came while it was in flight', async () => {
    const backend = makeBackend();
    const cache = new ReadThroughCache(backend, silentLogger());
    let plan = 'Pro';
    const stripe = stripeRead(() => plan);
    stripe.hold();
    const early = read(cache, stripe.load);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The change and its event land while the early read still waits for Stripe's answer.
    plan = 'Team';
    await cache.invalidate(['t:cus:1']);
    stripe.release();
    expect(await early).toBe('Pro');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await read(cache, stripe.load)).toBe('Team');
    expect(await read(cache, stripe.load)).toBe('Team');
    expect(stripe.calls).toBe(2);
    await backend.close();
  });

  it('makes one Stripe request for ten identical reads in flight together', async () => {
    const backend = makeBackend();
    const cache = new ReadThroughCache(backend, silentLogger());
    const stripe = stripeRead(() => 'catalogue');
    stripe.hold();
    const reads = Array.from({ length: 10 }, () => read(cache, stripe.load, ['t:catalog']));
    await new Promise((resolve) => setTimeout(resolve, 30));
    stripe.release();
    expect(await Promise.all(reads)).toEqual(Array(10).fill('catalogue'));
    expect(stripe.calls).toBe(1);
    await backend.close();
  });

  it('answers from Stripe, without an error, when the cache itself fails', async () => {
    const backend = makeBackend();
    const failing: CacheBackend = Object.assign(Object.create(backend) as CacheBackend, {
      read: () => Promise.reject(new Error('cache down')),
      write: () => Promise.reject(new Error('cache down')),
    });
    const cache = new ReadThroughCache(failing, silentLogger());
    const stripe = stripeRead(() => 'Pro');
    expect(await read(cache, stripe.load)).toBe('Pro');
    expect(await read(cache, stripe.load)).toBe('Pro');
    expect(stripe.calls).toBe(2);
    await backend.close();
  });
});

describe('a shared cache (two processes on one Redis)', () => {
  it('an invalidation in one process makes the other read Stripe again', async () => {
    const prefix = `shared${Date.now()}:`;
    const [a, b] = [new RedisCacheBackend(redis.url, { keyPrefix: prefix }), new RedisCacheBackend(redis.url, { keyPrefix: prefix })];
    const [cacheA, cacheB] = [new ReadThroughCache(a, silentLogger()), new ReadThroughCache(b, silentLogger())];
    let plan = 'Pro';
    const stripe = stripeRead(() => plan);
    const read = (cache: ReadThroughCache) => cache.read({ key: 'cus:1:subs', tags: ['t:cus:1'], ttlMs: () => 60_000, load: stripe.load });
    expect(await read(cacheA)).toBe('Pro');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await read(cacheB)).toBe('Pro');
    expect(stripe.calls).toBe(1);
    plan = 'Team';
    await cacheB.invalidate(['t:cus:1']);
    expect(await read(cacheA)).toBe('Team');
    expect(stripe.calls).toBe(2);
    await Promise.all([a.close(), b.close()]);
  });
});

describe('a full cache never touches security state', () => {
  it('in memory: filling the runtime’s cache past its budget evicts none of its grants or limits', async () => {
    const runtime = testRuntime({ CACHE_MAX_MB: '1' });
    await runtime.verification!.grants.grant('host-a:conv-1', 'alice@example.com', 'email-code');
    await runtime.store.increment('email-codes:alice', 3_600_000);
    // 2 MB of entries into the 1 MB budget, through the cache the tools use.
    const big = 'x'.repeat(1_000);
    for (let i = 0; i < 2_000; i++) await runtime.reads.cache.read({ key: `entry:${i}`, tags: [`t:${i}`], ttlMs: () => 60_000, load: async () => big });
    let reloaded = 0;
    await runtime.reads.cache.read({ key: 'entry:0', tags: ['t:0'], ttlMs: () => 60_000, load: async () => (reloaded++, big) });
    expect(reloaded).toBe(1);
    expect((await runtime.verification!.grants.use('host-a:conv-1'))?.email).toBe('alice@example.com');
    expect(await runtime.store.increment('email-codes:alice', 3_600_000)).toBe(2);
  });

  it('on the store’s own noeviction Redis: the cache drops its own entries and the store never runs out of room', async () => {
    const tight = await startRedisServer(['--maxmemory', '8mb', '--maxmemory-policy', 'noeviction']);
    const store = new RedisStore(tight.url);
    const cache = new RedisCacheBackend(tight.url, { maxBytes: 1024 * 1024 });
    const raw = new Redis(tight.url);
    try {
      await store.set('grant:host-a:conv-1', 'alice@example.com', 3_600_000);
      await store.increment('codes:alice@example.com', 3_600_000);
      // 20 MB of entries into a 1 MB budget, on a Redis that refuses writes past 8 MB.
      const value = 'x'.repeat(10_000);
      for (let i = 0; i < 2_000; i++) await cache.write(`entry:${i}`, value, 600_000);
      expect(Number(await raw.get('sbmc:meta:total'))).toBeLessThanOrEqual(1024 * 1024);
      expect(await cache.get('entry:1999')).toBe(value);
      expect(await cache.get('entry:0')).toBeUndefined();
      expect(await store.get('grant:host-a:conv-1')).toBe('alice@example.com');
      expect(await store.increment('codes:alice@example.com', 3_600_000)).toBe(2);
      await store.set('grant:host-a:conv-2', 'bob@example.com', 3_600_000);
      expect(await store.get('grant:host-a:conv-2')).toBe('bob@example.com');
    } finally {
      raw.disconnect();
      await Promise.all([store.close(), cache.close()]);
      await tight.stop();
    }
  });
});
