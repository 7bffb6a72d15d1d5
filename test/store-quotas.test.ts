/**
 * Issue 20, item 1: each owner of entries (a merchant, a host key, anonymous callers) holds at most
 * its share of the store, counted in live entries, the same way in memory and in Redis.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ToolError } from '../src/errors.js';
import { silentLogger } from '../src/log.js';
import { PrefixedStore } from '../src/platform/prefixed-store.js';
import { MemoryStore, StoreFullError } from '../src/verify/memory-store.js';
import { EmailCodeVerifier } from '../src/verify/email-codes.js';
import { GrantStore } from '../src/verify/grants.js';
import { RedisStore } from '../src/verify/redis-store.js';
import type { Store } from '../src/verify/store.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer(['--maxmemory-policy', 'noeviction']);
});
afterAll(async () => {
  await redis?.stop();
});

const refused = (operation: Promise<unknown>) =>
  operation.then(
    () => 'stored',
    (error: unknown) => {
      if (!(error instanceof StoreFullError)) throw error;
      expect(error).toBeInstanceOf(ToolError);
      expect(error.kind).toBe('busy');
      return 'busy';
    },
  );

/** Memory reclaims an owner's expired entries at most once a second; Redis counts by expiry at once. */
const backends: Array<[string, () => Store, number]> = [
  ['memory', () => new MemoryStore({ maxEntries: 200 }), 1_100],
  ['redis', () => new RedisStore(redis.url, { keyPrefix: `quota${Math.random().toString(36).slice(2)}:`, maxEntries: 200 }), 150],
];

describe.each(backends)('owners of entries in the %s store', (_name, open, expiryWait) => {
  it('a merchant holds at most its share; a host key within it at most its share of that; others are untouched', async () => {
    const store = open();
    try {
      const merchant = new PrefixedStore(store.ownedBy('t:ten_a', 0.1), 't:ten_a:'); // 20 entries
      const bot = merchant.ownedBy('host:bot', 0.5); // 10 of them
      const outcomes = [];
      for (let i = 0; i < 12; i++) outcomes.push(await refused(bot.setIfAbsent(`conv:${i}`, '1', 60_000)));
      expect(outcomes.filter((outcome) => outcome === 'stored')).toHaveLength(10);
      expect(outcomes.slice(10)).toEqual(['busy', 'busy']);
      // The bot may still update, count and delete what it holds.
      await bot.set('conv:0', '2', 60_000);
      expect(await bot.increment('conv:1', 60_000)).toBe(2);
      expect(await bot.compareAndSet('conv:0', '2', '3', 60_000)).toBe(true);
      // The merchant's other keys fill the rest of its quota, then stop.
      for (let i = 0; i < 10; i++) await merchant.set(`session:${i}`, 's', 60_000);
      expect(await refused(merchant.set('session:10', 's', 60_000))).toBe('busy');
      // Another merchant, and the store itself, are untouched.
      const other = new PrefixedStore(store.ownedBy('t:ten_b', 0.1), 't:ten_b:').ownedBy('host:bot', 0.5);
      expect(await refused(other.set('conv:0', '1', 60_000))).toBe('stored');
      expect(await refused(store.set('platform-key', '1', 60_000))).toBe('stored');
      // A deletion gives the room back, to the bot and to its merchant.
      await bot.delete('conv:2');
      expect(await bot.compareAndDelete('conv:3', '1')).toBe(true);
      expect(await refused(bot.set('conv:new', '1', 60_000))).toBe('stored');
      expect(await refused(merchant.set('session:10', 's', 60_000))).toBe('stored');
      expect(await refused(bot.set('conv:newer', '1', 60_000))).toBe('busy');
    } finally {
      await store.close();
    }
  });

  it('counts live entries only: expired ones stop counting, so no count outlives the entries it counts', async () => {
    const store = open();
    try {
      const owner = store.ownedBy('anonymous', 0.05); // 10 entries
      for (let i = 0; i < 10; i++) await owner.increment(`attempts:10.0.0.${i}`, 60);
      expect(await refused(owner.increment('attempts:10.0.0.99', 60_000))).toBe('busy');
      // Removed behind the owner's back (by the store itself): still counted, but only until it would have expired.
      await store.delete('attempts:10.0.0.0');
      await sleep(expiryWait);
      for (let i = 0; i < 10; i++) expect(await refused(owner.increment(`attempts:10.0.1.${i}`, 60_000))).toBe('stored');
      expect(await refused(owner.increment('attempts:10.0.1.99', 60_000))).toBe('busy');
    } finally {
      await store.close();
    }
  });
});

describe('the Redis bookkeeping', () => {
  it('is one sorted set per owner, inside the owner’s prefix, that expires with its last entry', async () => {
    const prefix = `book${Math.random().toString(36).slice(2)}:`;
    const store = new RedisStore(redis.url, { keyPrefix: prefix, maxEntries: 1_000 });
    const client = new Redis(redis.url);
    try {
      const merchant = new PrefixedStore(store.ownedBy('t:ten_a', 0.1), 't:ten_a:');
      await merchant.ownedBy('host:bot', 0.5).set('grant:host:bot:1', 'alice', 5_000);
      expect(await client.zcard(`${prefix}t:ten_a:store-quota`)).toBe(1);
      expect(await client.zcard(`${prefix}t:ten_a:host:bot:store-quota`)).toBe(1);
      const ttl = await client.pttl(`${prefix}t:ten_a:host:bot:store-quota`);
      expect(ttl).toBeGreaterThan(4_000);
      expect(ttl).toBeLessThanOrEqual(5_000);
      // Removing the merchant removes its counts with its keys.
      expect(await store.deleteByPrefix('t:ten_a:')).toBe(3);
      expect(await client.exists(`${prefix}t:ten_a:store-quota`)).toBe(0);
    } finally {
      client.disconnect();
      await store.close();
    }
  });
});

describe('what a visitor who is not verified yet leaves in the store', () => {
  it('is small and short-lived: one day-long entry per conversation, every entry expiring and under 512 bytes', async () => {
    const prefix = `unverified${Math.random().toString(36).slice(2)}:`;
    const store = new RedisStore(redis.url, { keyPrefix: prefix, maxEntries: 1_000 });
    const client = new Redis(redis.url);
    const codes = new EmailCodeVerifier({
      store,
      grants: new GrantStore(store),
      secret: new TextEncoder().encode('test-verify-secret-that-is-32-bytes-long!'),
      log: silentLogger(),
      customerExists: async () => false,
      sendCode: async () => {},
    });
    try {
      await codes.start('host:bot:chat-1', 'visitor@example.com');
      const keys = await client.keys(`${prefix}*`);
      const entries = await Promise.all(
        keys.map(async (key) => {
          const type = await client.type(key);
          return { key: key.slice(prefix.length), type, ttl: await client.pttl(key), bytes: type === 'string' ? await client.strlen(key) : 0 };
        }),
      );
      for (const entry of entries) {
        expect(entry.ttl, entry.key).toBeGreaterThan(0);
        expect(entry.ttl, entry.key).toBeLessThanOrEqual(24 * 3600_000);
        expect(entry.bytes, entry.key).toBeLessThan(512);
      }
      // Beyond an hour only the conversation's tried addresses and the host key's daily count stay
      // (the quota's own bookkeeping follows its longest entry).
      const dayLong = entries.filter((entry) => entry.ttl > 3600_000 && entry.type === 'string').map((entry) => entry.key).sort();
      expect(dayLong).toEqual(['code-conversations:host:bot', 'conv-emails:host:bot:chat-1']);
    } finally {
      client.disconnect();
      await store.close();
    }
  });
});
