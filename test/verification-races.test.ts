import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/log.js';
import { DEFAULT_CODE_LIMITS, EmailCodeVerifier } from '../src/verify/email-codes.js';
import { GrantStore } from '../src/verify/grants.js';
import { MemoryStore } from '../src/verify/memory-store.js';
import { RedisStore } from '../src/verify/redis-store.js';
import type { Store } from '../src/verify/store.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';

/**
 * A store that can hold one caller right after it read a key, so a test can make another caller
 * act in between: the read-then-write interleaving that concurrent requests produce.
 */
function pausable(inner: Store) {
  let pause: { key: string; reached: () => void; gate: Promise<void> } | undefined;
  const store: Store = Object.create(inner) as Store;
  store.get = async (key) => {
    const value = await inner.get(key);
    if (pause && pause.key === key) {
      const { reached, gate } = pause;
      pause = undefined;
      reached();
      await gate;
    }
    return value;
  };
  return {
    store,
    /** The next read of `key` stops after reading, until `release()`. */
    pauseAfterRead(key: string) {
      let release!: () => void;
      let reached!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const hasRead = new Promise<void>((resolve) => (reached = resolve));
      pause = { key, reached, gate };
      return { hasRead, release };
    },
  };
}

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

describe.each<[string, () => Store]>([
  ['memory', () => new MemoryStore()],
  ['redis', () => new RedisStore(redis.url, { keyPrefix: `race${Math.random().toString(36).slice(2)}:` })],
])('verification under concurrency (%s)', (_name, open) => {
  it('refreshing a grant never overwrites a newer grant made in the same conversation meanwhile', async () => {
    const { store, pauseAfterRead } = pausable(open());
    const grants = new GrantStore(store);
    await grants.grant('host-a:conv-1', 'alice@example.com', 'email-code');
    const paused = pauseAfterRead('grant:host-a:conv-1');
    const using = grants.use('host-a:conv-1');
    await paused.hasRead;
    // The visitor verifies another address while the old grant's refresh is in flight.
    await grants.grant('host-a:conv-1', 'bob@example.com', 'email-code');
    paused.release();
    expect((await using)?.email).toBe('bob@example.com');
    expect((await grants.use('host-a:conv-1'))?.email).toBe('bob@example.com');
    await store.close();
  });

  it('a stale confirm never deletes the newer code that replaced its own', async () => {
    const { store, pauseAfterRead } = pausable(open());
    const sent: string[] = [];
    const codes = new EmailCodeVerifier({
      store,
      grants: new GrantStore(store),
      secret: new TextEncoder().encode('race-test-secret-at-least-32-bytes-long'),
      customerExists: async () => true,
      sendCode: async ({ code }) => void sent.push(code),
      log: silentLogger(),
      limits: { ...DEFAULT_CODE_LIMITS, resendCooldownMs: 1 },
    });
    await codes.start('host-a:conv-2', 'alice@example.com');
    await expect.poll(() => sent.length).toBe(1);
    const paused = pauseAfterRead('code:host-a:conv-2');
    const stale = codes.confirm('host-a:conv-2', sent[0]!);
    await paused.hasRead;
    await new Promise((resolve) => setTimeout(resolve, 5));
    // A new code is requested while the confirm of the first one is in flight.
    await codes.start('host-a:conv-2', 'alice@example.com');
    await expect.poll(() => sent.length).toBe(2);
    paused.release();
    await expect(stale).rejects.toThrow(/already been used or replaced/);
    // The newer code still works.
    await expect(codes.confirm('host-a:conv-2', sent[1]!)).resolves.toMatchObject({ email: 'alice@example.com' });
    await store.close();
  });
});
