import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO, FakeStripe } from '../src/demo/fake-stripe/index.js';
import { serveFakeStripe } from '../src/demo/serve-fake-stripe.js';
import { CLI_PATH, cleanEnv } from './support/cli.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';
import { startSmtpServer, type TestSmtpServer } from './support/smtp-server.js';

const HOST_KEY = 'scale_host_key_000000000000000000000';

/** Starts `stripe-billing-mcp serve` as its own process and waits for the URL it logs. */
function startServer(env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, 'serve'], { env: cleanEnv({ LOG_LEVEL: 'info', PORT: '0', ...env }), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 15_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(stderr)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ url, child });
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${stderr}`)));
  });
}

describe('two server processes sharing one real redis-server behave as one', () => {
  let redis: RedisServer;
  let smtp: TestSmtpServer;
  let stripe: Awaited<ReturnType<typeof serveFakeStripe>>;
  const servers: Array<{ url: string; child: ChildProcess }> = [];

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
    servers.push(...(await Promise.all([startServer(env), startServer(env)])));
  }, 30_000);

  afterAll(async () => {
    for (const server of servers) server.child.kill('SIGTERM');
    await Promise.all([redis?.stop(), smtp?.stop(), stripe?.close()]);
  });

  const call = async (server: number, tool: string, conversation: string, body: unknown = {}) => {
    const response = await fetch(`${servers[server]!.url}/v1/tools/${tool}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${HOST_KEY}`, 'x-conversation-id': conversation, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return (await response.json()) as { is_error: boolean; result?: Record<string, unknown>; error?: { message: string } };
  };

  it('a conversation verified through process 1 calls tools through process 2', async () => {
    expect(servers[0]!.url).not.toBe(servers[1]!.url);
    expect((await call(1, 'get_subscription_status', 'chat-42')).is_error).toBe(true);
    expect(await call(0, 'verify_email_start', 'chat-42', { email: DEMO.emails.carol })).toMatchObject({ is_error: false });
    const mail = await smtp.waitForMessage(10_000);
    const code = /\b(\d{6})\b/.exec(mail.text ?? '')![1];
    // Confirmed through the other process: the challenge lives in Redis.
    expect(await call(1, 'verify_email_confirm', 'chat-42', { code })).toMatchObject({ is_error: false, result: { verified: true } });
    const status = await call(1, 'get_subscription_status', 'chat-42');
    expect(status.is_error).toBe(false);
    expect((status.result!.subscriptions as Array<{ id: string }>).map((sub) => sub.id)).toEqual([DEMO.subscriptions.carol]);
    expect((await call(0, 'get_billing_info', 'chat-42')).is_error).toBe(false);
    expect((await call(0, 'get_billing_info', 'chat-43')).is_error).toBe(true);
  });

  it('enforces one per-email code budget across both processes', async () => {
    const results: boolean[] = [];
    for (let i = 0; i < 8; i++) results.push(!(await call(i % 2, 'verify_email_start', `budget-${i}`, { email: 'someone@example.com' })).is_error);
    expect(results.filter(Boolean)).toHaveLength(5);
    expect(results.slice(5)).toEqual([false, false, false]);
  });
});
