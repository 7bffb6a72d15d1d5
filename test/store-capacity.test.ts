/**
 * Issue 12, item 5: the in-memory store must not be flushable. A flood of new conversations and
 * addresses used to push live grants, panel sessions, sign-in lockouts and code budgets out of
 * an LRU; now nothing live is evicted, one host key can create only so much, and new state beyond
 * the capacity is refused with the clean busy error.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../src/demo/fake-stripe/index.js';
import { BUSY_MESSAGE, ToolError } from '../src/errors.js';
import { SIGN_IN_FAILURES_ALLOWED } from '../src/http/panel/routes.js';
import { silentLogger } from '../src/log.js';
import { DEFAULT_CODE_LIMITS, EmailCodeVerifier, type CodeLimits } from '../src/verify/email-codes.js';
import { GrantStore } from '../src/verify/grants.js';
import { MemoryStore, StoreFullError } from '../src/verify/memory-store.js';
import { RedisStore } from '../src/verify/redis-store.js';
import type { Store } from '../src/verify/store.js';
import { HOST_A, HOST_B, STAFF, startHttpFixture, verifyConversationByCode, type HttpFixture } from './support/http-harness.js';
import { panelSignIn, postSignIn } from './support/panel.js';
import { startRedisServer } from './support/redis-server.js';

/** What a caller gets back when the store has no room: the busy tool error, retry in 2 s. */
async function refusal(operation: Promise<unknown>): Promise<ToolError> {
  const error = await operation.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(StoreFullError);
  expect(error).toBeInstanceOf(ToolError);
  expect((error as ToolError).kind).toBe('busy');
  expect((error as ToolError).message).toBe(BUSY_MESSAGE);
  expect((error as ToolError).retryAfterSeconds).toBe(2);
  return error as ToolError;
}

describe('MemoryStore at capacity', () => {
  it('refuses a new key instead of evicting a live one, and still updates, counts and deletes existing keys', async () => {
    const store = new MemoryStore({ maxEntries: 3 });
    await store.set('grant:host:a:1', 'alice', 60_000);
    await store.increment('panel-signin-failures:10.0.0.1', 60_000);
    await store.set('panel-session:abc', 'session', 60_000);

    const attempts = [store.set('new-1', 'x', 60_000), store.setIfAbsent('new-2', 'x', 60_000), store.increment('new-3', 60_000)];
    await Promise.allSettled(attempts);

    // Everything live is still there, and can change; the new keys were refused as busy.
    expect(await store.get('grant:host:a:1')).toBe('alice');
    expect(await store.get('panel-session:abc')).toBe('session');
    expect(await store.get('panel-signin-failures:10.0.0.1')).toBe('1');
    for (const attempt of attempts) await refusal(attempt);
    expect(await store.get('new-1')).toBeUndefined();
    expect(await store.get('panel-session:abc')).toBe('session');
    expect(await store.increment('panel-signin-failures:10.0.0.1', 60_000)).toBe(2);
    await store.set('grant:host:a:1', 'alice2', 60_000);
    expect(await store.compareAndSet('grant:host:a:1', 'alice2', 'alice3', 60_000)).toBe(true);
    expect(await store.setIfAbsent('panel-session:abc', 'other', 60_000)).toBe(false);
    expect(await store.get('grant:host:a:1')).toBe('alice3');
    expect(store.size).toBe(3);

    // A deletion makes room.
    expect(await store.compareAndDelete('panel-session:abc', 'session')).toBe(true);
    await store.set('new-1', 'x', 60_000);
    expect(await store.get('new-1')).toBe('x');
    await store.close();
  });

  it('reclaims expired entries when room is needed', async () => {
    const store = new MemoryStore({ maxEntries: 3 });
    await store.set('short-1', 'x', 40);
    await store.set('short-2', 'x', 40);
    await store.set('long', 'x', 60_000);
    await refusal(store.set('new', 'x', 60_000));
    await sleep(80);
    await store.set('new', 'x', 60_000);
    await store.set('new-2', 'x', 60_000);
    expect(await store.get('long')).toBe('x');
    expect(await store.get('new-2')).toBe('x');
    expect(store.size).toBe(3);
    await refusal(store.set('new-3', 'x', 60_000));
    await store.close();
  });
});

describe('MemoryStore below capacity', () => {
  it('reclaims expired per-conversation keys long before capacity, and keeps every live one', async () => {
    const store = new MemoryStore();
    // 3,000 conversations' short-lived keys, which nobody reads again once they expire.
    for (let i = 0; i < 3_000; i++) await store.set(`code:conversation-${i}`, 'challenge', 20);
    await sleep(60);
    for (let i = 0; i < 3_000; i++) await store.set(`grant:conversation-${i}`, 'alice', 60_000);
    // Far below the 100,000 of capacity, the expired ones are gone (they were 6,000 held).
    expect(store.size).toBe(3_000);
    for (let i = 0; i < 3_000; i += 100) expect(await store.get(`grant:conversation-${i}`)).toBe('alice');
    expect(await store.get('code:conversation-0')).toBeUndefined();
    await store.close();
  });
});

const SECRET = new TextEncoder().encode('store-capacity-test-secret-32-bytes-long!');

function verifierOn(store: Store, limits: CodeLimits) {
  const grants = new GrantStore(store);
  const sent: string[] = [];
  const codes = new EmailCodeVerifier({
    store,
    grants,
    secret: SECRET,
    log: silentLogger(),
    customerExists: async () => true,
    sendCode: async (message) => {
      sent.push(message.to);
    },
    limits,
  });
  return { codes, grants, sent };
}

const outcome = (operation: Promise<unknown>) =>
  operation.then(
    () => 'ok' as const,
    (error: unknown) => (error instanceof ToolError ? error : Promise.reject(error)),
  );

describe('the verify_email_start flood (many new conversations and addresses) on a small memory store', () => {
  it('flushes no grant, session, lockout or code budget, and refuses new state as busy', async () => {
    const store = new MemoryStore({ maxEntries: 300 });
    // Short cooldowns, so the flood's own cooldowns expire and can be reclaimed below.
    const { codes, grants } = verifierOn(store, { ...DEFAULT_CODE_LIMITS, resendCooldownMs: 300, conversationsPerHostKeyPerDay: 1_000_000 });

    await grants.grant('host:shop:victim', DEMO.emails.carol, 'email-code');
    await store.set('panel-session:agent', '{"staff":"support"}', 8 * 3600_000);
    for (let i = 0; i < SIGN_IN_FAILURES_ALLOWED; i++) await store.increment('panel-signin-failures:203.0.113.9', 15 * 60_000);
    // alice's 5 codes for the hour, spent from 5 conversations; a 6th is refused.
    for (let i = 0; i < DEFAULT_CODE_LIMITS.codesPerEmailPerHour; i++) expect(await outcome(codes.start(`host:shop:alice-${i}`, DEMO.emails.alice))).toBe('ok');
    expect(((await outcome(codes.start('host:shop:alice-x', DEMO.emails.alice))) as ToolError).message).toMatch(/Too many codes/);

    const refusals: ToolError[] = [];
    for (let i = 0; i < 2_000 && refusals.length < 20; i++) {
      const result = await outcome(codes.start(`host:attacker:flood-${i}`, `flood-${i}@example.com`));
      if (result !== 'ok') refusals.push(result);
    }
    expect(await grants.isVerified('host:shop:victim', DEMO.emails.carol)).toBe(true);
    expect((await grants.use('host:shop:victim'))?.email).toBe(DEMO.emails.carol);
    expect(await store.get('panel-session:agent')).toBe('{"staff":"support"}');
    expect(await store.get('panel-signin-failures:203.0.113.9')).toBe(String(SIGN_IN_FAILURES_ALLOWED));

    expect(refusals.length).toBe(20);
    for (const refused of refusals) {
      expect(refused).toBeInstanceOf(StoreFullError);
      expect(refused.kind).toBe('busy');
      expect(refused.message).toBe(BUSY_MESSAGE);
    }
    expect(store.size).toBeLessThanOrEqual(300);

    // Once the flood's cooldowns have expired there is room again, and alice's budget is still spent.
    await sleep(400);
    expect(((await outcome(codes.start('host:shop:alice-after', DEMO.emails.alice))) as ToolError).message).toMatch(/Too many codes/);
  });

  it('bounds the conversations one host key can start verifying; other keys are unaffected', async () => {
    const store = new MemoryStore();
    const { codes } = verifierOn(store, { ...DEFAULT_CODE_LIMITS, conversationsPerHostKeyPerDay: 20 });
    for (let i = 0; i < 20; i++) expect(await outcome(codes.start(`host:attacker:c-${i}`, `a-${i}@example.com`))).toBe('ok');
    const refused = await outcome(codes.start('host:attacker:c-20', 'a-20@example.com'));
    expect(refused).toBeInstanceOf(ToolError);
    expect((refused as ToolError).kind).toBe('temporarily_unavailable');
    expect((refused as ToolError).message).not.toContain('attacker');
    // Another host key is untouched; the refused key creates nothing more.
    expect(await outcome(codes.start('host:shop:c-0', 'customer@example.com'))).toBe('ok');
    const after = store.size;
    for (let i = 21; i < 200; i++) await outcome(codes.start(`host:attacker:c-${i}`, `a-${i}@example.com`));
    expect(store.size).toBe(after);
  });
});

describe('a Redis with noeviction at its maxmemory', () => {
  it('answers a write it refuses (OOM) with the clean busy error and keeps what it holds', async () => {
    const redis = await startRedisServer(['--maxmemory', '2mb', '--maxmemory-policy', 'noeviction']);
    const store = new RedisStore(redis.url);
    try {
      await store.set('grant:host:shop:victim', 'carol', 3_600_000);
      const value = randomBytes(50_000).toString('hex');
      let error: unknown;
      for (let i = 0; i < 200 && error === undefined; i++) await store.set(`filler:${i}`, value, 3_600_000).catch((caught: unknown) => (error = caught));
      await refusal(Promise.reject(error));
      expect(await store.get('grant:host:shop:victim')).toBe('carol');
    } finally {
      await store.close();
      await redis.stop();
    }
  });
});

describe('the flood over HTTP', () => {
  let fx: HttpFixture;
  const store = new MemoryStore({ maxEntries: 200 });
  beforeAll(async () => {
    fx = await startHttpFixture({}, { store });
  });
  afterAll(() => fx.close());

  it('keeps the verified visitor verified and the agent signed in and locked out, and answers the flood with 429 busy', async () => {
    await verifyConversationByCode(fx, HOST_A, 'victim', DEMO.emails.alice);
    const cookie = await panelSignIn(fx.url, STAFF);
    for (let i = 0; i < SIGN_IN_FAILURES_ALLOWED; i++) expect((await postSignIn(fx.url, { key: 'not-a-staff-key', return_to: '' })).status).toBe(401);
    expect((await postSignIn(fx.url, { key: STAFF, return_to: '' })).status).toBe(429);

    let busy: Response | undefined;
    for (let i = 0; i < 400 && !busy; i++) {
      const response = await fetch(`${fx.url}/v1/tools/verify_email_start`, {
        method: 'POST',
        headers: { authorization: `Bearer ${HOST_B}`, 'x-conversation-id': `flood-${i}`, 'content-type': 'application/json' },
        body: JSON.stringify({ email: `flood-${i}@example.com` }),
      });
      if (response.status !== 200) busy = response;
      else expect(await response.json()).toMatchObject({ is_error: false });
    }
    const status = await fetch(`${fx.url}/v1/tools/get_verification_status`, {
      method: 'POST',
      headers: { authorization: `Bearer ${HOST_A}`, 'x-conversation-id': 'victim', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(await status.json()).toMatchObject({ is_error: false, result: { verified: true, email: DEMO.emails.alice } });
    const page = await fetch(`${fx.url}/panel`, { headers: { cookie }, redirect: 'manual' });
    expect(page.status).toBe(200);
    expect((await postSignIn(fx.url, { key: STAFF, return_to: '' })).status).toBe(429);

    expect(busy?.status).toBe(429);
    expect(busy?.headers.get('retry-after')).toBe('2');
    expect(await busy!.json()).toEqual({ is_error: true, error: { kind: 'busy', message: BUSY_MESSAGE } });
    expect(store.size).toBeLessThanOrEqual(200);
  });

  it('a sign-in the full store cannot count answers a busy page, not an error', async () => {
    const full = new MemoryStore({ maxEntries: 3 });
    for (let i = 0; i < 3; i++) await full.set(`grant:host-a:live-${i}`, 'x', 3_600_000);
    const panel = await startHttpFixture({}, { store: full });
    try {
      const response = await postSignIn(panel.url, { key: STAFF, return_to: '' });
      expect(response.status).toBe(503);
      expect(await response.text()).toContain('The panel is busy right now. Try again in a moment.');
      expect(await full.get('grant:host-a:live-0')).toBe('x');
    } finally {
      await panel.close();
    }
  });
});
