import { describe, expect, it } from 'vitest';
import { DEMO, FakeStripe } from '../../src/demo/fake-stripe/index.js';
import { closedAfterEach, HOST_A, HOST_B, STAFF, startHttpFixture, type HttpFixture } from '../support/http-harness.js';
import { useRedisServer } from '../support/redis-server.js';

const CUSTOMERS = [DEMO.emails.alice, DEMO.emails.bob, DEMO.emails.carol, DEMO.emails.dave, DEMO.emails.erin, DEMO.emails.frank, DEMO.emails.heidi, DEMO.emails.aliceWork, DEMO.emails.bobAlice];
const TOOLS = ['get_customer_overview', 'get_subscription_status', 'get_payment_history', 'get_billing_info', 'get_credit_balance'];

interface Answer {
  status: number;
  retryAfter: string | null;
  body: { is_error: boolean; error?: { kind: string; message: string } };
}

async function callTool(fx: HttpFixture, hostKey: string, tool: string, headers: Record<string, string>, body: unknown = {}): Promise<Answer> {
  const response = await fetch(`${fx.url}/v1/tools/${tool}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${hostKey}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as Answer['body'] };
}

/** An answer, or the clean "busy" refusal: nothing else may come out of a burst. */
function expectAnsweredOrBusy(answer: Answer): 'answered' | 'busy' {
  if (answer.status === 429) {
    expect(answer.body.error?.kind).toBe('busy');
    expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
    return 'busy';
  }
  expect(answer.status).toBe(200);
  if (answer.body.is_error) expect(answer.body.error, JSON.stringify(answer.body)).toMatchObject({ kind: 'busy' });
  return answer.body.is_error ? 'busy' : 'answered';
}

const redis = useRedisServer();
const fixtures = closedAfterEach();

/**
 * The fake enforces Stripe's limits at a tenth of a sandbox's (10/s), so a test-sized burst reaches
 * them; the servers are told 8/s, the headroom the README advises. The fake answers in the same
 * process as both servers, so a busy event loop can deliver requests in bunches that a remote
 * Stripe would see spread out.
 */
const STRIPE_LIMITS = { global: 10, endpoint: 10 };
const shared = () => ({ STORE_URL: redis().url, VERIFY_SECRET: 'verify-secret-for-tests-at-least-32-bytes', STRIPE_RATE_LIMIT: '8' });

describe('a burst over two processes sharing Redis', () => {
  it('never takes Stripe past its limits: every caller gets an answer or the clean busy refusal', async () => {
    const fake = new FakeStripe({ now: 1_790_000_000, rateLimits: STRIPE_LIMITS });
    const [a, b] = [await startHttpFixture(shared(), { fake }), await startHttpFixture(shared(), { fake })];
    fixtures.push(a, b);
    const calls = Array.from({ length: 30 }, async (_, conversation) => {
      const fx = conversation % 2 === 0 ? a : b;
      const email = CUSTOMERS[conversation % CUSTOMERS.length]!;
      const headers = { 'x-customer-token': await fx.token(email), 'x-conversation-id': `burst-${conversation}` };
      const outcomes = [];
      for (let call = 0; call < 3; call++) outcomes.push(expectAnsweredOrBusy(await callTool(fx, HOST_A, TOOLS[(conversation + call) % TOOLS.length]!, headers)));
      return outcomes;
    });
    const outcomes = (await Promise.all(calls)).flat();
    expect(outcomes.filter((outcome) => outcome === 'answered').length).toBeGreaterThan(0);
    const stats = fake.rateLimitStats()!;
    expect(stats.limited).toBe(0);
    expect(stats.busiestSecond.global).toBeLessThanOrEqual(10);
    expect(stats.busiestSecond.endpoint).toBeLessThanOrEqual(10);
  });
});

describe('one caller cannot spend everyone\'s budget', () => {
  it('a host key flooding verify_email_start with new addresses stays within its share; another host key is still answered', async () => {
    const fake = new FakeStripe({ now: 1_790_000_000, rateLimits: STRIPE_LIMITS });
    // Half each, so the other host's cold look-up (five requests in two rounds) fits in what is left.
    const fx = await startHttpFixture({ ...shared(), CALLER_STRIPE_SHARE: '50' }, { fake });
    fixtures.push(fx);
    const flood = Array.from({ length: 40 }, (_, i) =>
      callTool(fx, HOST_A, 'verify_email_start', { 'x-conversation-id': `flood-${i}` }, { email: `new-visitor-${i}@example.org` }),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const other = await callTool(fx, HOST_B, 'get_subscription_status', { 'x-customer-token': await fx.token(DEMO.emails.carol), 'x-conversation-id': 'other-host' });
    expect(other.status).toBe(200);
    expect(other.body.is_error, JSON.stringify(other.body)).toBe(false);
    for (const answer of await Promise.all(flood)) {
      if (answer.status === 429 || answer.body.is_error) expectAnsweredOrBusy(answer);
    }
    const stats = fake.rateLimitStats()!;
    expect(stats.limited).toBe(0);
    expect(stats.busiestSecond.global).toBeLessThanOrEqual(10);
  });

  it('limits calls per conversation; over the limit /v1/tools answers 429 with Retry-After', async () => {
    const fx = await startHttpFixture({ CONVERSATION_CALLS_PER_MINUTE: '3' });
    fixtures.push(fx);
    const headers = { 'x-customer-token': await fx.token(DEMO.emails.alice), 'x-conversation-id': 'chatty' };
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await callTool(fx, HOST_A, 'get_subscription_status', headers));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 429, 429]);
    expect(answers[3]!.body.error!.message).toMatch(/Too many requests right now\. Try again in \d+ seconds?\./);
    expect(Number(answers[3]!.retryAfter)).toBeGreaterThan(0);
    // Another conversation of the same host is not held back.
    expect((await callTool(fx, HOST_A, 'get_subscription_status', { ...headers, 'x-conversation-id': 'quiet' })).status).toBe(200);
  });
});

describe('JSON-RPC batches on /mcp', () => {
  const rpc = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'get_subscription_status', arguments: {} } });
  const post = async (fx: HttpFixture, body: unknown, version: string) =>
    fetch(`${fx.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${HOST_A}`,
        'x-customer-token': await fx.token(DEMO.emails.alice),
        'x-conversation-id': `batch-${version}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': version,
      },
      body: JSON.stringify(body),
    });

  it('refuses a batch of 100 calls, and any batch from MCP 2025-06-18 on, before a single Stripe request', async () => {
    const fake = new FakeStripe({ now: 1_790_000_000 });
    const fx = await startHttpFixture({}, { fake });
    fixtures.push(fx);
    const hundred = await post(fx, Array.from({ length: 100 }, (_, i) => rpc(i + 1)), '2025-03-26');
    expect(hundred.status).toBe(400);
    expect(await hundred.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32600, message: 'A batch may hold at most 10 messages; this one has 100.' } });
    const current = await post(fx, [rpc(1), rpc(2)], '2025-06-18');
    expect(current.status).toBe(400);
    expect(((await current.json()) as { error: { message: string } }).error.message).toMatch(/not part of MCP 2025-06-18/);
    expect(fake.requests).toEqual([]);
  });

  it('counts each call of an allowed batch against the conversation’s limit', async () => {
    const fx = await startHttpFixture({ CONVERSATION_CALLS_PER_MINUTE: '4' });
    fixtures.push(fx);
    const response = await post(fx, Array.from({ length: 10 }, (_, i) => rpc(i + 1)), '2025-03-26');
    expect(response.status).toBe(200);
    const text = await response.text();
    const messages = (text.trimStart().startsWith('[') ? JSON.parse(text) : [...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]!))) as Array<{ result: { isError?: boolean; content: Array<{ text: string }>; _meta?: { retry_after_seconds?: number } } }>;
    const flat = messages.flat();
    expect(flat).toHaveLength(10);
    expect(flat.filter((message) => !message.result.isError)).toHaveLength(4);
    for (const refused of flat.filter((message) => message.result.isError)) {
      expect(refused.result.content[0]!.text).toMatch(/Too many requests right now/);
      expect(refused.result._meta?.retry_after_seconds).toBeGreaterThan(0);
    }
  });
});

describe('a Stripe 429', () => {
  it('is retried with backoff and then answered, and counted in /metrics', async () => {
    const fake = new FakeStripe({ now: 1_790_000_000 });
    const fx = await startHttpFixture({}, { fake, stripeRetries: 3 });
    fixtures.push(fx);
    fake.failNext({ status: 429, path: '/v1/subscriptions', times: 2, reason: 'endpoint-rate' });
    const answer = await callTool(fx, HOST_A, 'get_subscription_status', { 'x-customer-token': await fx.token(DEMO.emails.dave) });
    expect(answer.status).toBe(200);
    expect(answer.body.is_error).toBe(false);
    expect(fake.requests.filter((request) => request.path === '/v1/subscriptions').map((request) => request.status)).toEqual([429, 429, 200]);
    const metrics = await (await fetch(`${fx.url}/metrics`, { headers: { authorization: `Bearer ${STAFF}` } })).text();
    expect(metrics).toMatch(/sbm_stripe_rate_limited_total\{reason="endpoint-rate",outcome="retried"\} 2/);
  });

  it('that does not stop becomes a clean "temporarily unavailable", never Stripe\'s text', async () => {
    const fake = new FakeStripe({ now: 1_790_000_000 });
    const fx = await startHttpFixture({}, { fake, stripeRetries: 3 });
    fixtures.push(fx);
    fake.failNext({ status: 429, path: '/v1/subscriptions', times: 100 });
    const answer = await callTool(fx, HOST_A, 'get_subscription_status', { 'x-customer-token': await fx.token(DEMO.emails.dave) });
    expect(answer.status).toBe(200);
    expect(answer.body.error).toEqual({ kind: 'temporarily_unavailable', message: 'The billing system is temporarily unavailable (too many requests). Try again in a minute.' });
    expect(fake.requests.filter((request) => request.path === '/v1/subscriptions').length).toBe(4);
  });
});
