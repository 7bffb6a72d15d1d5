import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO, FakeStripe } from '../src/demo/fake-stripe/index.js';
import { serveFakeStripe } from '../src/demo/serve-fake-stripe.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';
import { startServer, stopProcess, type ServerProcess } from './support/serve-process.js';
import { startSmtpServer, type TestSmtpServer } from './support/smtp-server.js';

const HOST_KEY = 'scale_host_key_000000000000000000000';

describe('two server processes sharing one real redis-server behave as one', () => {
  let redis: RedisServer;
  let smtp: TestSmtpServer;
  let stripe: Awaited<ReturnType<typeof serveFakeStripe>>;
  const children: ChildProcess[] = [];
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    [redis, smtp, stripe] = await Promise.all([startRedisServer(), startSmtpServer(), serveFakeStripe(new FakeStripe(), { port: 0 })]);
    const env = {
      STRIPE_API_KEY: 'rk_test_fake_scale_000000000000',
      STRIPE_API_BASE: stripe.url,
      STORE_URL: redis.url,
      VERIFY_SECRET: 'scale-test-verify-secret-at-least-32-bytes',
      HOST_KEYS: `bot:${HOST_KEY}`,
      SMTP_URL: smtp.url,
      MAIL_FROM: 'billing@acme.test',
    };
    servers.push(...(await Promise.all([startServer(env, { started: children, timeoutMs: 15_000 }), startServer(env, { started: children, timeoutMs: 15_000 })])));
  }, 30_000);

  afterAll(async () => {
    // Every process started, even one whose start-up failed half way.
    await Promise.all(children.map(stopProcess));
    await Promise.all([redis?.stop(), smtp?.stop(), stripe?.close()]);
  });

  const call = async (server: number, tool: string, conversation: string, body: unknown = {}) => {
    const response = await fetch(`${servers[server]!.url}/v1/tools/${tool}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${HOST_KEY}`, 'x-conversation-id': conversation, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return (await response.json()) as { is_error: boolean; result?: Record<string, unknown>; error?: { kind: string; message: string } };
  };

  const codeFor = async (email: string) => {
    const mail = await smtp.waitForMessage(10_000);
    expect(mail.to).toEqual([email]);
    const code = /\b(\d{6})\b/.exec(mail.text ?? '')?.[1];
    expect(code).toMatch(/^\d{6}$/);
    return code!;
  };
  const subscriptionIds = (answer: Awaited<ReturnType<typeof call>>) => (answer.result?.subscriptions as Array<{ id: string }> | undefined)?.map((sub) => sub.id);

  it('a conversation verified through process 1 calls tools through process 2', async () => {
    expect(servers[0]!.url).not.toBe(servers[1]!.url);
    expect(await call(1, 'get_subscription_status', 'chat-42')).toMatchObject({ is_error: true, error: { kind: 'not_verified' } });
    expect(await call(0, 'verify_email_start', 'chat-42', { email: DEMO.emails.carol })).toMatchObject({ is_error: false, result: { status: 'code_sent' } });
    const code = await codeFor(DEMO.emails.carol);
    expect(await call(0, 'verify_email_confirm', 'chat-42', { code })).toMatchObject({ is_error: false, result: { verified: true, email: DEMO.emails.carol } });

    const status = await call(1, 'get_subscription_status', 'chat-42');
    expect(status.is_error, JSON.stringify(status.error)).toBe(false);
    expect(subscriptionIds(status)).toEqual([DEMO.subscriptions.carol]);
    expect(await call(1, 'get_verification_status', 'chat-42')).toMatchObject({ is_error: false, result: { verified: true, email: DEMO.emails.carol } });
    // Only that conversation: a neighbour is not verified on either process.
    for (const server of [0, 1]) expect(await call(server, 'get_billing_info', 'chat-43')).toMatchObject({ is_error: true, error: { kind: 'not_verified' } });
  });

  it('a code mailed through one process is confirmed through the other', async () => {
    expect(await call(1, 'verify_email_start', 'chat-77', { email: DEMO.emails.dave })).toMatchObject({ is_error: false });
    const code = await codeFor(DEMO.emails.dave);
    expect(await call(0, 'verify_email_confirm', 'chat-77', { code })).toMatchObject({ is_error: false, result: { verified: true, email: DEMO.emails.dave } });
    // Single use everywhere: the same code does nothing on the process that mailed it.
    expect(await call(1, 'verify_email_confirm', 'chat-77', { code })).toMatchObject({ is_error: true });
    for (const server of [0, 1]) expect(subscriptionIds(await call(server, 'get_subscription_status', 'chat-77')), `process ${server + 1}`).toEqual([DEMO.subscriptions.dave]);
  });

  it('enforces one per-email code budget across both processes', async () => {
    // Alternating processes: each sees 4 starts, under the budget of 5 on its own.
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push(await call(i % 2, 'verify_email_start', `budget-${i}`, { email: 'someone@example.com' }));
    expect(answers.slice(0, 5).map((answer) => answer.is_error)).toEqual([false, false, false, false, false]);
    for (const answer of answers.slice(5)) expect(answer).toMatchObject({ is_error: true, error: { message: expect.stringMatching(/Too many codes/) } });
  });

  it('counts wrong codes across both processes', async () => {
    expect(await call(0, 'verify_email_start', 'chat-guess', { email: DEMO.emails.erin })).toMatchObject({ is_error: false });
    const code = await codeFor(DEMO.emails.erin);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    for (let i = 0; i < 5; i++) expect(await call(i % 2, 'verify_email_confirm', 'chat-guess', { code: wrong })).toMatchObject({ is_error: true });
    // Five wrong guesses in all, but only three on the process that mailed the code: the right
    // code no longer works there either.
    expect(await call(0, 'verify_email_confirm', 'chat-guess', { code })).toMatchObject({ is_error: true, error: { message: expect.stringMatching(/no active code|no longer works/) } });
    expect(await call(0, 'get_billing_info', 'chat-guess')).toMatchObject({ is_error: true, error: { kind: 'not_verified' } });
  });
});
