import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeStripe } from '../src/demo/fake-stripe/index.js';
import { silentLogger } from '../src/log.js';
import { createRuntime } from '../src/runtime.js';
import { createMcpServer } from '../src/server.js';
import { startToolAvailability } from '../src/tools/lib/tool-availability.js';
import { BILLING_TOOLS } from '../src/tools/registry.js';
import { staffPrincipal } from '../src/verify/principal.js';
import { HOST_A, STAFF, startHttpFixture, type HttpFixture } from './support/http-harness.js';
import { TEST_STRIPE_KEY, testSettings } from './support/mcp-harness.js';
import { findFreePort } from './support/redis-server.js';
import { startSmtpServer } from './support/smtp-server.js';

let fx: HttpFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const auth = (key: string) => ({ authorization: `Bearer ${key}` });
// These servers run without an actions policy, so the action tools are never listed here.
const READ_ONLY_DEFAULT = BILLING_TOOLS.filter((tool) => tool.action === undefined);
const all = READ_ONLY_DEFAULT.map((tool) => tool.name).sort();
const needing = (...permissions: string[]) => READ_ONLY_DEFAULT.filter((tool) => tool.permissions.some((p) => permissions.includes(p))).map((tool) => tool.name);
const without = (names: string[]) => all.filter((name) => !names.includes(name));
/** The tools that hand out a billing-portal link: without a usable portal configuration, none of them can. */
const PORTAL_TOOLS = READ_ONLY_DEFAULT.filter((tool) => tool.portal !== undefined).map((tool) => tool.name);

/** A fake whose key already lacks these permissions when the server starts and probes. */
function fakeDenying(permissions: string[], setUp: (fake: FakeStripe) => void = () => {}): FakeStripe {
  const fake = new FakeStripe({ now: 1_790_000_000 });
  fake.restrictKey(TEST_STRIPE_KEY, permissions);
  setUp(fake);
  return fake;
}

async function listedOverJson(key: string): Promise<string[]> {
  const body = (await (await fetch(`${fx!.url}/v1/tools`, { headers: auth(key) })).json()) as { anthropic: Array<{ name: string }> };
  return body.anthropic.map((tool) => tool.name).filter((name) => all.includes(name)).sort();
}

async function listedOverMcp(key: string): Promise<string[]> {
  const client = new Client({ name: 'availability-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${fx!.url}/mcp`), { requestInit: { headers: auth(key) } }));
  const { tools } = await client.listTools();
  await client.close();
  return tools.map((tool) => tool.name).filter((name) => all.includes(name)).sort();
}

function captureLog() {
  const lines: string[] = [];
  const log = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) }));
  return { log, lines };
}

describe('serve leaves out of tools/list exactly the tools the key or account cannot serve', () => {
  it.each([
    [['rak_charge_read']],
    [['rak_invoice_write', 'rak_customer_balance_transaction_read']],
    [['rak_billing_portal_session_write']],
  ])('key denied %j: /v1/tools and /mcp list every other tool, for hosts and staff', async (denied) => {
    fx = await startHttpFixture({}, { fake: fakeDenying(denied), probeTools: true });
    const expected = without(needing(...denied));
    expect(expected.length).toBeLessThan(all.length);
    for (const key of [HOST_A, STAFF]) {
      expect(await listedOverJson(key)).toEqual(expected);
      expect(await listedOverMcp(key)).toEqual(expected);
    }
    const left = needing(...denied)[0]!;
    const call = await fetch(`${fx.url}/v1/tools/${left}`, { method: 'POST', headers: { ...auth(STAFF), 'content-type': 'application/json' }, body: '{}' });
    expect(call.status).toBe(404);
  });

  it('without a saved billing-portal configuration, leaves out the portal tools', async () => {
    fx = await startHttpFixture({}, { fake: fakeDenying([], (fake) => fake.setPortalConfigured(false)), probeTools: true });
    expect(PORTAL_TOOLS).toEqual(expect.arrayContaining(['get_billing_portal_link', 'cancel_subscription', 'preview_plan_change']));
    expect(await listedOverJson(STAFF)).toEqual(without(PORTAL_TOOLS));
  });

  it('lists everything when the key has every permission', async () => {
    fx = await startHttpFixture({}, { fake: fakeDenying([]), probeTools: true });
    expect(await listedOverJson(STAFF)).toEqual(all);
  });

  it('logs why a tool is left out once, however often the probe runs', async () => {
    const { log, lines } = captureLog();
    fx = await startHttpFixture({}, { fake: fakeDenying(['rak_charge_read']), probeTools: true, log });
    // The start-up probe, then a second one: /v1/status refreshes it.
    await fetch(`${fx.url}/v1/status`, { headers: auth(STAFF) });
    const leftOut = lines.filter((line) => line.includes('tool left out of tools/list') && line.includes('"tool":"get_payment_history"'));
    expect(leftOut).toHaveLength(1);
    expect(leftOut[0]).toContain('rak_charge_read');
    expect(lines.join('')).not.toContain(TEST_STRIPE_KEY);
  });
});

describe('serve leaves out the tools that mail or the shared store break', () => {
  const verificationTools = ['get_verification_status', 'verify_email_confirm', 'verify_email_start'];
  const hostTools = async () => {
    const body = (await (await fetch(`${fx!.url}/v1/tools`, { headers: auth(HOST_A) })).json()) as { anthropic: Array<{ name: string }> };
    return body.anthropic.map((tool) => tool.name).sort();
  };
  const unverifiedAnswer = async () => {
    const response = await fetch(`${fx!.url}/v1/tools/get_billing_info`, { method: 'POST', headers: { ...auth(HOST_A), 'x-conversation-id': 'chat-1' }, body: '{}' });
    return ((await response.json()) as { error: { message: string } }).error.message;
  };

  it('an SMTP server that refuses the login: no verify_email_start, and the model is not sent to it', async () => {
    const smtp = await startSmtpServer({ requireAuth: { user: 'billing', pass: 'right-password' } });
    try {
      fx = await startHttpFixture({ SMTP_URL: `smtp://billing:wrong-password@127.0.0.1:${smtp.port}`, MAIL_FROM: 'billing@example.com' }, { probeTools: true, smtp: true });
      const listed = await hostTools();
      expect(listed).not.toContain('verify_email_start');
      // A visitor who already has a code can still confirm it.
      expect(listed).toContain('verify_email_confirm');
      expect(listed).toContain('get_billing_info');
      expect(await unverifiedAnswer()).not.toContain('verify_email_start');
      expect(smtp.messages).toHaveLength(0);
    } finally {
      await smtp.stop();
    }
  });

  it('an SMTP server that accepts the login: the verification tools are listed', async () => {
    const smtp = await startSmtpServer({ requireAuth: { user: 'billing', pass: 'right-password' } });
    try {
      fx = await startHttpFixture({ SMTP_URL: `smtp://billing:right-password@127.0.0.1:${smtp.port}`, MAIL_FROM: 'billing@example.com' }, { probeTools: true, smtp: true });
      const listed = await hostTools();
      for (const name of verificationTools) expect(listed).toContain(name);
      expect(await unverifiedAnswer()).toContain('verify_email_start');
    } finally {
      await smtp.stop();
    }
  });

  it('an unreachable Redis: no verification tools and no resend_invoice; everything else stays', async () => {
    const port = await findFreePort();
    fx = await startHttpFixture({ STORE_URL: `redis://127.0.0.1:${port}`, VERIFY_SECRET: 'availability-verify-secret-32-bytes-long' }, { probeTools: true });
    const listed = await hostTools();
    for (const name of [...verificationTools, 'resend_invoice']) expect(listed).not.toContain(name);
    expect(listed).toContain('get_invoice_history');
    const status = (await (await fetch(`${fx.url}/v1/status`, { headers: auth(STAFF) })).json()) as { ok: boolean; store: unknown };
    expect(status).toMatchObject({ ok: false, store: { kind: 'redis', status: 'unreachable' } });
  });
});

describe('GET /v1/status', () => {
  it('gives staff the doctor report as JSON: connection, mode, key kind, permissions, portal, store, mail', async () => {
    fx = await startHttpFixture({}, { fake: fakeDenying(['rak_charge_read']), probeTools: true });
    const response = await fetch(`${fx.url}/v1/status`, { headers: auth(STAFF) });
    expect(response.status).toBe(200);
    const status = (await response.json()) as Record<string, unknown>;
    expect(status).toMatchObject({
      ok: false,
      stripe: { connected: true, mode: 'test', key_kind: 'restricted', key: 'rk_test_…0000' },
      portal: { status: 'ready', cancel_enabled: true },
      store: { kind: 'memory', status: 'ok' },
      mail: { status: 'ok' },
    });
    expect((status.permissions as Record<string, string>).rak_charge_read).toBe('missing');
    expect((status.permissions as Record<string, string>).rak_customer_read).toBe('granted');
    expect(JSON.stringify(status)).not.toContain(TEST_STRIPE_KEY);
  });

  it('refreshes the probe: a permission revoked after start-up drops its tools from the list', async () => {
    const fake = fakeDenying([]);
    fx = await startHttpFixture({}, { fake, probeTools: true });
    expect(await listedOverJson(HOST_A)).toEqual(all);
    fake.restrictKey(TEST_STRIPE_KEY, ['rak_invoice_read']);
    const status = (await (await fetch(`${fx.url}/v1/status`, { headers: auth(STAFF) })).json()) as { permissions: Record<string, string> };
    expect(status.permissions.rak_invoice_read).toBe('missing');
    expect(await listedOverJson(HOST_A)).toEqual(without(needing('rak_invoice_read')));
  });

  it('is for staff only', async () => {
    fx = await startHttpFixture({}, { probeTools: true });
    expect((await fetch(`${fx.url}/v1/status`, { headers: auth(HOST_A) })).status).toBe(403);
    expect((await fetch(`${fx.url}/v1/status`)).status).toBe(401);
  });
});

describe('a long-lived MCP server (stdio) follows the probe', () => {
  it('tells its client that the tool list changed when a later probe rules tools out, and lists them again when fixed', async () => {
    const fake = new FakeStripe({ now: 1_790_000_000 });
    const runtime = createRuntime({ settings: testSettings(), log: silentLogger(), maxNetworkRetries: 0, fetch: (input, init) => fake.handle(new Request(input, init)) });
    const tools = READ_ONLY_DEFAULT.filter((tool) => !tool.write);
    const availability = await startToolAvailability(runtime, tools, {});
    const server = createMcpServer({ tools, runtime, mode: 'staff', resolvePrincipal: async () => staffPrincipal('test'), followAvailability: true });
    const client = new Client({ name: 'stdio-like', version: '1.0.0' });
    let changes = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      changes += 1;
    });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
    const listed = async () => (await client.listTools()).tools.map((tool) => tool.name).sort();
    expect(await listed()).toEqual(tools.map((tool) => tool.name).sort());

    fake.setPortalConfigured(false);
    await availability.refresh();
    await expect.poll(() => changes).toBeGreaterThan(0);
    expect(await listed()).toEqual(tools.filter((tool) => tool.portal === undefined).map((tool) => tool.name).sort());

    fake.setPortalConfigured(true);
    await availability.refresh();
    await expect.poll(async () => (await listed()).length).toBe(tools.length);
    availability.stop();
    await client.close();
  });
});

/** Item 10 of issue 20: a permission that only adds a section never hides a tool. */
describe('serve keeps a tool listed when the key lacks only a permission that adds a section', () => {
  const ALL_PERMISSIONS = [...new Set(BILLING_TOOLS.flatMap((tool) => [...tool.permissions, ...Object.keys(tool.optionalPermissions ?? {})]))];

  it('customers and subscriptions read alone: get_subscription_status is listed and answers', async () => {
    fx = await startHttpFixture({}, { fake: fakeDenying(ALL_PERMISSIONS.filter((permission) => permission !== 'rak_customer_read' && permission !== 'rak_subscription_read')), probeTools: true });
    const listed = await listedOverJson(STAFF);
    expect(listed).toContain('get_subscription_status');
    expect(listed).not.toContain('get_invoice_history');
    const response = await fetch(`${fx.url}/v1/tools/get_subscription_status`, {
      method: 'POST',
      headers: { ...auth(STAFF), 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'alice@example.com' }),
    });
    expect(response.status).toBe(200);
    expect(JSON.stringify(await response.json())).toContain('Invoices: Read');
  });

  it('a BubblaV-like key (no prices or coupons read): the subscription, overview and billing tools stay listed', async () => {
    fx = await startHttpFixture({}, { fake: fakeDenying(['rak_price_read', 'rak_coupon_read']), probeTools: true });
    const listed = await listedOverJson(HOST_A);
    for (const name of ['get_subscription_status', 'get_customer_overview', 'get_billing_info', 'cancel_subscription']) expect(listed).toContain(name);
    expect(listed).not.toContain('get_available_plans');
  });
});
