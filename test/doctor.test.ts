import { serve } from '@hono/node-server';
import { exportJWK, generateKeyPair } from 'jose';
import type { AddressInfo } from 'node:net';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO, type FakeStripe } from '../src/demo/fake-stripe/index.js';
import { ROUTE_PERMISSIONS } from '../src/demo/fake-stripe/permissions.js';
import { renderDoctorReport } from '../src/doctor/render-report.js';
import { runDoctor, type DoctorReport } from '../src/doctor/run-doctor.js';
import { silentLogger } from '../src/log.js';
import { createRuntime } from '../src/runtime.js';
import { capabilityNeeds, permissionsUsed } from '../src/tools/lib/tool-availability.js';
import { ALL_TOOLS as REGISTERED_TOOLS, selectTools } from '../src/tools/registry.js';
import { useFakeStripe } from './support/fake-stripe-msw.js';
import { TEST_STRIPE_KEY, testMailer, testSettings } from './support/mcp-harness.js';
import { findFreePort, startRedisServer, type RedisServer } from './support/redis-server.js';
import { startSmtpServer, type TestSmtpServer } from './support/smtp-server.js';

// No actions policy here: the action tools (request_refund…) are not listed, so not expected.
const ALL_TOOLS = REGISTERED_TOOLS.filter((tool) => tool.action === undefined);

const stripe = useFakeStripe({ now: 1_790_000_000 });

/** The doctor as `stripe-billing-mcp doctor` runs it: settings → runtime → enabled tools. */
async function doctor(env: Record<string, string> = {}, options: { outbox?: boolean } = {}): Promise<DoctorReport> {
  const settings = testSettings({ WRITE_TOOLS: 'all', ...env });
  const runtime = createRuntime({ settings, log: silentLogger(), maxNetworkRetries: 0, ...(options.outbox === false ? {} : { mailer: testMailer() }) });
  try {
    return await runDoctor({ settings, runtime, tools: selectTools({ allowlist: settings.TOOLS, writeTools: settings.WRITE_TOOLS }) });
  } finally {
    await runtime.store.close();
  }
}

const failing = (report: DoctorReport) => report.checks.filter((check) => check.status === 'fail' || check.status === 'unknown').map((check) => check.id);
const broken = (report: DoctorReport) => report.tools.filter((tool) => !tool.works).map((tool) => tool.name).sort();
const toolsNeeding = (permissions: string[]) => ALL_TOOLS.filter((tool) => tool.permissions.some((p) => permissions.includes(p))).map((tool) => tool.name).sort();

/** What the probes did to the account: every POST answered with an error, nothing was created or sent. */
function snapshot(fake: FakeStripe) {
  return JSON.stringify({
    subscriptions: [...fake.store.subscriptions.values()],
    invoices: [...fake.store.invoices.values()],
    sessions: fake.store.portalSessions.size,
    sent: fake.store.sentInvoices.length,
  });
}
function expectNoWriteLanded(fake: FakeStripe, before: string) {
  const posts = fake.requests.filter((request) => request.method === 'POST');
  expect(posts.length).toBeGreaterThan(0);
  for (const post of posts) expect(post.status, `${post.path} must not succeed`).toBeGreaterThanOrEqual(400);
  expect(snapshot(fake)).toBe(before);
}

const PROBED = capabilityNeeds(ALL_TOOLS).permissions;
/** The tools that hand out a billing-portal link: without a usable portal configuration, exactly these fail. */
const PORTAL_TOOLS = ALL_TOOLS.filter((tool) => tool.portal !== undefined).map((tool) => tool.name).sort();

describe('cached answers', () => {
  const cache = (report: DoctorReport) => report.checks.find((check) => check.id === 'cache')!;

  it('warns a chatbot host without webhooks how old an answer can be, and says webhooks keep answers fresh once set', async () => {
    const without = await doctor({ HOST_KEYS: 'bot:host_key_for_the_doctor_test_0000000', CACHE_TTL_SECONDS: '30' });
    expect(cache(without)).toMatchObject({ status: 'warn', detail: expect.stringMatching(/up to 30 s old/), fix: expect.stringMatching(/STRIPE_WEBHOOK_SECRET/) });
    expect(without.cache).toMatchObject({ kind: 'memory', webhooks: false, max_staleness_seconds: 30, last_event_at: null });
    const withWebhooks = await doctor({ HOST_KEYS: 'bot:host_key_for_the_doctor_test_0000000', STRIPE_WEBHOOK_SECRET: 'whsec_doctor_test_000000000000000000' });
    expect(cache(withWebhooks)).toMatchObject({ status: 'ok', detail: expect.stringMatching(/Stripe webhooks keep answers fresh/) });
    expect(withWebhooks.cache).toMatchObject({ webhooks: true, max_staleness_seconds: 3600 });
  });
});

describe('plans customers may see', () => {
  const plans = (report: DoctorReport) => report.checks.find((check) => check.id === 'plans')!;

  it('is fine when the billing portal names the switchable products, or PLAN_PRODUCTS does', async () => {
    expect(plans(await doctor())).toMatchObject({ status: 'ok', detail: expect.stringMatching(/switch to 4 products/) });
    stripe.fake().setPortalConfigured(false);
    expect(plans(await doctor({ PLAN_PRODUCTS: 'prod_DemoPro' }))).toMatchObject({ status: 'ok', detail: 'PLAN_PRODUCTS names 1 product' });
  });

  it('warns when neither limits the plans: a product made for one customer would be shown to everyone', async () => {
    stripe.fake().setPortalConfigured(false);
    const report = await doctor();
    expect(plans(report)).toMatchObject({ status: 'warn', affects: ['get_available_plans'], fix: expect.stringMatching(/PLAN_PRODUCTS/) });
  });
});

describe('doctor on a fully set-up account', () => {
  it('passes every check and reports every enabled tool as working, without changing the account', async () => {
    const before = snapshot(stripe.fake());
    const report = await doctor();
    expect(failing(report)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.tools.every((tool) => tool.works)).toBe(true);
    expect(report.stripe).toEqual({ connected: true, key: 'rk_test_…0000', key_kind: 'restricted', mode: 'test' });
    expect(Object.values(report.permissions).every((state) => state === 'granted')).toBe(true);
    expect(report.portal).toMatchObject({ status: 'ready', cancel_enabled: true });
    expectNoWriteLanded(stripe.fake(), before);
  });

  it('probes write permissions only for write tools that are enabled', async () => {
    const report = await doctor({ WRITE_TOOLS: '' });
    expect(Object.keys(report.permissions)).not.toContain('rak_invoice_write');
    expect(Object.keys(report.permissions)).not.toContain('rak_subscription_write');
    expect(stripe.fake().requests.some((request) => request.path.endsWith('/send'))).toBe(false);
  });

  it('never prints the key, only its redacted form', async () => {
    const report = await doctor();
    expect(JSON.stringify(report)).not.toContain(TEST_STRIPE_KEY);
  });
});

describe.each(PROBED)('doctor with a restricted key denied %s', (permission) => {
  it('reports exactly that permission, the tools it breaks (or that work without it) and the fix, and changes nothing', async () => {
    const fake = stripe.fake();
    fake.restrictKey(TEST_STRIPE_KEY, [permission]);
    const before = snapshot(fake);
    const report = await doctor();
    expect(Object.entries(report.permissions).filter(([, state]) => state !== 'granted')).toEqual([[permission, 'missing']]);
    const check = report.checks.find((row) => row.id === `permission:${permission}`)!;
    // Needed by a tool: a failure; only adding sections: a warning, every tool still works.
    const needed = toolsNeeding([permission]).length > 0;
    expect(check.status).toBe(needed ? 'fail' : 'warn');
    expect(check.fix).toContain(permission);
    // The insight panel reads what get_customer_overview reads.
    const overview = ALL_TOOLS.find((tool) => tool.name === 'get_customer_overview')!;
    expect(check.affects.includes('insight panel (/panel, /v1/insight)')).toBe(permissionsUsed(overview).includes(permission));
    // Without it the portal set-up cannot be read either: that row says so ('?', not a failure of the
    // portal), and doctor does not vouch for the other portal tools, which stay listed.
    const readsPortal = permission === ROUTE_PERMISSIONS['GET /v1/billing_portal/configurations'];
    expect(failing(report)).toEqual([...(needed ? [`permission:${permission}`] : []), ...(readsPortal ? ['billing_portal'] : [])]);
    if (readsPortal) expect(report.checks.find((row) => row.id === 'billing_portal')?.status).toBe('unknown');
    const unvouched = readsPortal ? PORTAL_TOOLS.filter((name) => !toolsNeeding([permission]).includes(name)) : [];
    for (const name of unvouched) expect(report.tools.find((tool) => tool.name === name)?.reasons).toEqual([expect.stringMatching(/^the billing portal could not be checked/)]);
    expect(broken(report)).toEqual([...toolsNeeding([permission]), ...unvouched].sort());
    const limited = ALL_TOOLS.filter((tool) => !tool.permissions.includes(permission) && permission in (tool.optionalPermissions ?? {}) && !unvouched.includes(tool.name)).map((tool) => tool.name).sort();
    expect(report.tools.filter((tool) => tool.works && tool.without.length > 0).map((tool) => tool.name).sort()).toEqual(limited);
    expect(report.ok).toBe(!needed);
    expectNoWriteLanded(fake, before);
  });
});

describe('doctor finds account and key problems', () => {
  it('reports several denied permissions at once', async () => {
    stripe.fake().restrictKey(TEST_STRIPE_KEY, ['rak_charge_read', 'rak_invoice_write']);
    const report = await doctor();
    expect(failing(report).sort()).toEqual(['permission:rak_charge_read', 'permission:rak_invoice_write']);
    expect(broken(report)).toEqual(toolsNeeding(['rak_charge_read', 'rak_invoice_write']));
  });

  it('fails every tool that calls Stripe when Stripe refuses the key (revoked or rolled)', async () => {
    stripe.fake().revokeKey(TEST_STRIPE_KEY);
    const report = await doctor();
    const key = report.checks.find((check) => check.id === 'stripe_key')!;
    expect(key.status).toBe('fail');
    expect(key.detail).toMatch(/revoked, rolled or mistyped/);
    expect(report.stripe.connected).toBe(false);
    expect(broken(report)).toEqual(toolsNeeding(PROBED));
    expect(report.tools.filter((tool) => tool.works).map((tool) => tool.name).sort()).toEqual(['get_verification_status', 'verify_email_confirm']);
    expect(report.ok).toBe(false);
  });

  it('cannot vouch for anything while Stripe is down, and says so', async () => {
    stripe.fake().failNext({ status: 503, times: 100 });
    const report = await doctor();
    expect(report.checks.find((check) => check.id === 'stripe_key')?.status).toBe('unknown');
    expect(report.checks.find((check) => check.id === 'billing_portal')?.fix).toMatch(/once Stripe answers/);
    expect(broken(report)).toEqual(toolsNeeding(PROBED));
    expect(report.tools.find((tool) => tool.name === 'get_invoice_history')?.reasons).toEqual(['Stripe could not be reached']);
    expect(report.ok).toBe(false);
  });

  it('warns about a secret key but lets it work', async () => {
    const report = await doctor({ STRIPE_API_KEY: 'sk_test_fake_doctor_000000000000' });
    const key = report.checks.find((check) => check.id === 'stripe_key')!;
    expect(key.status).toBe('warn');
    expect(key.fix).toMatch(/restricted key/);
    expect(report.ok).toBe(true);
  });

  it('without a saved portal configuration, fails exactly the portal tools', async () => {
    stripe.fake().setPortalConfigured(false);
    const report = await doctor();
    expect(failing(report)).toEqual(['billing_portal']);
    expect(report.checks.find((check) => check.id === 'billing_portal')?.fix).toMatch(/Customer portal/);
    expect(broken(report)).toEqual(PORTAL_TOOLS);
    expect(report.portal).toEqual({ status: 'not_configured' });
  });

  it('with portal cancellation switched off, fails cancel_subscription only', async () => {
    const configuration = [...stripe.fake().store.portalConfigurations.values()][0]!;
    const off: Stripe.BillingPortal.Configuration = {
      ...configuration,
      features: { ...configuration.features, subscription_cancel: { ...configuration.features.subscription_cancel, enabled: false } },
    };
    stripe.fake().store.portalConfigurations.set(off.id, off);
    const report = await doctor();
    expect(failing(report)).toEqual(['billing_portal_cancel']);
    expect(broken(report)).toEqual(['cancel_subscription']);
  });

  it('checks PORTAL_CONFIGURATION when it is set', async () => {
    const missing = await doctor({ PORTAL_CONFIGURATION: 'bpc_DoesNotExist' });
    expect(missing.portal).toEqual({ status: 'configuration_missing', configuration: 'bpc_DoesNotExist' });
    expect(broken(missing)).toEqual(PORTAL_TOOLS);
    const present = await doctor({ PORTAL_CONFIGURATION: DEMO.portalConfiguration });
    expect(present.portal).toMatchObject({ status: 'ready', configuration: DEMO.portalConfiguration });
  });

  it('says the portal could not be checked when the key cannot read portal configurations', async () => {
    stripe.fake().restrictKey(TEST_STRIPE_KEY, ['rak_billing_portal_configuration_read']);
    const report = await doctor();
    const portal = report.checks.find((check) => check.id === 'billing_portal')!;
    expect(portal.status).toBe('unknown');
    expect(portal.fix).toContain('rak_billing_portal_configuration_read');
    expect(report.ok).toBe(false);
  });
});

describe('doctor checks the mail server for real (smtp-server on loopback)', () => {
  let smtp: TestSmtpServer;
  beforeAll(async () => {
    smtp = await startSmtpServer({ requireAuth: { user: 'billing', pass: 'right-password' } });
  });
  afterAll(() => smtp.stop());
  const smtpUrl = (password: string) => `smtp://billing:${password}@127.0.0.1:${smtp.port}`;

  it('passes when the server accepts the login, and sends nothing', async () => {
    const report = await doctor({ SMTP_URL: smtpUrl('right-password'), MAIL_FROM: 'Billing <billing@example.com>' }, { outbox: false });
    expect(report.mail.status).toBe('ok');
    expect(report.ok).toBe(true);
    expect(smtp.messages).toHaveLength(0);
  });

  it('fails verify_email_start with the fix when the server refuses the login, never echoing the password', async () => {
    const report = await doctor({ SMTP_URL: smtpUrl('wrong-password'), MAIL_FROM: 'Billing <billing@example.com>' }, { outbox: false });
    const mail = report.checks.find((check) => check.id === 'mail')!;
    expect(mail.status).toBe('fail');
    expect(mail.detail).toContain('auth');
    expect(mail.fix).toMatch(/user and password in SMTP_URL/);
    // A visitor who already has a code can still confirm it.
    expect(broken(report)).toEqual(['verify_email_start']);
    expect(report.ok).toBe(false);
    expect(JSON.stringify(report)).not.toContain('wrong-password');
    expect(smtp.logins.some((login) => !login.accepted)).toBe(true);
  });
});

describe('doctor checks the shared store for real (redis-server on loopback)', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(() => redis.stop());
  const secret = { VERIFY_SECRET: 'doctor-test-verify-secret-32-bytes-long!!' };

  it('passes when Redis answers', async () => {
    const report = await doctor({ STORE_URL: redis.url, ...secret });
    expect(report.store).toEqual({ kind: 'redis', status: 'ok' });
    expect(report.ok).toBe(true);
  });

  it('fails the tools that keep state in the store when Redis is unreachable', async () => {
    const port = await findFreePort();
    const report = await doctor({ STORE_URL: `redis://:hunter2-secret@127.0.0.1:${port}`, ...secret });
    expect(report.store).toEqual({ kind: 'redis', status: 'unreachable' });
    expect(failing(report)).toEqual(['store']);
    expect(broken(report)).toEqual(['apply_coupon', 'get_verification_status', 'resend_invoice', 'verify_email_confirm', 'verify_email_start']);
    expect(report.checks.find((check) => check.id === 'store')?.fix).toMatch(/STORE_URL/);
    expect(JSON.stringify(report)).not.toContain('hunter2-secret');
  });
});

describe('doctor checks identity-token settings', () => {
  let jwks: { url: string; close(): void };
  let document: unknown;
  beforeAll(async () => {
    const { publicKey } = await generateKeyPair('RS256');
    const good = { keys: [{ ...(await exportJWK(publicKey)), alg: 'RS256', kid: 'k1' }] };
    document = good;
    const server = serve({ port: 0, hostname: '127.0.0.1', fetch: () => (document === 'not json' ? new Response('<html>', { status: 200 }) : Response.json(document)) }) as ReturnType<typeof serve>;
    await new Promise((resolve) => server.once('listening', resolve));
    jwks = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`, close: () => server.close() };
  });
  afterAll(() => jwks.close());

  it('refuses what the server refuses: both a secret and a JWKS, or a CUSTOMER_TOKEN nothing can verify', async () => {
    const both = await doctor({ IDENTITY_SECRET: 'doctor-identity-secret-that-is-32-bytes!', IDENTITY_JWKS_URL: jwks.url });
    expect(both.checks.find((check) => check.id === 'identity')).toMatchObject({ status: 'fail', fix: expect.stringMatching(/not both/) });
    expect(both.ok).toBe(false);
    const unverifiable = await doctor({ CUSTOMER_TOKEN: 'eyJhbGciOiJIUzI1NiJ9.e30.x' });
    expect(unverifiable.checks.find((check) => check.id === 'identity')?.status).toBe('fail');
    expect(JSON.stringify(unverifiable)).not.toContain('eyJhbGciOiJIUzI1NiJ9');
  });

  it('reports the HS256 secret it will use', async () => {
    const report = await doctor({ IDENTITY_SECRET: 'doctor-identity-secret-that-is-32-bytes!' });
    expect(report.identity).toEqual({ kind: 'hs256', status: 'ok' });
  });

  it('fetches and parses the JWKS, and fails with the fix when it is not usable', async () => {
    const good = await doctor({ IDENTITY_JWKS_URL: jwks.url });
    expect(good.identity).toEqual({ kind: 'jwks', status: 'ok' });
    expect(good.ok).toBe(true);
    const saved = document;
    document = 'not json';
    const notJson = await doctor({ IDENTITY_JWKS_URL: jwks.url });
    document = { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] };
    const noUsableKey = await doctor({ IDENTITY_JWKS_URL: jwks.url });
    document = saved;
    for (const report of [notJson, noUsableKey]) {
      const identity = report.checks.find((check) => check.id === 'identity')!;
      expect(identity.status).toBe('fail');
      expect(identity.fix).toMatch(/RS256 or ES256/);
      expect(report.ok).toBe(false);
    }
    const port = await findFreePort();
    const unreachable = await doctor({ IDENTITY_JWKS_URL: `http://127.0.0.1:${port}/jwks.json` });
    expect(unreachable.checks.find((check) => check.id === 'identity')?.detail).toMatch(/could not be reached/);
  });
});

describe('doctor checks the insight panel set-up', () => {
  it('warns when processes share Redis but would sign panel sessions with per-process secrets', async () => {
    const redis = await startRedisServer();
    try {
      const staff = { STAFF_KEYS: 'support:doctor_staff_key_000000000000000', STORE_URL: redis.url };
      const unshared = await doctor(staff, { outbox: false });
      expect(unshared.checks.find((check) => check.id === 'panel')).toMatchObject({ status: 'warn', fix: expect.stringMatching(/PANEL_SESSION_SECRET/) });
      const shared = await doctor({ ...staff, PANEL_SESSION_SECRET: 'doctor-panel-session-secret-32-bytes-long' }, { outbox: false });
      expect(shared.checks.find((check) => check.id === 'panel')?.status).toBe('ok');
      expect(JSON.stringify(shared)).not.toContain('doctor_staff_key_000000000000000');
    } finally {
      await redis.stop();
    }
  });
});

/** Item 10 of issue 20: a permission that only adds a section leaves its tools working, "without" that section. */
describe('doctor with a key that lacks only optional permissions', () => {
  const ALL_PERMISSIONS = [...new Set(Object.values(ROUTE_PERMISSIONS))];
  const row = (report: DoctorReport, name: string) => report.tools.find((tool) => tool.name === name)!;

  it('customers and subscriptions read alone: get_subscription_status works, without the next-payment breakdown', async () => {
    stripe.fake().restrictKey(TEST_STRIPE_KEY, ALL_PERMISSIONS.filter((permission) => permission !== 'rak_customer_read' && permission !== 'rak_subscription_read'));
    const report = await doctor();
    const status = row(report, 'get_subscription_status');
    expect(status.works).toBe(true);
    expect(status.without.join('; ')).toContain('Invoices: Read');
    expect(renderDoctorReport(report)).toMatch(/get_subscription_status: works, without [^\n]*Invoices: Read/);
    // Tools that cannot answer without a missing permission still fail.
    expect(row(report, 'get_invoice_history').works).toBe(false);
  });

  it('a BubblaV-like key (no prices or coupons read): the subscription tools work, without discounts; plans do not', async () => {
    stripe.fake().restrictKey(TEST_STRIPE_KEY, ['rak_price_read', 'rak_coupon_read']);
    const report = await doctor();
    for (const name of ['get_subscription_status', 'get_customer_overview']) {
      expect(row(report, name)).toMatchObject({ works: true });
      expect(row(report, name).without.join('; ')).toContain('Coupons: Read');
    }
    expect(row(report, 'get_billing_info')).toMatchObject({ works: true, without: [] });
    expect(row(report, 'get_available_plans').works).toBe(false);
    expect(report.checks.find((check) => check.id === 'permission:rak_coupon_read')!.status).toBe('fail');
  });
});
