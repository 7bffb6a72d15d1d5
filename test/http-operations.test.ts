import { describe, expect, it } from 'vitest';
import { DEMO } from '../src/demo/fake-stripe/index.js';
import { MemoryStore } from '../src/verify/memory-store.js';
import { HOST_A, STAFF, startHttpFixture } from './support/http-harness.js';
import { TEST_STRIPE_KEY } from './support/mcp-harness.js';

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
