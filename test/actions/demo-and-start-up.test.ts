/**
 * The actions as someone starting the built CLI meets them: `npm run demo` (serve --demo) shows
 * the whole flow — the banner says what to try, the confirmation link prints in the demo outbox
 * and opens this server's page, the host's button carries the refund out — and the start-up
 * rules: actions need the trail (AUDIT=off with an enabled policy stops with a configuration
 * error), stdio turns the trail on for them, and doctor says when the trail is missing.
 * Needs `npm run build` first (dist/cli.js).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../src/demo/fake-stripe/seed.js';
import { DEMO_CUSTOMER_EMAIL, DEMO_HOST_KEY, DEMO_IDENTITY_SECRET, mintIdentityToken } from '../../src/demo/demo-identity.js';
import { EXAMPLE_POLICY } from '../support/actions.js';
import { runCli } from '../support/cli.js';
import { killedAfterEach, startServeDemo } from '../support/serve-process.js';

const dir = mkdtempSync(join(tmpdir(), 'sbm-actions-start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const policyFile = join(dir, 'policy.json');
writeFileSync(policyFile, JSON.stringify(EXAMPLE_POLICY));
const TRAIL_OFF_MESSAGE = 'ACTIONS_POLICY turns actions on, but the audit trail is off (AUDIT=off)';

describe('npm run demo (serve --demo)', () => {
  const started = killedAfterEach();

  it('says what to try, prints the confirmation link in its outbox, and the host’s button refunds the duplicate charge', async () => {
    const served = await startServeDemo({ XDG_DATA_HOME: join(dir, 'demo-data') });
    started.push(served);
    const banner = served.stdout();
    expect(banner).toContain('ask for a refund of the duplicate charge');
    expect(banner).toContain(`"payment":"${DEMO.actions.aliceDuplicateCharge}"`);
    expect(banner).toContain(`${served.url}/confirm/`);
    expect(banner).toContain('DEMO OUTBOX');

    const token = await mintIdentityToken(DEMO_CUSTOMER_EMAIL, DEMO_IDENTITY_SECRET, 600);
    const headers = { authorization: `Bearer ${DEMO_HOST_KEY}`, 'x-customer-token': token, 'content-type': 'application/json' };
    const asked = (await (await fetch(`${served.url}/v1/tools/request_refund`, { method: 'POST', headers, body: JSON.stringify({ payment: DEMO.actions.aliceDuplicateCharge, reason: 'duplicate' }) })).json()) as {
      is_error: boolean;
      result: { request: { id: string; state: string } };
      confirmation: { request_id: string; token: string; url: string };
    };
    expect(asked).toMatchObject({ is_error: false, result: { request: { state: 'awaiting_confirmation' } } });
    // PUBLIC_URL defaults to the demo's own address: the link opens this server's confirmation page.
    expect(asked.confirmation.url).toBe(`${served.url}/confirm/${asked.confirmation.token}`);
    await expect.poll(() => served.stderr()).toContain(asked.confirmation.url);
    expect(served.stderr()).toContain('DEMO OUTBOX');
    const page = await fetch(asked.confirmation.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('$44.00');

    const confirmed = await fetch(`${served.url}/v1/requests/${asked.confirmation.request_id}/confirm`, { method: 'POST', headers, body: JSON.stringify({ token: asked.confirmation.token }) });
    expect(confirmed.status).toBe(200);
    expect(await confirmed.json()).toMatchObject({ request: { state: 'done' } });
    const history = (await (await fetch(`${served.url}/v1/tools/get_payment_history`, { method: 'POST', headers, body: '{}' })).json()) as { result: { payments: Array<{ id: string; refund?: string }> } };
    expect(history.result.payments.find((payment) => payment.id === DEMO.actions.aliceDuplicateCharge)).toMatchObject({ refund: 'Fully refunded.' });
  }, 30_000);

  it('stays read-only with AUDIT=off instead of refusing to start', async () => {
    const served = await startServeDemo({ AUDIT: 'off' });
    started.push(served);
    expect(served.stdout()).not.toContain('ask for a refund');
    const tools = (await (await fetch(`${served.url}/v1/tools`, { headers: { authorization: `Bearer ${DEMO_HOST_KEY}` } })).json()) as { tools: Array<{ name: string }> };
    expect(JSON.stringify(tools)).not.toContain('request_refund');
  }, 30_000);
});

describe('start-up', () => {
  it.each([
    ['stdio', ['--demo']],
    ['serve', ['serve', '--demo']],
  ])('%s: an enabled policy with AUDIT=off is a configuration error (exit 2) that says what to do', async (_name, args) => {
    const run = await runCli(args, { ACTIONS_POLICY: policyFile, AUDIT: 'off', PORT: '0' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`stripe-billing-mcp: ${TRAIL_OFF_MESSAGE}`);
    expect(run.stderr).toContain('AUDIT=on');
    expect(run.stdout).toBe('');
  });

  it('stdio turns the trail on when the policy enables an action, and only then', async () => {
    const withPolicy = join(dir, 'stdio-policy');
    const without = join(dir, 'stdio-none');
    const run = await runCli(['--demo'], { ACTIONS_POLICY: policyFile, XDG_DATA_HOME: withPolicy, LOG_LEVEL: 'info' });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('audit trail on');
    expect(existsSync(join(withPolicy, 'stripe-billing-mcp', 'demo'))).toBe(true);

    const readOnly = await runCli(['--demo'], { XDG_DATA_HOME: without, LOG_LEVEL: 'info' });
    expect(readOnly.code, readOnly.stderr).toBe(0);
    expect(readOnly.stderr).not.toContain('audit trail on');
    expect(existsSync(join(without, 'stripe-billing-mcp', 'demo'))).toBe(false);
  });

  it('--help names the approval webhook settings', async () => {
    const run = await runCli(['--help']);
    expect(run.stdout).toMatch(/APPROVAL_WEBHOOK_URL +Each request waiting for a staff approval/);
    expect(run.stdout).toMatch(/APPROVAL_WEBHOOK_SECRET +Signs those POSTs/);
  });
});

describe('doctor', () => {
  const actionsRow = (stdout: string) => (JSON.parse(stdout) as { checks: Array<{ id: string; status: string; detail: string; fix?: string }> }).checks.find((check) => check.id === 'actions')!;

  it('fails the actions row when the trail their requests live in is off', async () => {
    const run = await runCli(['doctor', '--demo', '--json'], { ACTIONS_POLICY: policyFile, AUDIT: 'off' });
    expect(run.code).toBe(1);
    const row = actionsRow(run.stdout);
    expect(row).toMatchObject({ status: 'fail', detail: expect.stringContaining('enabled: refund, credit, pause; the audit trail is off (AUDIT=off)') });
    expect(row.fix).toMatch(/Turn the trail on/);
  });

  it('fails the actions row when the trail’s database cannot be opened', async () => {
    const run = await runCli(['doctor', '--demo', '--json'], { ACTIONS_POLICY: policyFile, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' }, 30_000);
    const row = actionsRow(run.stdout);
    expect(row).toMatchObject({ status: 'fail', detail: expect.stringContaining('the audit trail’s database is not available') });
    expect(row.fix).toMatch(/Postgres/);
  }, 40_000);

  it('with the trail on, reports the permissions as before', async () => {
    const run = await runCli(['doctor', '--demo', '--json'], { ACTIONS_POLICY: policyFile, AUDIT_DB: join(dir, 'doctor.db') });
    expect(actionsRow(run.stdout)).toMatchObject({ status: 'warn', detail: expect.stringMatching(/^enabled: refund, credit, pause; doctor does not check Refunds: Write/) });
  });
});
