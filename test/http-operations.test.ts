import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { request as httpRequest, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { DEMO } from '../src/demo/fake-stripe/index.js';
import { healthRoutes } from '../src/http/health.js';
import { Metrics } from '../src/http/metrics.js';
import { gracefulShutdown, installSignalHandlers, refuseWhileDraining } from '../src/http/shutdown.js';
import { silentLogger } from '../src/log.js';
import type { ToolRuntime } from '../src/tools/lib/context.js';
import { MemoryStore } from '../src/verify/memory-store.js';
import { RedisStore } from '../src/verify/redis-store.js';
import { useFakeStripe } from './support/fake-stripe-msw.js';
import { HOST_A, STAFF, startHttpFixture } from './support/http-harness.js';
import { connectClient, TEST_STRIPE_KEY, testMailer, testRuntime } from './support/mcp-harness.js';

const call = (url: string, tool: string, headers: Record<string, string>, body: unknown = {}) =>
  fetch(`${url}/v1/tools/${tool}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('health, readiness and metrics', () => {
  it('/healthz is up; /readyz checks Stripe with the key and the store', async () => {
    const fx = await startHttpFixture();
    expect(await (await fetch(`${fx.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${fx.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', stripe: 'ok', store: 'ok', draining: false });
    expect(fx.fake.requests.filter((request) => request.method !== 'GET')).toEqual([]);
    await fx.close();
  });

  it.each([
    ['Stripe 5xx', (fx: Awaited<ReturnType<typeof startHttpFixture>>) => fx.fake.failNext({ status: 503, times: 5 })],
    ['a revoked key', (fx: Awaited<ReturnType<typeof startHttpFixture>>) => fx.fake.revokeKey(TEST_STRIPE_KEY)],
  ])('/readyz says not ready on %s, without Stripe\'s words or the key', async (_name, breakStripe) => {
    const fx = await startHttpFixture();
    breakStripe(fx);
    const response = await fetch(`${fx.url}/readyz`);
    const text = await response.text();
    expect(response.status).toBe(503);
    expect(JSON.parse(text)).toMatchObject({ status: 'not_ready', stripe: 'unreachable', store: 'ok' });
    expect(text).not.toMatch(/rk_test|Invalid API Key|api_error/);
    await fx.close();
  });

  it('/readyz says not ready when the store does not answer', async () => {
    const store = new MemoryStore();
    store.ping = async () => false;
    const fx = await startHttpFixture({}, { store });
    const response = await fetch(`${fx.url}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ stripe: 'ok', store: 'unreachable' });
    await fx.close();
  });

  it('/metrics (staff key only) counts tool calls by outcome, latency, Stripe requests and verification events', async () => {
    const fx = await startHttpFixture();
    const token = await fx.token(DEMO.emails.alice);
    await call(fx.url, 'get_subscription_status', { authorization: `Bearer ${HOST_A}`, 'x-customer-token': token });
    await call(fx.url, 'get_billing_info', { authorization: `Bearer ${HOST_A}` });
    await call(fx.url, 'verify_email_start', { authorization: `Bearer ${HOST_A}`, 'x-conversation-id': 'm-1' }, { email: DEMO.emails.bob });
    expect((await fetch(`${fx.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${fx.url}/metrics`, { headers: { authorization: `Bearer ${HOST_A}` } })).status).toBe(403);
    const metrics = await (await fetch(`${fx.url}/metrics`, { headers: { authorization: `Bearer ${STAFF}` } })).text();
    expect(metrics).toContain('sbm_tool_calls_total{tool="get_subscription_status",outcome="ok"} 1');
    expect(metrics).toContain('sbm_tool_calls_total{tool="get_billing_info",outcome="not_verified"} 1');
    expect(metrics).toMatch(/sbm_tool_call_duration_seconds_count\{tool="get_subscription_status"\} 1/);
    expect(metrics).toMatch(/sbm_stripe_requests_total\{method="GET",status="200"\} \d+/);
    expect(metrics).toContain('sbm_verification_events_total{event="code_sent"} 1');
    expect(metrics).not.toContain(DEMO.emails.bob);
    await fx.close();
  });
});

describe('graceful shutdown', () => {
  it('lets in-flight requests finish and refuses new ones', async () => {
    const fx = await startHttpFixture({}, { stripeDelayMs: 150 });
    const token = await fx.token(DEMO.emails.alice);
    const inFlight = call(fx.url, 'get_subscription_status', { authorization: `Bearer ${HOST_A}`, 'x-customer-token': token });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closing = fx.close();
    const late = await call(fx.url, 'get_subscription_status', { authorization: `Bearer ${HOST_A}`, 'x-customer-token': token }).then(
      (response) => response.status,
      () => 'refused',
    );
    expect([503, 'refused']).toContain(late);
    const finished = await inFlight;
    expect(finished.status).toBe(200);
    expect(((await finished.json()) as { is_error: boolean }).is_error).toBe(false);
    await closing;
    await expect(fetch(`${fx.url}/healthz`)).rejects.toThrow();
  });
});

describe('logs', () => {
  it('are JSON lines that never carry keys, tokens, codes or emails', async () => {
    const { Writable } = await import('node:stream');
    const pino = (await import('pino')).default;
    const { REDACT_PATHS } = await import('../src/log.js');
    const lines: string[] = [];
    const log = pino({ redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) }));
    const fx = await startHttpFixture({}, { log });
    const token = await fx.token(DEMO.emails.alice);
    await call(fx.url, 'get_customer_overview', { authorization: `Bearer ${HOST_A}`, 'x-customer-token': token });
    await call(fx.url, 'verify_email_start', { authorization: `Bearer ${HOST_A}`, 'x-conversation-id': 'log-1' }, { email: DEMO.emails.bob });
    await expect.poll(() => fx.mailer.messages.length).toBe(1);
    const code = fx.mailer.messages[0]!.code;
    await call(fx.url, 'verify_email_confirm', { authorization: `Bearer ${HOST_A}`, 'x-conversation-id': 'log-1' }, { code });
    await call(fx.url, 'get_billing_info', { authorization: `Bearer ${STAFF}` }, { email: DEMO.emails.carol });
    await fx.close();
    const all = lines.join('');
    expect(lines.some((line) => JSON.parse(line).msg === 'http request')).toBe(true);
    for (const secret of [HOST_A, STAFF, token, DEMO.emails.alice, DEMO.emails.bob, DEMO.emails.carol, TEST_STRIPE_KEY]) expect(all).not.toContain(secret);
    // Digit boundaries: a timestamp may contain the same six digits inside a longer number.
    expect(all).not.toMatch(new RegExp(`(?<!\\d)${code}(?!\\d)`));
  });
});

/** A runtime whose tool calls and Stripe responses feed `metrics`, as the HTTP server wires it. */
function observedRuntime(metrics: Metrics, extra: Parameters<typeof testRuntime>[1] = {}): ToolRuntime {
  const runtime = testRuntime({}, extra);
  metrics.attachStripe(runtime.stripe);
  return { ...runtime, observe: (event) => metrics.observeToolCall(event) };
}

// msw is scoped to these blocks: the shutdown tests below talk to a real loopback server.
describe('metrics from MCP tool calls', () => {
  useFakeStripe({ now: 1_790_000_000 });

  it('counts calls by tool and outcome, their latency, Stripe responses by method and status, and verification events', async () => {
    const metrics = new Metrics();
    const mailer = testMailer();
    const runtime = observedRuntime(metrics, { mailer });
    const alice = await connectClient({ customer: DEMO.emails.alice }, { runtime });
    expect((await alice.call('get_subscription_status')).isError).toBeFalsy();
    await alice.close();
    const visitor = await connectClient({ visitor: 'metrics-1' }, { runtime });
    expect((await visitor.call('verify_email_start', { email: DEMO.emails.bob })).isError).toBeFalsy();
    await expect.poll(() => mailer.messages.length).toBe(1);
    const wrong = mailer.messages[0]!.code === '000000' ? '111111' : '000000';
    expect((await visitor.call('verify_email_confirm', { code: wrong })).isError).toBe(true);
    expect((await visitor.call('verify_email_confirm', { code: mailer.messages[0]!.code })).isError).toBeFalsy();
    await visitor.close();
    metrics.observeHttp('/v1/tools/:name', 200);

    const { contentType, body } = await metrics.render();
    expect(contentType).toMatch(/^text\/plain/);
    expect(body).toContain('sbm_tool_calls_total{tool="get_subscription_status",outcome="ok"} 1');
    expect(body).toContain('sbm_tool_calls_total{tool="verify_email_confirm",outcome="input"} 1');
    expect(body).toMatch(/sbm_tool_call_duration_seconds_bucket\{le="10",tool="get_subscription_status"\} 1/);
    expect(body).toMatch(/sbm_stripe_requests_total\{method="GET",status="200"\} [1-9]/);
    expect(body).toContain('sbm_verification_events_total{event="code_sent"} 1');
    expect(body).toContain('sbm_verification_events_total{event="wrong_code_or_limited"} 1');
    expect(body).toContain('sbm_verification_events_total{event="confirmed"} 1');
    expect(body).toContain('sbm_http_requests_total{route="/v1/tools/:name",status="200"} 1');
    expect(body).toContain('sbm_process_cpu_user_seconds_total');
    // Labels never carry Stripe ids (paths) or who the customer is.
    const labelValues = [...body.matchAll(/="([^"]*)"/g)].map((match) => match[1]!);
    expect(labelValues.filter((value) => /^\/v1\/customers|(cus|sub|in|ch)_[A-Za-z0-9]|@/.test(value))).toEqual([]);
  });

  it('each Metrics has its own registry, so two apps in one process do not share counts', async () => {
    const first = new Metrics();
    const second = new Metrics();
    first.observeToolCall({ tool: 'get_billing_info', outcome: 'not_verified', ms: 12 });
    expect((await first.render()).body).toContain('sbm_tool_calls_total{tool="get_billing_info",outcome="not_verified"} 1');
    expect((await second.render()).body).not.toContain('sbm_tool_calls_total{');
  });

});

describe('health routes in-process', () => {
  const stripe = useFakeStripe({ now: 1_790_000_000 });
  const routes = (runtime: ToolRuntime, isDraining = () => false) => healthRoutes({ runtime, isDraining });

  it('/readyz is 200 when Stripe accepts the key and the store answers, and checks Stripe at most once per 10 s', async () => {
    const app = routes(testRuntime());
    const [first, second] = await Promise.all([app.request('/readyz'), app.request('/readyz')]);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ status: 'ready', stripe: 'ok', store: 'ok', draining: false });
    expect(second.status).toBe(200);
    expect((await app.request('/readyz')).status).toBe(200);
    expect(stripe.fake().requests.map((request) => `${request.method} ${request.path}`)).toEqual(['GET /v1/customers']);
  });

  it.each([
    ['Stripe answering 500', () => stripe.fake().failNext({ status: 500, times: 10 })],
    ['a revoked key', () => stripe.fake().revokeKey(TEST_STRIPE_KEY)],
  ])('/readyz is 503 on %s and names the part, not Stripe\'s words or the key', async (_name, breakStripe) => {
    breakStripe();
    const response = await routes(testRuntime()).request('/readyz');
    const text = await response.text();
    expect(response.status).toBe(503);
    expect(JSON.parse(text)).toEqual({ status: 'not_ready', stripe: 'unreachable', store: 'ok', draining: false });
    expect(text).not.toMatch(/rk_|Invalid API Key|api_error|error/i);
  });

  it('/readyz is 503 when the store does not answer PING (stub store)', async () => {
    const store = new MemoryStore();
    store.ping = async () => false;
    const response = await routes(testRuntime({}, { store })).request('/readyz');
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: 'not_ready', stripe: 'ok', store: 'unreachable', draining: false });
  });

  it('/readyz is 503 when Redis is not there (RedisStore on a closed port)', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createNetServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as AddressInfo;
        probe.close(() => resolve(free));
      });
    });
    const store = new RedisStore(`redis://127.0.0.1:${port}`);
    try {
      const response = await routes(testRuntime({}, { store })).request('/readyz');
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ stripe: 'ok', store: 'unreachable' });
    } finally {
      await store.close();
    }
  });

  it('while draining, /healthz and /readyz are 503', async () => {
    const app = routes(testRuntime(), () => true);
    const health = await app.request('/healthz');
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual({ status: 'draining' });
    const ready = await app.request('/readyz');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'not_ready', draining: true });
  });
});

describe('gracefulShutdown on a real @hono/node-server', () => {
  /** Plain node:http on loopback, with a keep-alive agent off so each call is its own connection. */
  function get(url: string): Promise<{ status: number; body: string; connection: string | undefined }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(url, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  }

  async function start(options: { timeoutMs?: number; refuse?: boolean } = {}) {
    let release: (() => void) | undefined;
    let markSlowStarted = () => {};
    const slowStarted = new Promise<void>((resolve) => (markSlowStarted = resolve));
    const closeResources = vi.fn(async () => {});
    const warnings: string[] = [];
    const log = silentLogger();
    log.warn = ((_obj: unknown, msg?: string) => void warnings.push(msg ?? '')) as typeof log.warn;
    const control: { isDraining: () => boolean } = { isDraining: () => false };
    const app = new Hono();
    if (options.refuse ?? true) app.use('*', refuseWhileDraining(() => control.isDraining()));
    app.get('/fast', (c) => c.text('fast'));
    app.get('/slow', async (c) => {
      markSlowStarted();
      await new Promise((resolve) => setTimeout(resolve, 300));
      return c.text('slow done');
    });
    app.get('/hang', async (c) => {
      markSlowStarted();
      await new Promise<void>((resolve) => (release = resolve));
      return c.text('never in time');
    });
    const { server, port } = await new Promise<{ server: Server; port: number }>((resolve) => {
      const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve({ server: started as Server, port: info.port }));
    });
    const stopper = gracefulShutdown(server, { log, closeResources, ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) });
    control.isDraining = stopper.isDraining;
    return { url: `http://127.0.0.1:${port}`, stopper, slowStarted, closeResources, warnings, release: () => release?.() };
  }

  it('lets a slow in-flight request finish, refuses new ones, then closes resources', async () => {
    const fx = await start();
    expect((await get(`${fx.url}/fast`)).status).toBe(200);
    const slow = get(`${fx.url}/slow`);
    await fx.slowStarted;
    const stopping = fx.stopper.shutdown('SIGTERM');
    expect(fx.stopper.isDraining()).toBe(true);
    expect(fx.stopper.shutdown()).toBe(stopping);
    const late = await get(`${fx.url}/fast`).then(
      (response) => response.status,
      (error: NodeJS.ErrnoException) => error.code,
    );
    expect([503, 'ECONNREFUSED']).toContain(late);
    const finished = await slow;
    expect(finished).toMatchObject({ status: 200, body: 'slow done', connection: 'close' });
    await stopping;
    expect(fx.closeResources).toHaveBeenCalledOnce();
    expect(fx.warnings).toEqual([]);
    await expect(get(`${fx.url}/fast`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('closes a keep-alive connection once its in-flight request ends, without waiting for the deadline', async () => {
    // No refuseWhileDraining here, so nothing sets Connection: close: the sweep must close the socket.
    // The deadline is shorter than Node's 5 s keep-alive timeout, so an unswept socket would be cut and warned about.
    const fx = await start({ timeoutMs: 3_000, refuse: false });
    const { Agent } = await import('node:http');
    const agent = new Agent({ keepAlive: true });
    const slow = new Promise<string | undefined>((resolve, reject) => {
      httpRequest(`${fx.url}/slow`, { agent }, (res) => res.resume().on('end', () => resolve(res.headers.connection))).on('error', reject).end();
    });
    await fx.slowStarted;
    await fx.stopper.shutdown();
    expect(await slow).toBe('keep-alive');
    expect(fx.warnings).toEqual([]);
    agent.destroy();
  });

  it('cuts requests still running at the deadline, then still closes resources', async () => {
    const fx = await start({ timeoutMs: 200 });
    const hung = get(`${fx.url}/hang`).then(
      () => 'answered',
      (error: NodeJS.ErrnoException) => error.code,
    );
    await fx.slowStarted;
    await fx.stopper.shutdown();
    expect(await hung).toBe('ECONNRESET');
    expect(fx.warnings).toHaveLength(1);
    expect(fx.closeResources).toHaveBeenCalledOnce();
    fx.release();
  });

  it('refuseWhileDraining answers 503 with Connection: close', async () => {
    const app = new Hono();
    app.use('*', refuseWhileDraining(() => true));
    app.get('/x', (c) => c.text('x'));
    const response = await app.request('/x');
    expect(response.status).toBe(503);
    expect(response.headers.get('connection')).toBe('close');
    expect(await response.json()).toMatchObject({ error: 'shutting_down' });
  });

  it('installSignalHandlers shuts down once on SIGTERM and exits 0', async () => {
    const shutdown = vi.fn(async () => {});
    const exit = vi.fn();
    const before = process.listenerCount('SIGTERM');
    const beforeInterrupt = process.listenerCount('SIGINT');
    const uninstall = installSignalHandlers(shutdown, exit);
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    process.emit('SIGTERM');
    await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(0));
    expect(shutdown).toHaveBeenCalledWith('SIGTERM');
    expect(process.listenerCount('SIGTERM')).toBe(before);
    uninstall();
    expect(process.listenerCount('SIGINT')).toBe(beforeInterrupt);
  });
});
