import type { AuditTrail } from '../../src/audit/audit-trail.js';
import { afterEach, expect } from 'vitest';
import { FakeStripe } from '../../src/demo/fake-stripe/index.js';
import { mintIdentityToken } from '../../src/demo/demo-identity.js';
import { silentLogger, type Logger } from '../../src/log.js';
import { createRuntime, type RuntimeOptions } from '../../src/runtime.js';
import { startHttpServer, type RunningHttpServer } from '../../src/http/serve.js';
import { startToolAvailability } from '../../src/tools/lib/tool-availability.js';
import { ALL_TOOLS, selectTools } from '../../src/tools/registry.js';
import { createIdentityTokenVerifier } from '../../src/verify/identity-token.js';
import type { Store } from '../../src/verify/store.js';
import type { ToolRuntime } from '../../src/tools/lib/context.js';
import { budgetFor, testMailer, testSettings } from './mcp-harness.js';

export const HOST_A = 'host_a_secret_000000000000000000000';
export const HOST_B = 'host_b_secret_000000000000000000000';
export const STAFF = 'staff_secret_0000000000000000000000';
export const IDENTITY_SECRET = 'http-test-identity-secret-32-bytes-long!';

export interface HttpFixture {
  url: string;
  fake: FakeStripe;
  mailer: ReturnType<typeof testMailer>;
  server: RunningHttpServer;
  runtime: ToolRuntime;
  token(email: string, ttlSeconds?: number, secret?: string): Promise<string>;
  close(): Promise<void>;
}

/** The real HTTP server on a free loopback port, Stripe answered in-process by the fake. */
export async function startHttpFixture(
  env: Record<string, string> = {},
  options: { stripeDelayMs?: number; store?: Store; log?: Logger; fake?: FakeStripe; probeTools?: boolean; smtp?: boolean; stripeRetries?: number; requestTimeoutMs?: number; headersTimeoutMs?: number; maxConnections?: number; audit?: AuditTrail; actionsClock?: () => number; actionsExecute?: RuntimeOptions['actionsExecute'] } = {},
): Promise<HttpFixture> {
  const fake = options.fake ?? new FakeStripe({ now: 1_790_000_000 });
  const mailer = testMailer();
  const settings = testSettings({
    HOST_KEYS: `host-a:${HOST_A},host-b:${HOST_B}`,
    STAFF_KEYS: `support:${STAFF}`,
    IDENTITY_SECRET,
    PORT: '0',
    WRITE_TOOLS: 'all',
    ...env,
  });
  const runtime = createRuntime({
    settings,
    log: options.log ?? silentLogger(),
    maxNetworkRetries: options.stripeRetries ?? 0,
    ...budgetFor(env),
    // As `serve` does: with a signing secret, webhook events keep cached answers fresh.
    webhooks: settings.STRIPE_WEBHOOK_SECRET !== undefined,
    // `smtp`: codes go to SMTP_URL for real instead of the in-memory inbox.
    ...(options.smtp ? {} : { mailer }),
    ...(options.store ? { store: options.store } : {}),
    ...(options.audit ? { audit: options.audit } : {}),
    // Action tests: the requests' clock (expiry, quiet executions) and Stripe retry delays.
    ...(options.actionsClock ? { actionsClock: options.actionsClock } : {}),
    ...(options.actionsExecute ? { actionsExecute: options.actionsExecute } : {}),
    fetch: async (input, init) => {
      if (options.stripeDelayMs) await new Promise((resolve) => setTimeout(resolve, options.stripeDelayMs));
      return fake.handle(new Request(input, init));
    },
  });
  const tools = selectTools({ allowlist: settings.TOOLS, writeTools: settings.WRITE_TOOLS }, ALL_TOOLS);
  // As `serve` does: probe the key and account first, so unusable tools are never listed.
  if (options.probeTools) await startToolAvailability(runtime, tools, settings);
  const server = await startHttpServer({
    settings,
    runtime,
    tools,
    verifier: createIdentityTokenVerifier(settings),
    requestTimeoutMs: options.requestTimeoutMs,
    headersTimeoutMs: options.headersTimeoutMs,
    maxConnections: options.maxConnections,
  });
  return {
    url: server.url,
    fake,
    runtime,
    mailer,
    server,
    token: (email, ttlSeconds = 600, secret = IDENTITY_SECRET) => mintIdentityToken(email, secret, ttlSeconds),
    close: () => server.close(),
  };
}

/** Verifies a conversation the way a visitor would: the code comes from the (test) inbox. */
export async function verifyConversationByCode(fx: HttpFixture, hostKey: string, conversation: string, email: string): Promise<void> {
  const headers = { authorization: `Bearer ${hostKey}`, 'x-conversation-id': conversation, 'content-type': 'application/json' };
  const post = async (tool: string, body: unknown) => (await fetch(`${fx.url}/v1/tools/${tool}`, { method: 'POST', headers, body: JSON.stringify(body) })).json();
  expect(await post('verify_email_start', { email })).toMatchObject({ is_error: false, result: { status: 'code_sent' } });
  await expect.poll(() => fx.mailer.messages.some((message) => message.to === email)).toBe(true);
  const code = [...fx.mailer.messages].reverse().find((message) => message.to === email)!.code;
  expect(await post('verify_email_confirm', { code })).toMatchObject({ is_error: false, result: { verified: true, email } });
}

/** Fixtures pushed here are closed after each test of the enclosing file or block. */
export function closedAfterEach(): HttpFixture[] {
  const fixtures: HttpFixture[] = [];
  afterEach(async () => {
    await Promise.all(fixtures.splice(0).map((fx) => fx.close()));
  });
  return fixtures;
}
