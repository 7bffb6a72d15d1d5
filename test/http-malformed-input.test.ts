/**
 * Inputs a fuzzer sends: a body that is not what its content type says, and signed webhook bodies
 * that are not Stripe events. Each is a client's mistake (4xx) or an event to acknowledge and
 * ignore (2xx), never a 500 nor the 503 that makes Stripe retry for three days.
 */
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeStripeAccounts, FakeStripe } from '../src/demo/fake-stripe/index.js';
import { startPlatform, type RunningPlatform } from '../src/platform/serve-platform.js';
import { tempDirAfterAll } from './support/audit.js';
import { HOST_A, STAFF, startHttpFixture, type HttpFixture } from './support/http-harness.js';
import { testMailer, testSettings } from './support/mcp-harness.js';
import { panelCsrfToken, panelSignIn, postSignIn } from './support/panel.js';

const WEBHOOK_SECRET = 'whsec_test_fake_webhook_secret_000000000000';
const signer = new Stripe('sk_test_fake_signer_only_never_sent_00000');

/** A content type that promises multipart, and bodies that are not. */
const NOT_MULTIPART = [
  { 'content-type': 'multipart/form-data; boundary=----sbm-boundary', body: 'key=not-multipart-at-all' },
  { 'content-type': 'multipart/form-data', body: '------sbm-boundary\r\nbroken' },
  { 'content-type': 'multipart/form-data; boundary=x', body: '--x\r\nContent-Disposition: form-data; name="key"\r\n\r\nunterminated' },
];

const post = (url: string, path: string, headers: Record<string, string>, body: string) =>
  fetch(`${url}${path}`, { method: 'POST', redirect: 'manual', headers: { origin: url, ...headers }, body });

const logLines: string[] = [];
let fx: HttpFixture;
beforeAll(async () => {
  const sink = new Writable({ write: (chunk, _encoding, done) => (logLines.push(String(chunk)), done()) });
  fx = await startHttpFixture({ STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET }, { log: pino({ level: 'info' }, sink) });
});
afterAll(() => fx.close());

describe('a multipart content type with a body that is not multipart', () => {
  it('is a 400 on the panel sign-in (no session needed)', async () => {
    for (const { body, ...headers } of NOT_MULTIPART) {
      const response = await post(fx.url, '/panel/sign-in', headers, body);
      expect(response.status, `${headers['content-type']}: ${await response.clone().text()}`).toBe(400);
      expect(await response.text()).not.toMatch(/FormData|TypeError|stack/i);
    }
  });

  it('is a 400 on the panel forms behind a session, with the CSRF token in a header or not', async () => {
    const cookie = await panelSignIn(fx.url, STAFF);
    const csrf = await panelCsrfToken(fx.url, cookie);
    // Sign-out reads the body only for its token: with the token in a header it has nothing to parse.
    const cases = [['/panel/portal-link', { 'x-csrf-token': csrf }], ['/panel/portal-link', {}], ['/panel/sign-out', {}]] as const;
    for (const [path, token] of cases) {
      for (const { body, ...headers } of NOT_MULTIPART) {
        const response = await post(fx.url, path, { cookie, ...token, ...headers }, body);
        expect(response.status, `${path} ${headers['content-type']} ${Object.keys(token).join()}`).toBe(400);
      }
    }
    // The session survived: the refusals were about the body, not the agent.
    expect((await fetch(`${fx.url}/panel/card?email=alice@example.com`, { headers: { cookie } })).status).toBe(200);
  });

  it('is a 4xx on every other route that reads a body', async () => {
    const bearer = { authorization: `Bearer ${HOST_A}` };
    for (const { body, ...headers } of NOT_MULTIPART) {
      for (const [path, extra] of [['/v1/tools/get_billing_info', bearer], ['/mcp', { ...bearer, accept: 'application/json, text/event-stream' }], ['/webhooks/stripe', {}]] as const) {
        const response = await post(fx.url, path, { ...extra, ...headers }, body);
        expect(response.status, `${path} ${headers['content-type']}`).toBeGreaterThanOrEqual(400);
        expect(response.status, `${path} ${headers['content-type']}`).toBeLessThan(500);
      }
    }
    expect(logLines.filter((line) => line.includes('unhandled HTTP error'))).toEqual([]);
  });
});

describe('signed webhook bodies that are not usable events', () => {
  const deliver = (payload: string) =>
    fetch(`${fx.url}/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': signer.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET }) },
      body: payload,
    });
  const ignoredCount = async () => {
    const metrics = await (await fetch(`${fx.url}/metrics`, { headers: { authorization: `Bearer ${STAFF}` } })).text();
    return Number(/sbm_webhook_events_total\{outcome="ignored"\} (\d+)/.exec(metrics)?.[1] ?? 0);
  };
  const event = (fields: Record<string, unknown>) => JSON.stringify({ id: 'evt_ok_shape', object: 'event', type: 'customer.updated', created: 1_790_000_000, data: { object: { id: 'cus_x', object: 'customer' } }, ...fields });

  const BODIES = [
    'null',
    '42',
    '"customer.updated"',
    'true',
    '[]',
    '[{"id":"evt_in_array"}]',
    '{}',
    event({ id: null }),
    event({ id: 7, type: 'customer.updated' }),
    event({ id: 'evt_no_type', type: null }),
    event({ id: 'evt_data_null', data: null }),
    event({ id: 'evt_data_string', data: 'x' }),
    event({ id: 'evt_object_null', data: { object: null } }),
    event({ id: 'evt_object_array', data: { object: [] } }),
    event({ id: 'evt_object_missing', data: {} }),
    event({ id: 'evt_previous_null', type: 'customer.subscription.updated', data: { object: null, previous_attributes: null } }),
  ];

  it('are acknowledged (2xx), ignored, logged and counted: never 500 nor 503', async () => {
    const before = await ignoredCount();
    for (const body of BODIES) {
      const response = await deliver(body);
      expect(response.status, body).toBeGreaterThanOrEqual(200);
      expect(response.status, body).toBeLessThan(300);
      expect(await response.json(), body).toMatchObject({ received: true, ignored: true });
    }
    expect(await ignoredCount()).toBe(before + BODIES.length);
    expect(logLines.filter((line) => line.includes('webhook event ignored')).length).toBeGreaterThanOrEqual(BODIES.length);
    expect(logLines.filter((line) => line.includes('unhandled HTTP error') || line.includes('Stripe will retry'))).toEqual([]);
  });

  it('an event with an unusual but valid shape still counts as an event (previous_attributes null)', async () => {
    const response = await deliver(event({ id: 'evt_previous_attributes_null', type: 'customer.updated', data: { object: { id: 'cus_x', object: 'customer', email: 'x@example.com' }, previous_attributes: null } }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: true });
  });
});

describe('platform mode', () => {
  const tempDir = tempDirAfterAll('sbm-malformed-');
  const STRIPE_KEY = 'rk_test_fake_tenant_malformed_00000000000';
  const ADMIN = 'admin_secret_for_malformed_tests_000000';
  const accounts = new FakeStripeAccounts().add(STRIPE_KEY, new FakeStripe({ now: 1_790_000_000 }));
  let platform: RunningPlatform;
  let tenant: { id: string; staff: string };
  beforeAll(async () => {
    const settings = testSettings({ PORT: '0', ADMIN_KEYS: `ops:${ADMIN}`, TENANT_KEY_SECRET: `k1:${Buffer.alloc(32, 3).toString('base64')}`, AUDIT_DB: join(tempDir(), 'platform.db') });
    platform = await startPlatform({ settings, log: pino({ level: 'silent' }), fetch: (input, init) => accounts.handle(new Request(input, init)), mailer: testMailer() });
    const created = await fetch(`${platform.url}/v1/admin/tenants`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Gamma', stripe_api_key: STRIPE_KEY, webhook_secret: WEBHOOK_SECRET }) });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { tenant: { id: string }; staff_key: string };
    tenant = { id: body.tenant.id, staff: body.staff_key };
  });
  afterAll(() => platform.close());

  it("the panel's sign-in (lobby and a merchant's) and forms answer 400, the admin API 4xx", async () => {
    const cookie = await platformSignIn(platform.url, tenant.staff);
    const csrf = await panelCsrfToken(platform.url, cookie);
    for (const { body, ...headers } of NOT_MULTIPART) {
      expect((await post(platform.url, '/panel/sign-in', headers, body)).status, headers['content-type']).toBe(400);
      expect((await post(platform.url, '/panel/sign-in', { cookie, ...headers }, body)).status, headers['content-type']).toBe(400);
      expect((await post(platform.url, '/panel/portal-link', { cookie, 'x-csrf-token': csrf, ...headers }, body)).status, headers['content-type']).toBe(400);
      expect((await post(platform.url, '/panel/portal-link', { cookie, ...headers }, body)).status, headers['content-type']).toBe(400);
      const adminAnswer = await post(platform.url, '/v1/admin/tenants', { authorization: `Bearer ${ADMIN}`, ...headers }, body);
      expect(adminAnswer.status).toBeGreaterThanOrEqual(400);
      expect(adminAnswer.status).toBeLessThan(500);
    }
  });

  it("a merchant's webhook endpoint acknowledges a signed null body", async () => {
    const payload = 'null';
    const response = await fetch(`${platform.url}/webhooks/stripe/${tenant.id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': signer.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET }) },
      body: payload,
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ received: true, ignored: true });
  });
});

/** The session and the merchant's routing cookie, from a sign-in as a browser makes it. */
async function platformSignIn(url: string, key: string): Promise<string> {
  const response = await postSignIn(url, { key, return_to: '' });
  expect(response.status).toBe(303);
  return response.headers.getSetCookie().map((line) => line.split(';')[0]!).filter((pair) => !pair.endsWith('=')).join('; ');
}
