import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeStripe, FakeStripeAccounts } from '../../src/demo/fake-stripe/index.js';
import { silentLogger } from '../../src/log.js';
import { startPlatform, type RunningPlatform } from '../../src/platform/serve-platform.js';
import { tempDirAfterAll } from '../support/audit.js';
import { testSettings } from '../support/mcp-harness.js';

/**
 * An admin connecting a merchant sends JSON: every refusal names the field they sent
 * (`stripe_api_key`, `settings.portal_configuration`), never the server's environment variables.
 */
const tempDir = tempDirAfterAll('sbm-admin-fields-');
const ADMIN = 'admin_secret_for_field_name_tests_000000';
const KEY = 'rk_test_fake_admin_fields_000000000000000';
const accounts = new FakeStripeAccounts();
const account = new FakeStripe({ now: 1_790_000_000 });
accounts.add(KEY, account);
let platform: RunningPlatform;

beforeAll(async () => {
  platform = await startPlatform({
    settings: testSettings({ PORT: '0', ADMIN_KEYS: `ops:${ADMIN}`, TENANT_KEY_SECRET: `k1:${Buffer.alloc(32, 5).toString('base64')}`, AUDIT_DB: join(tempDir(), 'platform.db') }),
    log: silentLogger(),
    fetch: (input, init) => accounts.handle(new Request(input, init)),
  });
});
afterAll(async () => {
  await platform?.close();
});

async function connect(body: unknown): Promise<{ status: number; message: string }> {
  const response = await fetch(`${platform.url}/v1/admin/tenants`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const answer = (await response.json()) as { message?: string };
  return { status: response.status, message: answer.message ?? '' };
}

describe('admin API refusals name the JSON field', () => {
  it.each([
    ['a publishable key', 'pk_test_fake_publishable_00000000', /^stripe_api_key is a publishable key/],
    ['something that is not a key', 'not-a-stripe-key', /^stripe_api_key is not a Stripe API key/],
    ['a key split by a space', 'rk_test_fake_admin split_0000000000', /^stripe_api_key has a space or line break inside the key/],
  ])('%s', async (_what, key, message) => {
    const answer = await connect({ name: 'Acme', stripe_api_key: key });
    expect(answer.status).toBe(400);
    expect(answer.message).toMatch(message);
    expect(answer.message).not.toContain('STRIPE_API_KEY');
    expect(answer.message).not.toContain(key);
  });

  it('a tool the merchant\'s portal set-up breaks names settings.portal_configuration in its fix', async () => {
    const response = await fetch(`${platform.url}/v1/admin/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Acme', stripe_api_key: KEY, settings: { portal_configuration: 'bpc_DoesNotExist' } }),
    });
    expect(response.status).toBe(201);
    const { tenant } = (await response.json()) as { tenant: { tools: Array<{ name: string; works: boolean; reasons: string[] }> } };
    const portal = tenant.tools.find((tool) => tool.name === 'get_billing_portal_link')!;
    expect(portal.works).toBe(false);
    const reasons = portal.reasons.join(' ');
    expect(reasons).toContain('settings.portal_configuration');
    expect(reasons).not.toContain('PORTAL_CONFIGURATION');
  });
});
