import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEMO } from '../src/demo/fake-stripe/index.js';
import { ToolError } from '../src/errors.js';
import { REDACT_PATHS, silentLogger } from '../src/log.js';
import { createRuntime } from '../src/runtime.js';
import { CODE_SENT_MESSAGE, EmailCodeVerifier, WRONG_CODES_PER_EMAIL_PER_DAY, type CodeLimits } from '../src/verify/email-codes.js';
import { GrantStore } from '../src/verify/grants.js';
import { MemoryStore } from '../src/verify/memory-store.js';
import { RedisStore } from '../src/verify/redis-store.js';
import type { Store } from '../src/verify/store.js';
import { useFakeStripe } from './support/fake-stripe-msw.js';
import { connectClient, errorText, structured, testMailer, testRuntime, testSettings } from './support/mcp-harness.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';
import { startSmtpServer, type TestSmtpServer } from './support/smtp-server.js';

const stripe = useFakeStripe({ now: 1_790_000_000 });
const codeIn = (text: string | undefined) => /\b(\d{6})\b/.exec(text ?? '')?.[1];

describe('email one-time codes over real SMTP', () => {
  let smtp: TestSmtpServer;
  beforeAll(async () => {
    smtp = await startSmtpServer();
  });
  afterAll(() => smtp.stop());
  const env = () => ({ SMTP_URL: smtp.url, MAIL_FROM: 'Acme Billing <billing@acme.test>', MERCHANT_NAME: 'Acme' });
  // One runtime (one server process) for both conversations of a test.
  const runtimeWithSmtp = () => createRuntime({ settings: testSettings(env()), log: silentLogger(), maxNetworkRetries: 0 });

  it('mails a code that unlocks the customer tools for that conversation only', async () => {
    const runtime = runtimeWithSmtp();
    const x = await connectClient({ visitor: 'host:conv-x' }, { runtime });
    const y = await connectClient({ visitor: 'host:conv-y' }, { runtime });

    expect(errorText(await x.call('get_billing_info'))).toMatch(/call verify_email_start/);
    const started = structured(await x.call('verify_email_start', { email: '  Alice@Example.com ' }));
    expect(started).toEqual({ status: 'code_sent', expires_in_minutes: 10, message: CODE_SENT_MESSAGE });

    const mail = await smtp.waitForMessage(5_000);
    expect(mail.to).toEqual(['alice@example.com']);
    expect(mail.from).toBe('billing@acme.test');
    const code = codeIn(mail.text)!;
    expect(mail.html).toContain(code);
    expect(mail.text).toContain('Acme');

    // The code means nothing in another conversation.
    expect(errorText(await y.call('verify_email_confirm', { code }))).toMatch(/no active code/);
    const confirmed = structured<{ verified: boolean; email: string }>(await x.call('verify_email_confirm', { code }));
    expect(confirmed).toMatchObject({ verified: true, email: 'alice@example.com' });

    const info = structured<{ email?: string; customers?: unknown }>(await x.call('get_billing_info'));
    expect(JSON.stringify(info)).toContain('alice@example.com');
    expect(structured(await x.call('get_verification_status'))).toMatchObject({ verified: true, email: 'alice@example.com', method: 'email-code' });
    expect(errorText(await y.call('get_billing_info'))).toMatch(/not been verified/);
    expect(structured(await y.call('get_verification_status'))).toMatchObject({ verified: false });

    // Used once: the same code cannot verify again.
    expect(errorText(await x.call('verify_email_confirm', { code }))).toMatch(/no active code/);
    await x.close();
    await y.close();
  });

  it('answers byte for byte the same for an email with and without a billing account, and mails only the first', async () => {
    const runtime = runtimeWithSmtp();
    const a = await connectClient({ visitor: 'host:enum-a' }, { runtime });
    const b = await connectClient({ visitor: 'host:enum-b' }, { runtime });
    const before = smtp.messages.length;
    const existing = await a.call('verify_email_start', { email: DEMO.emails.bob });
    const missing = await b.call('verify_email_start', { email: DEMO.emails.nobody });
    expect(JSON.stringify(missing)).toBe(JSON.stringify(existing));
    await smtp.waitForMessage(5_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(smtp.messages.slice(before).map((message) => message.to)).toEqual([[DEMO.emails.bob]]);
    await a.close();
    await b.close();
  });

  it('rejects malformed emails clearly and never lets input reach Stripe search syntax', async () => {
    const session = await connectClient({ visitor: 'host:inject' }, { runtime: runtimeWithSmtp() });
    for (const email of ['not-an-email', 'alice@example.com" OR email:"bob@example.com', 'a\\"b@example.com', 'alice@example.com OR bob@example.com', 'alice AND bob@example.com', '"@example.com']) {
      expect(errorText(await session.call('verify_email_start', { email })), email).toMatch(/does not look like an email address/);
    }
    expect(stripe.fake().requests.filter((request) => request.path.includes('search'))).toEqual([]);
    // A legitimate address with a leading dash is quoted and escaped, not parsed as negation.
    expect(structured(await session.call('verify_email_start', { email: '-carol@example.com' }))).toMatchObject({ status: 'code_sent' });
    await vi.waitFor(() => expect(stripe.fake().requests.some((request) => request.path.includes('search'))).toBe(true));
    const search = stripe.fake().requests.find((request) => request.path.includes('search'))!;
    expect(search.params.query).toBe('email:"-carol@example.com"');
    await session.close();
  });

  it('reports a mail outage the same way whether the first address asked about was a customer or not', async () => {
    for (const first of [DEMO.emails.nobody, DEMO.emails.alice]) {
      const runtime = createRuntime({ settings: testSettings({ SMTP_URL: 'smtp://127.0.0.1:1', MAIL_FROM: 'billing@acme.test' }), log: silentLogger(), maxNetworkRetries: 0 });
      const a = await connectClient({ visitor: `host:outage-a-${first}` }, { runtime });
      const b = await connectClient({ visitor: `host:outage-b-${first}` }, { runtime });
      expect(structured(await a.call('verify_email_start', { email: first }))).toMatchObject({ status: 'code_sent' });
      await vi.waitFor(async () => expect(errorText(await b.call('verify_email_start', { email: DEMO.emails.carol }))).toMatch(/cannot be sent right now/), { timeout: 15_000 });
      await a.close();
      await b.close();
    }
  });

  it('gives the model a clean error when mail cannot be delivered, and logs the cause without the code', async () => {
    const lines: string[] = [];
    const log = pino({ redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) }));
    const runtime = createRuntime({
      settings: testSettings({ SMTP_URL: 'smtp://127.0.0.1:1', MAIL_FROM: 'billing@acme.test' }),
      log,
      maxNetworkRetries: 0,
    });
    const session = await connectClient({ visitor: 'host:mail-down' }, { runtime });
    const first = await session.call('verify_email_start', { email: DEMO.emails.alice });
    expect(structured(first)).toMatchObject({ status: 'code_sent' });
    await vi.waitFor(() => expect(lines.join('')).toMatch(/verification code could not be delivered/), { timeout: 15_000 });
    const other = await connectClient({ visitor: 'host:mail-down-2' }, { runtime });
    expect(errorText(await other.call('verify_email_start', { email: DEMO.emails.nobody }))).toMatch(/cannot be sent right now/);
    expect(lines.join('')).not.toMatch(/\b\d{6}\b.*code/);
    expect(lines.join('')).not.toContain(DEMO.emails.alice);
    await session.close();
    await other.close();
  });
});

const FAST: CodeLimits = { codeTtlMs: 10 * 60_000, maxAttempts: 5, resendCooldownMs: 1, codesPerEmailPerHour: 5, emailsPerConversationPerDay: 3 };

function verifierOn(store: Store, sent: Array<{ to: string; code: string }>, limits = FAST, now?: () => number) {
  const grants = new GrantStore(store, undefined, now);
  const codes = new EmailCodeVerifier({
    store,
    grants,
    secret: new TextEncoder().encode('test-verify-secret-that-is-32-bytes-long!'),
    log: silentLogger(),
    customerExists: async (email) => email !== DEMO.emails.nobody,
    sendCode: async (message) => {
      sent.push(message);
    },
    limits,
    ...(now ? { now } : {}),
  });
  return { codes, grants };
}

const randomGuess = () => String(Math.floor(Math.random() * 1_000_000)).padStart(6, '0');
const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

describe.each([
  ['memory', async () => ({ stores: [new MemoryStore(), undefined] as const, stop: async () => {} })],
  [
    'redis, two clients on one real redis-server',
    async () => {
      const server: RedisServer = await startRedisServer();
      const prefix = `t${Date.now()}:`;
      const a = new RedisStore(server.url, { keyPrefix: prefix });
      const b = new RedisStore(server.url, { keyPrefix: prefix });
      return { stores: [a, b] as const, stop: async () => (await a.close(), await b.close(), await server.stop()) };
    },
  ],
] as const)('brute force and replay, %s', (_name, setup) => {
  let env: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    env = await setup();
  });
  afterAll(() => env.stop());
  /** Process 1 and process 2: the second shares the first's store when the backend allows. */
  const processes = (sent: Array<{ to: string; code: string }>) => {
    const [first, second] = env.stores;
    return [verifierOn(first, sent), verifierOn(second ?? first, sent)] as const;
  };

  it('voids a challenge after 5 wrong codes, even when the right one comes next', async () => {
    const sent: Array<{ to: string; code: string }> = [];
    const [p1, p2] = processes(sent);
    const conversation = `c-${Math.random()}`;
    await p1.codes.start(conversation, 'carol@example.com');
    await settle();
    const right = sent[0]!.code;
    const wrong = right === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++) await expect((i % 2 ? p2 : p1).codes.confirm(conversation, wrong)).rejects.toThrow(/not right/);
    await expect(p2.codes.confirm(conversation, right)).rejects.toThrow(/no active code|no longer works|Too many wrong/);
    expect(await p1.grants.use(conversation)).toBeUndefined();
  });

  it('grants no access to 1,000 random guesses spread over fresh challenges and conversations', async () => {
    const sent: Array<{ to: string; code: string }> = [];
    const [p1, p2] = processes(sent);
    const target = `victim${Math.random().toString(36).slice(2)}@example.com`;
    let issued = 0;
    let evaluated = 0;
    for (let guess = 0; guess < 1000; ) {
      const conversation = `attacker-${guess}`;
      const proc = guess % 2 ? p2 : p1;
      try {
        await proc.codes.start(conversation, target);
        issued++;
      } catch {
        // refused by a limit: keep guessing anyway
      }
      for (let i = 0; i < 5 && guess < 1000; i++, guess++) {
        try {
          await (i % 2 ? p1 : p2).codes.confirm(conversation, randomGuess());
          throw new Error('a random guess was accepted');
        } catch (error) {
          if ((error as Error).message.includes('not right')) evaluated++;
          else expect((error as Error).message).toMatch(/no active code|Too many|no longer works/);
        }
      }
      expect(await proc.grants.use(conversation)).toBeUndefined();
    }
    // The per-email budget of wrong codes (10 a day) holds across both processes: two codes were
    // issued, 10 guesses checked, and then the address took no new code.
    expect(issued).toBe(WRONG_CODES_PER_EMAIL_PER_DAY / FAST.maxAttempts);
    expect(evaluated).toBeLessThanOrEqual(WRONG_CODES_PER_EMAIL_PER_DAY);
  });

  it('limits distinct emails per conversation and new codes per conversation', async () => {
    const sent: Array<{ to: string; code: string }> = [];
    const [p1, p2] = processes(sent);
    const conversation = `cycler-${Math.random()}`;
    for (const email of ['a1@example.com', 'a2@example.com', 'a3@example.com']) {
      await p1.codes.start(conversation, email);
      await settle();
    }
    await expect(p2.codes.start(conversation, 'a4@example.com')).rejects.toThrow(/Too many different email addresses/);
    const slow = verifierOn(env.stores[0], sent, { ...FAST, resendCooldownMs: 60_000 });
    await slow.codes.start('cooldown-conv', 'b1@example.com');
    const refusal = await slow.codes.start('cooldown-conv', 'b1@example.com').catch((error: Error) => error.message);
    expect(refusal).toMatch(/less than a minute ago.*in (59|60) seconds/);
  });

  it('keeps refusing an address over the per-conversation limit when it is tried again', async () => {
    const sent: Array<{ to: string; code: string }> = [];
    const [p1, p2] = processes(sent);
    const conversation = `retry-${Math.random()}`;
    for (const email of ['r1@example.com', 'r2@example.com', 'r3@example.com']) {
      await p1.codes.start(conversation, email);
      await settle();
    }
    await expect(p1.codes.start(conversation, 'r4@example.com')).rejects.toThrow(/Too many different email addresses/);
    await settle();
    await expect(p2.codes.start(conversation, 'r4@example.com')).rejects.toThrow(/Too many different email addresses/);
    await settle();
    expect(sent.map((message) => message.to)).not.toContain('r4@example.com');
  });

  it('issues one code for a burst of concurrent starts in one conversation', async () => {
    const sent: Array<{ to: string; code: string }> = [];
    const slow = { ...FAST, resendCooldownMs: 60_000 };
    const procs = [verifierOn(env.stores[0], sent, slow), verifierOn(env.stores[1] ?? env.stores[0], sent, slow)];
    const conversation = `burst-${Math.random()}`;
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => procs[i % 2]!.codes.start(conversation, 'burst@example.com')));
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    await settle();
    expect(sent.filter((message) => message.to === 'burst@example.com')).toHaveLength(1);
  });

  it('a new code does not reset the count of wrong guesses made at it while it was being issued', async () => {
    const sent: Array<{ to: string; code: string }> = [];
    const base = env.stores[0];
    let whileIssuing: (() => Promise<void>) | undefined;
    // Runs the hook right after the challenge is stored, as a confirm on another process could.
    const hooked = new Proxy(base, {
      get(target, property, receiver) {
        if (property === 'set') {
          return async (key: string, value: string, ttlMs: number) => {
            await target.set(key, value, ttlMs);
            const hook = key.startsWith('code:') ? whileIssuing : undefined;
            whileIssuing = undefined;
            if (hook) await hook();
          };
        }
        const member = Reflect.get(target, property, receiver) as unknown;
        return typeof member === 'function' ? member.bind(target) : member;
      },
    }) as Store;
    const p = verifierOn(hooked, sent);
    const conversation = `reset-${Math.random()}`;
    whileIssuing = async () => {
      for (let i = 0; i < 4; i++) await p.codes.confirm(conversation, '000000').catch(() => {});
    };
    await p.codes.start(conversation, 'frank@example.com');
    await settle();
    const right = sent.at(-1)!.code;
    const wrong = right === '111111' ? '222222' : '111111';
    await expect(p.codes.confirm(conversation, wrong)).rejects.toThrow(/no longer works|no active code/);
    await expect(p.codes.confirm(conversation, right)).rejects.toThrow(/no active code|no longer works|Too many wrong/);
  });

  it('refuses a used code and a code from another conversation', async () => {
    const sent: Array<{ to: string; code: string }> = [];
    const [p1, p2] = processes(sent);
    await p1.codes.start('conv-x', 'dave@example.com');
    await settle();
    const code = sent.at(-1)!.code;
    await expect(p2.codes.confirm('conv-y', code)).rejects.toThrow(/no active code/);
    const grant = await p2.codes.confirm('conv-x', code);
    expect(grant.email).toBe('dave@example.com');
    await expect(p1.codes.confirm('conv-x', code)).rejects.toThrow(/no active code/);
    expect(await p1.grants.use('conv-y')).toBeUndefined();
    expect((await p1.grants.use('conv-x'))?.email).toBe('dave@example.com');
  });

  it('lets exactly one of many concurrent confirmations of the right code through', async () => {
    const sent: Array<{ to: string; code: string }> = [];
    const [p1, p2] = processes(sent);
    await p1.codes.start('race', 'erin@example.jp');
    await settle();
    const code = sent.at(-1)!.code;
    const results = await Promise.allSettled(Array.from({ length: 4 }, (_, i) => (i % 2 ? p1 : p2).codes.confirm('race', code)));
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
  });
});

describe('a code the visitor was promised', () => {
  const starter = (customerExists: (email: string) => Promise<boolean>, sent: Array<{ to: string; code: string }>) =>
    new EmailCodeVerifier({
      store: new MemoryStore(),
      grants: new GrantStore(new MemoryStore()),
      secret: new TextEncoder().encode('test-verify-secret-that-is-32-bytes-long!'),
      log: silentLogger(),
      customerExists,
      sendCode: async (message) => {
        sent.push(message);
      },
      limits: FAST,
      deliveryRetryDelaysMs: [10, 10, 10],
    });

  it('still arrives when the customer look-up is busy at first (a cold start spent the Stripe budget)', async () => {
    const sent: Array<{ to: string; code: string }> = [];
    let lookups = 0;
    const codes = starter(async () => {
      if (++lookups <= 2) throw new ToolError('busy', 'The billing assistant is busy.');
      return true;
    }, sent);
    await codes.start('c-busy', 'carol@example.com');
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    expect(lookups).toBe(3);
    expect((await codes.confirm('c-busy', sent[0]!.code)).email).toBe('carol@example.com');
  });

  it('is not retried for ever, nor when the set-up is wrong', async () => {
    const sent: Array<{ to: string; code: string }> = [];
    let lookups = 0;
    await starter(async () => {
      lookups++;
      throw new ToolError('busy', 'busy');
    }, sent).start('c-down', 'carol@example.com');
    await vi.waitFor(() => expect(lookups).toBe(4));
    let configLookups = 0;
    await starter(async () => {
      configLookups++;
      throw new ToolError('configuration', 'bad key');
    }, sent).start('c-config', 'carol@example.com');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(configLookups).toBe(1);
    expect(lookups).toBe(4);
    expect(sent).toHaveLength(0);
  });
});

describe('expiry, with fake timers', () => {
  afterEach(() => vi.useRealTimers());

  it('refuses a code after 10 minutes', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const sent: Array<{ to: string; code: string }> = [];
    const { codes } = verifierOn(new MemoryStore(), sent, FAST, () => Date.now());
    await codes.start('late', 'frank@example.com');
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    vi.advanceTimersByTime(10 * 60_000 + 1);
    await expect(codes.confirm('late', sent[0]!.code)).rejects.toThrow(/expired/);
  });

  it('ends a grant after 1 hour idle and after 24 hours in all, however often it is used', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const grants = new GrantStore(new MemoryStore(), undefined, () => Date.now());
    await grants.grant('idle', 'alice@example.com', 'email-code');
    vi.advanceTimersByTime(59 * 60_000);
    expect(await grants.use('idle')).toBeDefined();
    vi.advanceTimersByTime(60 * 60_000);
    expect(await grants.use('idle')).toBeUndefined();

    await grants.grant('busy', 'alice@example.com', 'email-code');
    for (let hour = 0; hour < 23; hour++) {
      vi.advanceTimersByTime(50 * 60_000);
      expect(await grants.use('busy'), `after ${hour} uses`).toBeDefined();
    }
    vi.advanceTimersByTime(5 * 3600_000);
    expect(await grants.use('busy')).toBeUndefined();
  });
});

describe('VERIFY_MODE=trust-email', () => {
  it('matches the typed email without verification and says so in every result and log line', async () => {
    const lines: string[] = [];
    const log = pino({ redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) }));
    const runtime = createRuntime({ settings: testSettings({ VERIFY_MODE: 'trust-email' }), log, maxNetworkRetries: 0 });
    expect(lines.join('')).toMatch(/WITHOUT verification/);
    const session = await connectClient({ visitor: 'host:trusting' }, { runtime });
    expect(structured(await session.call('verify_email_start', { email: DEMO.emails.bob }))).toMatchObject({ status: 'accepted_unverified' });
    for (const tool of ['get_subscription_status', 'get_billing_info', 'get_invoice_history']) {
      const result = await session.call(tool);
      expect(structured(result).identity_notice, tool).toMatch(/UNVERIFIED IDENTITY/);
      expect(JSON.stringify(result.content), tool).toMatch(/UNVERIFIED IDENTITY/);
    }
    expect(structured(await session.call('get_verification_status'))).toMatchObject({ verified: false, method: 'trust-email' });
    const toolLines = lines.filter((line) => /"tool":"get_/.test(line));
    expect(toolLines.length).toBeGreaterThan(0);
    for (const line of toolLines) expect(line).toContain('UNVERIFIED (trust-email)');
    await session.close();
  });

  it('refuses what is not an email address instead of binding it to the conversation', async () => {
    const session = await connectClient({ visitor: 'host:trusting-odd' }, { runtime: testRuntime({ VERIFY_MODE: 'trust-email' }) });
    for (const email of ['', '   ', 'not-an-email', 'a"b@example.com']) {
      expect(errorText(await session.call('verify_email_start', { email })), email).toMatch(/does not look like an email address/);
    }
    expect(structured(await session.call('get_verification_status'))).toMatchObject({ verified: false });
    expect(structured(await session.call('get_verification_status')).email).toBeUndefined();
    await session.close();
  });

  it('a normal verified customer sees no notice', async () => {
    const session = await connectClient({ customer: DEMO.emails.bob }, { runtime: testRuntime({}, { mailer: testMailer() }) });
    expect(structured(await session.call('get_subscription_status')).identity_notice).toBeUndefined();
    await session.close();
  });
});
