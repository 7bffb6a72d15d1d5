/**
 * Guessing email codes over time: wrong codes are capped per email across every conversation and
 * process (10 in 24 h); then code verification for that email is refused until the window ends,
 * while a host-signed identity token still works. The lock shows in /metrics, the panel and doctor.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEMO, FakeStripe } from '../src/demo/fake-stripe/index.js';
import { runDoctor } from '../src/doctor/run-doctor.js';
import { silentLogger } from '../src/log.js';
import { createRuntime } from '../src/runtime.js';
import { ALL_TOOLS } from '../src/tools/registry.js';
import { EmailCodeVerifier, WRONG_CODES_PER_EMAIL_PER_DAY, type CodeLimits } from '../src/verify/email-codes.js';
import { GrantStore } from '../src/verify/grants.js';
import { MemoryStore } from '../src/verify/memory-store.js';
import { RedisStore } from '../src/verify/redis-store.js';
import type { Store } from '../src/verify/store.js';
import { HOST_A, STAFF, startHttpFixture } from './support/http-harness.js';
import { testMailer, testSettings } from './support/mcp-harness.js';
import { panelSignIn } from './support/panel.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';

const DAY_MS = 24 * 3600_000;
const LIMITS: CodeLimits = { codeTtlMs: 10 * 60_000, maxAttempts: 5, resendCooldownMs: 1, codesPerEmailPerHour: 5, emailsPerConversationPerDay: 3 };
const LOCKED = /paused until (\S+Z)/;

type Sent = Array<{ to: string; code: string }>;

function verifierOn(store: Store, sent: Sent, customers: (email: string) => boolean = () => true) {
  const codes = new EmailCodeVerifier({
    store,
    grants: new GrantStore(store),
    secret: new TextEncoder().encode('test-verify-secret-that-is-32-bytes-long!'),
    log: silentLogger(),
    customerExists: async (email) => customers(email),
    sendCode: async (message) => {
      sent.push(message);
    },
    limits: LIMITS,
  });
  let locks = 0;
  codes.onLock(() => (locks += 1));
  return { codes, locks: () => locks };
}

const unique = (name: string) => `${name}-${Math.random().toString(36).slice(2)}@example.com`;
const wrongFor = (right: string) => (right === '000000' ? '111111' : '000000');
/** The refusal's words without its time, which differs by milliseconds between two locks. */
const withoutTime = (message: string) => message.replace(LOCKED, 'paused until <time>');

/** Starts a code in a conversation and returns the code the mailer got. */
async function startCode(verifier: ReturnType<typeof verifierOn>, sent: Sent, conversation: string, email: string): Promise<string> {
  const before = sent.length;
  await verifier.codes.start(conversation, email);
  await vi.waitFor(() => expect(sent.length).toBeGreaterThan(before));
  return sent.at(-1)!.code;
}

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

describe.each<[string, () => [Store, Store]]>([
  ['memory', () => { const store = new MemoryStore(); return [store, store]; }],
  [
    'redis, two processes on one real redis-server',
    () => {
      const prefix = `guess${Math.random().toString(36).slice(2)}:`;
      return [new RedisStore(redis.url, { keyPrefix: prefix }), new RedisStore(redis.url, { keyPrefix: prefix })];
    },
  ],
])('wrong codes per email (%s)', (_name, open) => {
  it('two conversations on two processes share one budget of 10 wrong codes; then even the right code is refused, and no new code is sent', async () => {
    const sent: Sent = [];
    const [storeA, storeB] = open();
    const p1 = verifierOn(storeA, sent);
    const p2 = verifierOn(storeB, sent);
    const email = unique('target');

    const first = await startCode(p1, sent, 'host:a:conv-1', email);
    for (let i = 0; i < 5; i++) await expect(p1.codes.confirm('host:a:conv-1', wrongFor(first))).rejects.toThrow(/not right/);
    const second = await startCode(p2, sent, 'host:b:conv-2', email);
    for (let i = 0; i < 4; i++) await expect(p2.codes.confirm('host:b:conv-2', wrongFor(second))).rejects.toThrow(/not right/);
    // A third conversation holds a live code when the 10th wrong one arrives elsewhere.
    const third = await startCode(p1, sent, 'host:a:conv-3', email);
    const tenth = await p2.codes.confirm('host:b:conv-2', wrongFor(second)).then(() => 'verified', (error: Error) => error.message);
    expect(tenth).toMatch(LOCKED);

    const refused = await p1.codes.confirm('host:a:conv-3', third).then(() => 'verified', (error: Error) => error.message);
    expect(refused).toMatch(LOCKED);
    expect(refused).not.toMatch(/not right/);
    const until = Date.parse(LOCKED.exec(refused)![1]!);
    expect(until).toBeGreaterThan(Date.now() + DAY_MS - 60_000);
    expect(until).toBeLessThanOrEqual(Date.now() + DAY_MS);
    expect(await p2.codes.lockOf(email)).toEqual({ until: expect.any(String) });

    const mailed = sent.length;
    await expect(p2.codes.start('host:b:conv-4', email)).rejects.toThrow(LOCKED);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(sent.length).toBe(mailed);
    // One lock, counted once across both processes.
    expect(p1.locks() + p2.locks()).toBe(1);

    // Another address is untouched.
    const other = unique('bystander');
    const code = await startCode(p2, sent, 'host:b:conv-5', other);
    expect((await p1.codes.confirm('host:b:conv-5', code)).email).toBe(other);
    expect(await p1.codes.lockOf(other)).toBeUndefined();
  });

  it('bounds a burst of parallel wrong codes from five conversations at 10 checked guesses', async () => {
    const sent: Sent = [];
    const [storeA, storeB] = open();
    const procs = [verifierOn(storeA, sent), verifierOn(storeB, sent)];
    const email = unique('burst');
    const conversations = Array.from({ length: LIMITS.codesPerEmailPerHour }, (_, i) => `host:a:burst-${i}`);
    const rights = await Promise.all(conversations.map((conversation, i) => startCode(procs[i % 2]!, sent, conversation, email)));
    const guesses = conversations.flatMap((conversation, i) => Array.from({ length: LIMITS.maxAttempts }, (_, j) => procs[(i + j) % 2]!.codes.confirm(conversation, wrongFor(rights[i]!)).catch((error: Error) => error.message)));
    const answers = (await Promise.all(guesses)) as string[];
    expect(answers.filter((answer) => /not right/.test(answer)).length).toBeLessThanOrEqual(WRONG_CODES_PER_EMAIL_PER_DAY);
    expect(answers.some((answer) => LOCKED.test(answer))).toBe(true);
  });

  it('refuses in the same words whether or not the email has a billing account', async () => {
    const sent: Sent = [];
    const [store] = open();
    const customer = unique('customer');
    const stranger = unique('stranger');
    const verifier = verifierOn(store, sent, (email) => email === customer);
    const refusals: string[] = [];
    for (const email of [customer, stranger]) {
      for (let round = 0; round < 2; round++) {
        const conversation = `host:a:${email}-${round}`;
        await verifier.codes.start(conversation, email);
        for (let i = 0; i < 5; i++) await verifier.codes.confirm(conversation, '000000').catch(() => {});
      }
      refusals.push(await verifier.codes.start(`host:a:${email}-again`, email).then(() => 'started', (error: Error) => withoutTime(error.message)));
    }
    // Only the customer was mailed; the answers do not tell them apart.
    expect(sent.every((message) => message.to === customer)).toBe(true);
    expect(refusals[0]).toMatch(/paused until <time>/);
    expect(refusals[1]).toBe(refusals[0]);
  });

  it('a right code does not count against the budget', async () => {
    const sent: Sent = [];
    const [store] = open();
    const verifier = verifierOn(store, sent);
    const email = unique('honest');
    for (let round = 0; round < 3; round++) {
      const conversation = `host:a:honest-${round}`;
      const right = await startCode(verifier, sent, conversation, email);
      for (let i = 0; i < 3; i++) await verifier.codes.confirm(conversation, wrongFor(right)).catch(() => {});
      expect((await verifier.codes.confirm(conversation, right)).email).toBe(email);
    }
    expect(await verifier.codes.lockOf(email)).toBeUndefined();
  });
});

describe('the lock ends with its 24 hours', () => {
  afterEach(() => vi.useRealTimers());

  it('codes verify again once the window has passed', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'performance'] });
    const sent: Sent = [];
    const verifier = verifierOn(new MemoryStore(), sent);
    const email = unique('patient');
    for (let round = 0; round < 2; round++) {
      const right = await startCode(verifier, sent, `host:a:p-${round}`, email);
      for (let i = 0; i < 5; i++) await verifier.codes.confirm(`host:a:p-${round}`, wrongFor(right)).catch(() => {});
    }
    await expect(verifier.codes.start('host:a:p-late', email)).rejects.toThrow(LOCKED);
    vi.advanceTimersByTime(DAY_MS - 60_000);
    await expect(verifier.codes.start('host:a:p-late', email)).rejects.toThrow(LOCKED);
    vi.advanceTimersByTime(60_001);
    const late = await startCode(verifier, sent, 'host:a:p-late', email);
    expect((await verifier.codes.confirm('host:a:p-late', late)).email).toBe(email);
  });
});

describe('over HTTP: the lock, the token path, /metrics and the panel', () => {
  it('locks alice after 10 wrong codes in two chats; her identity token still works; metrics, panel and insight show the lock', async () => {
    const fx = await startHttpFixture();
    try {
      const post = async (conversation: string, tool: string, body: unknown, extra: Record<string, string> = {}) =>
        (await fetch(`${fx.url}/v1/tools/${tool}`, { method: 'POST', headers: { authorization: `Bearer ${HOST_A}`, 'x-conversation-id': conversation, 'content-type': 'application/json', ...extra }, body: JSON.stringify(body) })).json() as Promise<{ is_error: boolean; error?: { message: string } }>;
      const answers: string[] = [];
      for (const conversation of ['chat-1', 'chat-2']) {
        expect(await post(conversation, 'verify_email_start', { email: DEMO.emails.alice })).toMatchObject({ is_error: false });
        await expect.poll(() => fx.mailer.messages.filter((message) => message.to === DEMO.emails.alice).length).toBe(conversation === 'chat-1' ? 1 : 2);
        const right = fx.mailer.messages.at(-1)!.code;
        for (let i = 0; i < 5; i++) answers.push((await post(conversation, 'verify_email_confirm', { code: wrongFor(right) })).error!.message);
      }
      expect(answers.at(-1)).toMatch(LOCKED);
      const refused = await post('chat-3', 'verify_email_start', { email: DEMO.emails.alice });
      expect(refused.is_error).toBe(true);
      expect(refused.error!.message).toMatch(LOCKED);

      // The merchant's own sign-in still verifies her.
      const token = await fx.token(DEMO.emails.alice);
      expect(await post('chat-3', 'get_billing_info', {}, { 'x-customer-token': token })).toMatchObject({ is_error: false });

      const metrics = await (await fetch(`${fx.url}/metrics`, { headers: { authorization: `Bearer ${STAFF}` } })).text();
      expect(metrics).toContain('sbm_verification_locks_total 1');

      const cookie = await panelSignIn(fx.url, STAFF);
      const card = await (await fetch(`${fx.url}/panel/card?email=${encodeURIComponent(DEMO.emails.alice)}`, { headers: { cookie } })).text();
      expect(card).toMatch(/data-testid="code-lock"[^>]*>[^<]*Email codes are locked/);
      // The end is read from the store's TTL each time: the same moment, give or take a clock tick.
      const until = Date.parse(LOCKED.exec(refused.error!.message)![1]!);
      const shown = Date.parse(/<time datetime="([^"]+)">/.exec(card)![1]!);
      expect(Math.abs(shown - until)).toBeLessThan(1_000);
      const insight = (await (await fetch(`${fx.url}/v1/insight?email=${encodeURIComponent(DEMO.emails.alice)}`, { headers: { authorization: `Bearer ${STAFF}` } })).json()) as { code_verification_lock?: { until: string } };
      expect(Math.abs(Date.parse(insight.code_verification_lock!.until) - until)).toBeLessThan(1_000);
      // Bob, never guessed at, shows no lock.
      const bob = await (await fetch(`${fx.url}/panel/card?email=${encodeURIComponent(DEMO.emails.bob)}`, { headers: { cookie } })).text();
      expect(bob).not.toContain('code-lock');
    } finally {
      await fx.close();
    }
  });
});

describe('doctor describes the limit', () => {
  /** The doctor as the CLI runs it, on the in-process fake Stripe. */
  async function doctorRow(env: Record<string, string>, store?: Store) {
    const settings = testSettings({ SMTP_URL: 'smtp://127.0.0.1:1', MAIL_FROM: 'billing@acme.test', ...env });
    const fake = new FakeStripe({ now: 1_790_000_000 });
    const runtime = createRuntime({ settings, log: silentLogger(), maxNetworkRetries: 0, mailer: testMailer(), ...(store ? { store } : {}), fetch: async (input, init) => fake.handle(new Request(input, init)) });
    const report = await runDoctor({ settings, runtime, tools: ALL_TOOLS });
    return report.checks.find((check) => check.id === 'code_guessing');
  }

  it('names the cap and the window; with Redis it counts current locks, showing no address', async () => {
    expect((await doctorRow({}))?.detail).toMatch(/10 wrong codes per email address in 24 h/);

    const secret = 'doctor-verify-secret-0000000000000000000';
    const store = new RedisStore(redis.url, { keyPrefix: `doctor${Math.random().toString(36).slice(2)}:` });
    try {
      expect((await doctorRow({ STORE_URL: redis.url, VERIFY_SECRET: secret }, store))?.status).toBe('ok');
      const sent: Sent = [];
      const verifier = verifierOn(store, sent);
      const email = unique('doctor');
      for (let round = 0; round < 2; round++) {
        await verifier.codes.start(`host:a:d-${round}`, email);
        for (let i = 0; i < 5; i++) await verifier.codes.confirm(`host:a:d-${round}`, '000000').catch(() => {});
      }
      const locked = (await doctorRow({ STORE_URL: redis.url, VERIFY_SECRET: secret }, store))!;
      expect(locked.status).toBe('warn');
      expect(locked.detail).toMatch(/1 email address locked since \S+Z/);
      expect(locked.detail).not.toContain(email);
    } finally {
      await store.close();
    }
  });
});
