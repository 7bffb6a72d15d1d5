/**
 * A merchant's own offer to stay (settings.cancel_retention_coupon): its cancel links carry it;
 * another merchant's do not, and the platform's CANCEL_RETENTION_COUPON never applies to a
 * merchant (a coupon lives on one Stripe account).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO, FakeStripe, FakeStripeAccounts } from '../../src/demo/fake-stripe/index.js';
import { mintIdentityToken } from '../../src/demo/demo-identity.js';
import { silentLogger } from '../../src/log.js';
import { startPlatform, type RunningPlatform } from '../../src/platform/serve-platform.js';
import { tempDirAfterAll } from '../support/audit.js';
import { testMailer, testSettings } from '../support/mcp-harness.js';

const tempDir = tempDirAfterAll('sbm-tenant-retention-');
const KEY_A = 'rk_test_fake_retention_alpha_0000000000';
const KEY_B = 'rk_test_fake_retention_beta_00000000000';
const ADMIN = 'admin_secret_for_retention_tests_000000';
const IDENTITY_SECRET = 'tenant-retention-identity-secret-32bytes';
const accounts = new FakeStripeAccounts();
const alpha = new FakeStripe({ now: 1_790_000_000 });
const beta = new FakeStripe({ now: 1_790_000_000 });
accounts.add(KEY_A, alpha).add(KEY_B, beta);

let platform: RunningPlatform;
const tenants: Array<{ id: string; host: string }> = [];

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, any> }> {
  const response = await fetch(`${platform.url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

async function cancel(tenant: { id: string; host: string }): Promise<Record<string, any>> {
  const token = await mintIdentityToken(DEMO.emails.alice, IDENTITY_SECRET, 600, tenants.map((t) => t.id));
  const response = await fetch(`${platform.url}/v1/tools/cancel_subscription`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tenant.host}`, 'content-type': 'application/json', 'x-customer-token': token },
    body: '{}',
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, any>;
}

const retentionSent = (fake: FakeStripe) =>
  // The connect probe's own session request has no flow: only the tools' cancel links count.
  fake.requests.filter((r) => r.path === '/v1/billing_portal/sessions' && r.params.flow_data !== undefined).map((r) => (r.params.flow_data as { subscription_cancel?: { retention?: unknown } }).subscription_cancel?.retention);

beforeAll(async () => {
  platform = await startPlatform({
    // The platform's own coupon: never a merchant's.
    settings: testSettings({ PORT: '0', ADMIN_KEYS: `ops:${ADMIN}`, TENANT_KEY_SECRET: `k1:${Buffer.alloc(32, 7).toString('base64')}`, AUDIT_DB: join(tempDir(), 'platform.db'), IDENTITY_SECRET, CANCEL_RETENTION_COUPON: 'PLATFORM_COUPON' }),
    log: silentLogger(),
    fetch: (input, init) => accounts.handle(new Request(input, init)),
    mailer: testMailer(),
  });
  for (const [name, key, settings] of [
    ['Alpha', KEY_A, { cancel_retention_coupon: DEMO.coupons.retention }],
    ['Beta', KEY_B, {}],
  ] as const) {
    const created = await admin('POST', '/v1/admin/tenants', { name, stripe_api_key: key, settings });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    tenants.push({ id: created.body.tenant.id, host: created.body.host_key });
  }
});

afterAll(async () => {
  await platform?.close();
});

describe('settings.cancel_retention_coupon', () => {
  it("a merchant's cancel link carries its own offer; another merchant's carries none, the platform's never", async () => {
    const withOffer = await cancel(tenants[0]!);
    expect(withOffer.result.retention_offer).toBe('25% off for 3 months');
    expect(retentionSent(alpha)).toEqual([{ type: 'coupon_offer', coupon_offer: { coupon: DEMO.coupons.retention } }]);
    const without = await cancel(tenants[1]!);
    expect(without.result.outcome).toBe('link_created');
    expect(without.result.retention_offer).toBeUndefined();
    expect(retentionSent(beta)).toEqual([undefined]);
  });

  it('refuses a value that is not one coupon id, naming the field', async () => {
    const answer = await admin('PATCH', `/v1/admin/tenants/${tenants[1]!.id}`, { settings: { cancel_retention_coupon: 'A B' } });
    expect(answer.status).toBe(400);
    expect(JSON.stringify(answer.body)).toContain('cancel_retention_coupon');
  });
});
