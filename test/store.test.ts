import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../src/errors.js';
import { createStore } from '../src/verify/create-store.js';
import { MemoryStore } from '../src/verify/memory-store.js';
import { RedisStore, StoreUnavailableError } from '../src/verify/redis-store.js';
import type { Store } from '../src/verify/store.js';
import { PrefixedStore } from '../src/platform/prefixed-store.js';
import { findFreePort, startRedisServer, type RedisServer } from './support/redis-server.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

/** Every store a test opens is closed after it, whatever the outcome. */
const opened: Store[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
});
function track<S extends Store>(store: S): S {
  opened.push(store);
  return store;
}

/** A prefix of its own per test, so tests on the shared server never see each other's keys. */
const freshPrefix = () => `test:${randomUUID()}:`;

const backends: { name: string; open: () => Store }[] = [
  { name: 'MemoryStore', open: () => new MemoryStore() },
  { name: 'RedisStore', open: () => new RedisStore(redis.url, { keyPrefix: freshPrefix() }) },
];

describe.each(backends)('$name', ({ open }) => {
  it("deleteByPrefix forgets one tenant's keys and nothing else, and a prefixed view sees only its own", async () => {
    const store = track(open());
    const alpha = new PrefixedStore(store, 't:ten_alpha:');
    const beta = new PrefixedStore(store, 't:ten_beta:');
    for (let i = 0; i < 1_200; i++) await alpha.set(`grant:${i}`, 'alice', 60_000);
    await beta.set('grant:1', 'bob', 60_000);
    // Glob characters in a prefix are literal: `*` matches no other tenant.
    expect(await store.deleteByPrefix('t:ten_*')).toBe(0);
    expect(await alpha.get('grant:1')).toBe('alice');
    expect(await beta.get('grant:1')).toBe('bob');
    expect(await beta.get('grant:2')).toBeUndefined();
    expect(await store.deleteByPrefix('t:ten_alpha:')).toBe(1_200);
    expect(await alpha.get('grant:1')).toBeUndefined();
    expect(await beta.get('grant:1')).toBe('bob');
  });

  it('returns what was set, and undefined for a key never set', async () => {
    const store = track(open());
    await store.set('greeting', 'hello', 60_000);
    await store.set('other', 'world', 60_000);
    expect(await store.get('greeting')).toBe('hello');
    expect(await store.get('missing')).toBeUndefined();
    await store.set('greeting', 'again', 60_000);
    expect(await store.get('greeting')).toBe('again');
  });

  it('forgets a key once its TTL has passed', async () => {
    const store = track(open());
    await store.set('short', 'lived', 150);
    const remaining = await store.ttl('short');
    expect(remaining).toBeGreaterThan(0);
    expect(remaining).toBeLessThanOrEqual(150);
    await sleep(300);
    expect(await store.get('short')).toBeUndefined();
    expect(await store.ttl('short')).toBeUndefined();
  });

  it('setIfAbsent: of 50 concurrent claims exactly one wins, and its value is kept', async () => {
    const store = track(open());
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.setIfAbsent('claim', `claimant-${i}`, 60_000)),
    );
    const winners = results.flatMap((won, i) => (won ? [i] : []));
    expect(winners).toHaveLength(1);
    expect(await store.get('claim')).toBe(`claimant-${winners[0]}`);
    expect(await store.setIfAbsent('claim', 'late', 60_000)).toBe(false);
  });

  it('setIfAbsent succeeds again once the earlier claim has expired', async () => {
    const store = track(open());
    expect(await store.setIfAbsent('claim', 'first', 150)).toBe(true);
    await sleep(300);
    expect(await store.setIfAbsent('claim', 'second', 60_000)).toBe(true);
    expect(await store.get('claim')).toBe('second');
  });

  it('increment counts from 1, and 50 concurrent increments give 1..50 with no repeats', async () => {
    const store = track(open());
    expect(await store.increment('hits', 60_000)).toBe(1);
    expect(await store.increment('hits', 60_000)).toBe(2);
    const counts = await Promise.all(Array.from({ length: 50 }, () => store.increment('burst', 60_000)));
    expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('increment keeps the window of its first hit: a later hit does not extend it', async () => {
    const store = track(open());
    expect(await store.increment('window', 400)).toBe(1);
    await sleep(250);
    expect(await store.increment('window', 400)).toBe(2);
    // Extended, it would have ~400 ms left; kept, at most 150.
    expect(await store.ttl('window')).toBeLessThanOrEqual(150);
    await sleep(250);
    // Past the first hit's window (500 ms > 400 ms) but inside an extended one (650 ms).
    expect(await store.increment('window', 400)).toBe(1);
  });

  it('compareAndDelete removes the value for exactly one of 20 concurrent callers, and never a newer value', async () => {
    const store = track(open());
    await store.set('code', 'secret-code', 60_000);
    const removed = await Promise.all(Array.from({ length: 20 }, () => store.compareAndDelete('code', 'secret-code')));
    expect(removed.filter(Boolean)).toHaveLength(1);
    expect(await store.get('code')).toBeUndefined();
    await store.set('code', 'newer-code', 60_000);
    expect(await store.compareAndDelete('code', 'secret-code')).toBe(false);
    expect(await store.get('code')).toBe('newer-code');
  });

  it('compareAndSet replaces only the value the caller read: of 20 concurrent updates from one read, one wins', async () => {
    const store = track(open());
    await store.set('grant', 'v1', 60_000);
    const updated = await Promise.all(Array.from({ length: 20 }, (_, i) => store.compareAndSet('grant', 'v1', `v2-${i}`, 60_000)));
    expect(updated.filter(Boolean)).toHaveLength(1);
    expect(await store.get('grant')).toBe(`v2-${updated.indexOf(true)}`);
    expect(await store.compareAndSet('missing', 'v1', 'v2', 60_000)).toBe(false);
    expect(await store.get('missing')).toBeUndefined();
  });

  it('ttl is undefined for a missing key', async () => {
    const store = track(open());
    expect(await store.ttl('missing')).toBeUndefined();
  });

  it('delete removes a key and is harmless for a missing one', async () => {
    const store = track(open());
    await store.set('doomed', 'x', 60_000);
    await store.set('kept', 'y', 60_000);
    await store.delete('doomed');
    await store.delete('never-existed');
    expect(await store.get('doomed')).toBeUndefined();
    expect(await store.ttl('doomed')).toBeUndefined();
    expect(await store.get('kept')).toBe('y');
  });
});

describe('RedisStore across processes', () => {
  it('two clients on one server see each other’s writes and share counters', async () => {
    const prefix = freshPrefix();
    const first = track(new RedisStore(redis.url, { keyPrefix: prefix }));
    const second = track(new RedisStore(redis.url, { keyPrefix: prefix }));
    await first.set('shared', 'from-first', 60_000);
    expect(await second.get('shared')).toBe('from-first');
    expect(await second.compareAndDelete('shared', 'from-first')).toBe(true);
    expect(await first.get('shared')).toBeUndefined();

    const counts = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? first : second).increment('counter', 60_000)),
    );
    expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(await first.setIfAbsent('once', 'a', 60_000)).toBe(true);
    expect(await second.setIfAbsent('once', 'b', 60_000)).toBe(false);
  });

  it('stores with different prefixes do not collide', async () => {
    const blue = track(new RedisStore(redis.url, { keyPrefix: freshPrefix() }));
    const green = track(new RedisStore(redis.url, { keyPrefix: freshPrefix() }));
    await blue.set('key', 'blue', 60_000);
    await green.set('key', 'green', 60_000);
    expect(await blue.get('key')).toBe('blue');
    expect(await green.get('key')).toBe('green');
    expect(await blue.increment('count', 60_000)).toBe(1);
    expect(await green.increment('count', 60_000)).toBe(1);
  });

  it('writes under the sbm: prefix by default, with a TTL on every key', async () => {
    const key = `default-prefix-${randomUUID()}`;
    const store = track(new RedisStore(redis.url));
    const raw = new Redis(redis.url);
    try {
      await store.set(`${key}:set`, 'v', 60_000);
      await store.setIfAbsent(`${key}:claim`, 'v', 60_000);
      await store.increment(`${key}:count`, 60_000);
      await store.increment(`${key}:count`, 60_000);
      expect(await raw.get(`sbm:${key}:set`)).toBe('v');
      for (const suffix of ['set', 'claim', 'count']) {
        const ttl = await raw.pttl(`sbm:${key}:${suffix}`);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(60_000);
      }
      expect(await raw.get(`${key}:set`)).toBeNull();
    } finally {
      raw.disconnect();
    }
  });

  it('ping reports a healthy server', async () => {
    const store = track(new RedisStore(redis.url, { keyPrefix: freshPrefix() }));
    expect(await store.ping()).toBe(true);
  });

  it(
    'fails with a clear error, without the password, when Redis is not there',
    async () => {
      const port = await findFreePort();
      const store = track(new RedisStore(`redis://:hunter2-password@127.0.0.1:${port}`));
      const error = await store.get('anything').then(
        () => undefined,
        (rejection: unknown) => rejection,
      );
      expect(error).toBeInstanceOf(StoreUnavailableError);
      const message = (error as Error).message;
      expect(message).toContain(`127.0.0.1:${port}`);
      expect(message).toMatch(/unreachable: connect ECONNREFUSED/);
      expect(message).not.toContain('hunter2');
      expect(await store.ping()).toBe(false);
    },
    // Failing instead of hanging is the point: a hang runs into this timeout.
    8_000,
  );
});

describe('createStore', () => {
  it('uses memory when STORE_URL is unset or empty', () => {
    expect(track(createStore(undefined))).toBeInstanceOf(MemoryStore);
    expect(track(createStore(''))).toBeInstanceOf(MemoryStore);
  });

  it('uses Redis for a redis:// URL, and it works', async () => {
    const store = track(createStore(redis.url));
    expect(store).toBeInstanceOf(RedisStore);
    const key = `create-store-${randomUUID()}`;
    await store.set(key, 'via-factory', 60_000);
    expect(await store.get(key)).toBe('via-factory');
  });

  it('uses Redis for a rediss:// URL', () => {
    // Nothing listens there; the store is only constructed, then closed.
    expect(track(createStore('rediss://127.0.0.1:1'))).toBeInstanceOf(RedisStore);
  });

  it('refuses any other URL, naming STORE_URL and the expected form without echoing the value', () => {
    const attempt = () => createStore('http://user:topsecret@x');
    expect(attempt).toThrow(ConfigurationError);
    expect(attempt).toThrow(/STORE_URL/);
    expect(attempt).toThrow(/redis:\/\//);
    expect(attempt).not.toThrow(/topsecret/);
  });
});
