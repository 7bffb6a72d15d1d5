import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeStripe } from '../src/demo/fake-stripe/index.js';
import { serveFakeStripe } from '../src/demo/serve-fake-stripe.js';
import { BILLING_TOOLS as REGISTERED_BILLING_TOOLS } from '../src/tools/registry.js';
import { CLI_PATH, cleanEnv, runCli } from './support/cli.js';
import { findFreePort } from './support/redis-server.js';
import { startSmtpServer } from './support/smtp-server.js';

// No actions policy here: the action tools (request_refund…) are not listed, so not expected.
const BILLING_TOOLS = REGISTERED_BILLING_TOOLS.filter((tool) => tool.action === undefined);

/** One fake Stripe on loopback; each test uses its own key, restricted as the test needs. */
const fake = new FakeStripe({ now: 1_790_000_000 });
let served: Awaited<ReturnType<typeof serveFakeStripe>>;
beforeAll(async () => {
  served = await serveFakeStripe(fake, { port: 0 });
});
afterAll(() => served.close());

let keys = 0;
function keyDenied(permissions: string[]): string {
  const key = `rk_test_fake_doctor_cli_${String(++keys).padStart(4, '0')}`;
  fake.restrictKey(key, permissions);
  return key;
}

const doctor = (key: string, args: string[] = [], env: Record<string, string> = {}) =>
  runCli(['doctor', ...args], { STRIPE_API_KEY: key, STRIPE_API_BASE: served.url, LOG_LEVEL: 'silent', ...env });

const needing = (permission: string) => BILLING_TOOLS.filter((tool) => tool.permissions.includes(permission)).map((tool) => tool.name);

describe('stripe-billing-mcp doctor (the built CLI against a Stripe-compatible server on loopback)', () => {
  it('exits 0 and says so when every enabled tool will work', async () => {
    const run = await doctor(keyDenied([]));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('✓  Stripe key');
    expect(run.stdout).toContain('All set: every enabled tool will work.');
    expect(run.stdout).not.toContain('rk_test_fake_doctor_cli_0001');
  });

  it('exits 1 with a ✗ row naming the missing permission, the tools it breaks and the fix', async () => {
    const run = await doctor(keyDenied(['rak_charge_read']));
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/✗ {2}Charges: Read +missing \(rak_charge_read\)/);
    expect(run.stdout).toContain(`affects: ${needing('rak_charge_read').join(', ')}`);
    expect(run.stdout).toContain('fix: Grant "Charges: Read" (rak_charge_read)');
    expect(run.stdout).toMatch(/Tools: \d+ of \d+ enabled tools will work/);
  });

  it('--json reports the same for machines', async () => {
    const run = await doctor(keyDenied(['rak_subscription_write']), ['--json'], { WRITE_TOOLS: 'apply_coupon' });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as { ok: boolean; permissions: Record<string, string>; tools: Array<{ name: string; works: boolean }> };
    expect(report.ok).toBe(false);
    expect(Object.entries(report.permissions).filter(([, state]) => state === 'missing')).toEqual([['rak_subscription_write', 'missing']]);
    expect(report.tools.filter((tool) => !tool.works).map((tool) => tool.name)).toEqual(['apply_coupon']);
  });

  it('exits 1 for a revoked key and 2 for a key that is not a key', async () => {
    const revoked = keyDenied([]);
    fake.revokeKey(revoked);
    const refused = await doctor(revoked);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/✗ {2}Stripe key/);
    const malformed = await doctor('pk_test_fake_publishable_0000');
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/publishable key/);
  });

  it('exits 1 without a saved billing-portal configuration, naming the portal tools', async () => {
    fake.setPortalConfigured(false);
    try {
      const run = await doctor(keyDenied([]));
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/✗ {2}Billing portal/);
      expect(run.stdout).toContain('affects: get_billing_portal_link, cancel_subscription');
    } finally {
      fake.setPortalConfigured(true);
    }
  });

  it('exits 1 when the SMTP server refuses the login (a real smtp-server), and 0 when it accepts', async () => {
    const smtp = await startSmtpServer({ requireAuth: { user: 'billing', pass: 'right-password' } });
    try {
      const mail = (password: string) => ({ SMTP_URL: `smtp://billing:${password}@127.0.0.1:${smtp.port}`, MAIL_FROM: 'billing@example.com' });
      const refused = await doctor(keyDenied([]), [], mail('wrong-password'));
      expect(refused.code).toBe(1);
      expect(refused.stdout).toMatch(/✗ {2}Mail \(one-time codes\) +the mail server check failed \(auth\)/);
      expect(refused.stdout).not.toContain('wrong-password');
      const accepted = await doctor(keyDenied([]), [], mail('right-password'));
      expect(accepted.code, accepted.stdout).toBe(0);
    } finally {
      await smtp.stop();
    }
  });

  it('exits 1 when Redis is unreachable, naming the tools that keep state there', async () => {
    const run = await doctor(keyDenied([]), [], { STORE_URL: `redis://127.0.0.1:${await findFreePort()}`, WRITE_TOOLS: 'resend_invoice' });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/✗ {2}Shared store \(Redis\)/);
    expect(run.stdout).toMatch(/✗ {2}resend_invoice: the shared store \(STORE_URL\) did not answer/);
  });

  it('makes no change on the account: every write probe was refused', async () => {
    const from = fake.requests.length;
    const run = await doctor(keyDenied([]), [], { WRITE_TOOLS: 'all' });
    expect(run.code).toBe(0);
    const posts = fake.requests.slice(from).filter((request) => request.method === 'POST');
    expect(posts.map((post) => post.path).sort()).toEqual(['/v1/billing_portal/sessions', '/v1/invoices/in_doctor_probe_does_not_exist/send', '/v1/subscriptions/sub_doctor_probe_does_not_exist']);
    expect(posts.every((post) => post.status >= 400)).toBe(true);
    expect(fake.store.portalSessions.size).toBe(0);
    expect(fake.store.sentInvoices).toHaveLength(0);
  });
});

describe('stdio leaves out of tools/list the tools the key cannot serve', () => {
  it('lists every other tool to a staff client, once its probe (made after the first list) has run', async () => {
    const key = keyDenied(['rak_charge_read']);
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI_PATH, '--staff'],
      env: cleanEnv({ STRIPE_API_KEY: key, STRIPE_API_BASE: served.url, LOG_LEVEL: 'silent' }),
      stderr: 'ignore',
    });
    const client = new Client({ name: 'doctor-stdio', version: '1.0.0' });
    // No probe kept from an earlier launch: the first list answers at once, the probe follows and narrows it.
    const narrowed = new Promise<void>((resolve) => client.setNotificationHandler(ToolListChangedNotificationSchema, async () => resolve()));
    await client.connect(transport);
    await client.listTools();
    await narrowed;
    const { tools } = await client.listTools();
    await client.close();
    const expected = BILLING_TOOLS.filter((tool) => !tool.write && !tool.permissions.includes('rak_charge_read')).map((tool) => tool.name);
    expect(tools.map((tool) => tool.name).sort()).toEqual(expected.sort());
    expect(expected).not.toContain('get_payment_history');
  });
});
