import { readFileSync, readdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import Database from 'better-sqlite3';
import pino from 'pino';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEMO, FakeStripe, FakeStripeAccounts } from '../../src/demo/fake-stripe/index.js';
import { mintIdentityToken } from '../../src/demo/demo-identity.js';
import { SIGN_IN_FAILURES_ALLOWED } from '../../src/http/panel/routes.js';
import { startPlatform, type RunningPlatform } from '../../src/platform/serve-platform.js';
import { tempDirAfterAll } from '../support/audit.js';
import { testMailer, testSettings } from '../support/mcp-harness.js';
import { postSignIn } from '../support/panel.js';

/**
 * One deployment, two merchants on two Stripe accounts that both have alice@example.com. A
 * request's merchant comes only from its bearer key; nothing of one can be read or changed
 * through the other; no secret is kept or shown in plaintext.
 */
const tempDir = tempDirAfterAll('sbm-platform-');
const KEY_A = 'rk_test_fake_tenant_alpha_00000000000000';
const KEY_B = 'rk_test_fake_tenant_beta_000000000000000';
const WEBHOOK_A = 'whsec_test_fake_alpha_webhook_000000000000';
const WEBHOOK_B = 'whsec_test_fake_beta_webhook_0000000000000';
const ADMIN = 'admin_secret_for_platform_tests_0000000';
const KEK_1 = `k1:${Buffer.alloc(32, 1).toString('base64')}`;
const IDENTITY_SECRET = 'platform-test-identity-secret-32-bytes!!';
const signer = new Stripe('sk_test_fake_signer_only_never_sent_00000');

const accounts = new FakeStripeAccounts();
const alpha = new FakeStripe({ now: 1_790_000_000 });
const beta = new FakeStripe({ now: 1_790_000_000 });
accounts.add(KEY_A, alpha).add(KEY_B, beta);

let dir: string;
let platform: RunningPlatform;
const logLines: string[] = [];
let A: { id: string; host: string; staff: string };
let B: { id: string; host: string; staff: string };

function settingsFor(extra: Record<string, string> = {}) {
  return testSettings({ PORT: '0', ADMIN_KEYS: `ops:${ADMIN}`, TENANT_KEY_SECRET: KEK_1, AUDIT_DB: join(dir, 'platform.db'), IDENTITY_SECRET, ...extra });
}

async function admin(method: string, path: string, body?: unknown, key = ADMIN): Promise<{ status: number; body: Record<string, any> }> {
  const response = await fetch(`${platform.url}${path}`, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { status: response.status, body: response.status === 204 ? {} : ((await response.json()) as Record<string, any>) };
}

const knownTenants: string[] = [];

async function tool(key: string, name: string, options: { email?: string; body?: unknown; conversation?: string; audience?: string } = {}): Promise<{ status: number; body: Record<string, any> }> {
  const headers: Record<string, string> = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  // Tokens name their merchant in `aud`; the tests' tokens name every merchant they created.
  if (options.email) headers['x-customer-token'] = await mintIdentityToken(options.email, IDENTITY_SECRET, 600, options.audience ?? knownTenants);
  if (options.conversation) headers['x-conversation-id'] = options.conversation;
  const response = await fetch(`${platform.url}/v1/tools/${name}`, { method: 'POST', headers, body: JSON.stringify(options.body ?? {}) });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

beforeAll(async () => {
  dir = tempDir();
  // Same email, different people: each account's alice has its own name; carol is only beta's.
  const betaAlice = beta.store.customers.get(DEMO.customers.alice) as Stripe.Customer;
  beta.store.customers.set(betaAlice.id, { ...betaAlice, name: 'Alice at Beta' });
  alpha.store.customers.delete(DEMO.customers.carol);
  const log = pino({ level: 'info' }, new Writable({ write: (chunk, _encoding, done) => (logLines.push(String(chunk)), done()) }));
  platform = await startPlatform({ settings: settingsFor(), log, fetch: (input, init) => accounts.handle(new Request(input, init)), mailer: testMailer() });
  const created = await Promise.all([
    admin('POST', '/v1/admin/tenants', { name: 'Alpha', stripe_api_key: KEY_A, webhook_secret: WEBHOOK_A }),
    admin('POST', '/v1/admin/tenants', { name: 'Beta', stripe_api_key: KEY_B, webhook_secret: WEBHOOK_B, settings: { write_tools: ['apply_coupon'] } }),
  ]);
  for (const answer of created) expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  [A, B] = created.map(({ body }) => ({ id: body.tenant.id as string, host: body.host_key as string, staff: body.staff_key as string })) as [typeof A, typeof B];
  knownTenants.push(A.id, B.id);
});

afterAll(async () => {
  await platform?.close();
});

describe('connecting merchants (/v1/admin)', () => {
  it('only admin keys: none → 401, a merchant key → 403', async () => {
    expect((await fetch(`${platform.url}/v1/admin/tenants`)).status).toBe(401);
    expect((await admin('GET', '/v1/admin/tenants', undefined, 'not-a-key-0000000000000000000')).status).toBe(401);
    for (const key of [A.host, A.staff]) expect((await admin('GET', '/v1/admin/tenants', undefined, key)).status).toBe(403);
  });

  it('says which tools work with the key, and never shows a secret again', async () => {
    const { status, body } = await admin('GET', `/v1/admin/tenants/${A.id}`);
    expect(status).toBe(200);
    expect(body.tenant).toMatchObject({ name: 'Alpha', mode: 'test', webhooks: true, webhook_url: `/webhooks/stripe/${A.id}` });
    expect(body.tenant.tools.find((row: { name: string }) => row.name === 'get_subscription_status')).toMatchObject({ works: true });
    const listed = JSON.stringify((await admin('GET', '/v1/admin/tenants')).body);
    for (const secret of [KEY_A, KEY_B, WEBHOOK_A, WEBHOOK_B, A.host, A.staff, B.host, B.staff]) expect(listed).not.toContain(secret);
  });

  it('refuses a key Stripe does not accept, and bad input, storing nothing', async () => {
    const before = (await admin('GET', '/v1/admin/tenants')).body.tenants.length;
    const unknownKey = await admin('POST', '/v1/admin/tenants', { name: 'Nobody', stripe_api_key: 'rk_test_fake_no_such_account_0000000' });
    expect(unknownKey.status).toBe(400);
    expect(unknownKey.body.message).toContain('Stripe did not accept this key');
    expect((await admin('POST', '/v1/admin/tenants', { name: 'Pk', stripe_api_key: 'pk_test_123' })).status).toBe(400);
    expect((await admin('POST', '/v1/admin/tenants', { name: 'X', stripe_api_key: KEY_A, surprise: true })).status).toBe(400);
    // A sender the mailer would refuse later is refused now, not on every request after.
    const badSender = await admin('PATCH', `/v1/admin/tenants/${A.id}`, { settings: { mail_from: 'Billing team' } });
    expect(badSender.status).toBe(400);
    expect(badSender.body.message).toContain('mail_from must contain an email address');
    expect((await admin('GET', '/v1/admin/tenants')).body.tenants.length).toBe(before);
  });

  it('shows a missing permission and its fix when the key lacks it', async () => {
    const limitedKey = 'rk_test_fake_tenant_limited_0000000000000';
    const limited = new FakeStripe({ now: 1_790_000_000 });
    limited.restrictKey(limitedKey, ['rak_charge_read']);
    accounts.add(limitedKey, limited);
    const { status, body } = await admin('POST', '/v1/admin/tenants', { name: 'Limited', stripe_api_key: limitedKey });
    expect(status).toBe(201);
    const paymentHistory = body.tenant.tools.find((row: { name: string }) => row.name === 'get_payment_history');
    expect(paymentHistory.works).toBe(false);
    // The merchant reads what is missing and where to grant it.
    expect(paymentHistory.reasons).toEqual([
      'the key lacks rak_charge_read (Charges: Read)',
      'Fix: Grant "Charges: Read" (rak_charge_read) to the restricted key: Dashboard → Developers → API keys → the key → Edit.',
    ]);
    // A tool that only loses a section keeps working, and says without what.
    const overview = body.tenant.tools.find((row: { name: string }) => row.name === 'get_customer_overview');
    expect(overview.works).toBe(true);
    expect(overview.without.join(' ')).toContain('Charges: Read');
    expect((await admin('DELETE', `/v1/admin/tenants/${body.tenant.id}`)).status).toBe(204);
  });
});

describe('a request runs for the merchant of its bearer key, and only that one', () => {
  it('the same email in two Stripe accounts: each merchant sees its own customer', async () => {
    const alphaAnswer = await tool(A.host, 'get_billing_info', { email: DEMO.emails.alice });
    const betaAnswer = await tool(B.host, 'get_billing_info', { email: DEMO.emails.alice });
    expect(alphaAnswer.body.is_error).toBe(false);
    expect(JSON.stringify(alphaAnswer.body)).not.toContain('Alice at Beta');
    expect(JSON.stringify(betaAnswer.body)).toContain('Alice at Beta');
  });

  it('over MCP too: the host key decides the merchant, whatever the arguments say', async () => {
    const client = new Client({ name: 'platform-test', version: '1.0.0' });
    const headers = { authorization: `Bearer ${A.host}`, 'x-customer-token': await mintIdentityToken(DEMO.emails.alice, IDENTITY_SECRET, 600, A.id) };
    await client.connect(new StreamableHTTPClientTransport(new URL(`${platform.url}/mcp`), { requestInit: { headers } }));
    try {
      const result = await client.callTool({ name: 'get_billing_info', arguments: { tenant: B.id, tenant_id: B.id, customer_id: DEMO.customers.carol } });
      expect(result.isError).toBeFalsy();
      const text = JSON.stringify(result);
      expect(text).toContain(DEMO.customers.alice);
      expect(text).not.toContain('Alice at Beta');
      expect(text).not.toContain(DEMO.customers.carol);
    } finally {
      await client.close();
    }
  });

  it("an identity token names its merchant: one minted for alpha's site opens nothing at beta", async () => {
    const forAlpha = await tool(B.host, 'get_billing_info', { email: DEMO.emails.alice, audience: A.id });
    expect(forAlpha.body.is_error).toBe(true);
    expect(JSON.stringify(forAlpha.body)).not.toContain('Alice at Beta');
    // The answer itself says why, so a platform developer need not read the server's log.
    expect(forAlpha.body.error).toMatchObject({ kind: 'not_verified', message: expect.stringContaining('`aud` claim names another merchant') });
    expect(JSON.stringify(forAlpha.body)).not.toContain(A.id);
    const forBeta = await tool(B.host, 'get_billing_info', { email: DEMO.emails.alice, audience: B.id });
    expect(JSON.stringify(forBeta.body)).toContain('Alice at Beta');
    const unnamedToken = await mintIdentityToken(DEMO.emails.alice, IDENTITY_SECRET, 600);
    const unnamed = await fetch(`${platform.url}/v1/tools/get_billing_info`, { method: 'POST', headers: { authorization: `Bearer ${B.host}`, 'x-customer-token': unnamedToken, 'content-type': 'application/json' }, body: '{}' });
    const unnamedBody = (await unnamed.json()) as { is_error: boolean; error: { kind: string; message: string } };
    expect(unnamedBody.is_error).toBe(true);
    expect(unnamedBody.error).toMatchObject({ kind: 'not_verified', message: expect.stringContaining('it has no `aud` claim') });
    expect(JSON.stringify(unnamedBody)).not.toContain(unnamedToken);
  });

  it("a merchant's staff key cannot reach another merchant's customers", async () => {
    const fromAlpha = await tool(A.staff, 'get_customer_overview', { body: { email: DEMO.emails.carol } });
    expect(fromAlpha.body.is_error).toBe(true);
    expect(JSON.stringify(fromAlpha.body)).not.toContain('cus_DemoCarol');
    const fromBeta = await tool(B.staff, 'get_customer_overview', { body: { email: DEMO.emails.carol } });
    expect(fromBeta.body.is_error).toBe(false);
    const insight = await fetch(`${platform.url}/v1/insight?email=${DEMO.emails.carol}`, { headers: { authorization: `Bearer ${A.staff}` } });
    expect(insight.status).toBe(404);
  });

  it("a verification in one merchant's conversation means nothing to another merchant with the same conversation id", async () => {
    const verified = await tool(A.host, 'verify_email_start', { conversation: 'chat-1', body: { email: DEMO.emails.alice } });
    expect(verified.body.is_error).toBe(false);
    const fromBeta = await tool(B.host, 'get_verification_status', { conversation: 'chat-1' });
    expect(fromBeta.body.result).toMatchObject({ verified: false });
  });

  it('writes follow the merchant: apply_coupon is on for beta only', async () => {
    const listFor = async (key: string) => ((await (await fetch(`${platform.url}/v1/tools`, { headers: { authorization: `Bearer ${key}` } })).json()) as { anthropic: Array<{ name: string }> }).anthropic.map((t) => t.name);
    expect(await listFor(A.host)).not.toContain('apply_coupon');
    expect(await listFor(B.host)).toContain('apply_coupon');
  });

  it("each merchant's staff read only that merchant's audit records", async () => {
    await platform.audit!.flush();
    const read = async (key: string) => ((await (await fetch(`${platform.url}/v1/audit?email=${DEMO.emails.alice}`, { headers: { authorization: `Bearer ${key}` } })).json()) as { records: Array<{ tenant_id: string }> }).records;
    const alphaRecords = await read(A.staff);
    expect(alphaRecords.length).toBeGreaterThan(0);
    expect(alphaRecords.every((record) => record.tenant_id === A.id)).toBe(true);
    expect((await read(B.staff)).every((record) => record.tenant_id === B.id)).toBe(true);
    // The trail's own state (where it is, how much every merchant wrote) is not a merchant's to see.
    const answer = await (await fetch(`${platform.url}/v1/audit?email=${DEMO.emails.alice}`, { headers: { authorization: `Bearer ${A.staff}` } })).json();
    expect(answer).not.toHaveProperty('status');
  });

  it("webhooks are checked with the merchant's own signing secret", async () => {
    const payload = JSON.stringify({ id: 'evt_platform_1', object: 'event', type: 'customer.updated', created: Math.floor(Date.now() / 1000), data: { object: { id: DEMO.customers.alice, object: 'customer' }, previous_attributes: {} } });
    const deliver = (tenant: string, secret: string) =>
      fetch(`${platform.url}/webhooks/stripe/${tenant}`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signer.webhooks.generateTestHeaderString({ payload, secret }) }, body: payload });
    expect((await deliver(A.id, WEBHOOK_B)).status).toBe(400);
    expect((await deliver(A.id, WEBHOOK_A)).status).toBe(200);
    expect((await deliver('ten_doesnotexist', WEBHOOK_A)).status).toBe(404);
    // Event ids are de-duplicated per merchant: the same id at beta is beta's first.
    expect(await (await deliver(A.id, WEBHOOK_A)).json()).toEqual({ received: true, duplicate: true });
    expect(await (await deliver(B.id, WEBHOOK_B)).json()).toEqual({ received: true });
  });
});

describe('the insight panel, per merchant', () => {
  async function signIn(key: string): Promise<{ status: number; cookie: string }> {
    const response = await postSignIn(platform.url, { key, return_to: '' });
    const cookie = response.headers.getSetCookie().map((line) => line.split(';')[0]!).filter((pair) => !pair.endsWith('=')).join('; ');
    return { status: response.status, cookie };
  }

  it("a merchant's agent signs in with its staff key and sees that merchant's customers only", async () => {
    expect((await fetch(`${platform.url}/panel/sign-in`)).status).toBe(200);
    const { status, cookie } = await signIn(A.staff);
    expect(status).toBe(303);
    expect(cookie).toContain('__Host-sbm_tenant=');
    const alice = await (await fetch(`${platform.url}/panel/card?email=${DEMO.emails.alice}`, { headers: { cookie } })).text();
    expect(alice).toContain(DEMO.customers.alice);
    expect(alice).not.toContain('Alice at Beta');
    const carol = await (await fetch(`${platform.url}/panel/card?email=${DEMO.emails.carol}`, { headers: { cookie } })).text();
    expect(carol).not.toContain(DEMO.customers.carol);
  });

  it('a sign-in form larger than a sign-in form is refused before it is read', async () => {
    const huge = await fetch(`${platform.url}/panel/sign-in`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: platform.url }, body: `key=${'x'.repeat(64 * 1024)}` });
    expect(huge.status).toBe(413);
  });

  it('host keys, admin keys and unknown keys do not sign in', async () => {
    for (const key of [A.host, ADMIN, 'not-a-key-at-all-but-long-enough']) {
      const { status, cookie } = await signIn(key);
      expect(status).toBe(401);
      expect(cookie).toBe('');
    }
  });

  it("a session of one merchant sent with a routing cookie for another merchant opens nothing", async () => {
    const { cookie } = await signIn(A.staff);
    const session = cookie.split('; ').filter((pair) => !pair.startsWith('__Host-sbm_tenant='));
    const betaRouting = (await signIn(B.staff)).cookie.split('; ').find((pair) => pair.startsWith('__Host-sbm_tenant='))!;
    const mixed = [...session, betaRouting].join('; ');
    const card = await fetch(`${platform.url}/panel/card?email=${DEMO.emails.carol}`, { headers: { cookie: mixed } });
    expect(card.status).toBe(401);
    expect(await card.text()).not.toContain(DEMO.customers.carol);
    // A forged routing cookie (beta's id under alpha's signature) is ignored even with beta's own
    // session: the agent lands in the lobby, signed out, not in beta's panel.
    const betaSession = (await signIn(B.staff)).cookie.split('; ').filter((pair) => !pair.startsWith('__Host-sbm_tenant='));
    const alphaSignature = cookie.split('__Host-sbm_tenant=')[1]!.split(';')[0]!.split('.')[1];
    const forged = [...betaSession, `__Host-sbm_tenant=${B.id}.${alphaSignature}`].join('; ');
    expect((await fetch(`${platform.url}/panel/card?email=${DEMO.emails.carol}`, { headers: { cookie: forged } })).status).toBe(401);
    // With beta's real routing cookie the same session opens beta's panel: the forgery alone was refused.
    expect((await fetch(`${platform.url}/panel/card?email=${DEMO.emails.carol}`, { headers: { cookie: [...betaSession, betaRouting].join('; ') } })).status).toBe(200);
  });
});

describe('the panel sign-in lockout in platform mode', () => {
  /** The sign-in form posted from another loopback address (fetch cannot choose its source address). */
  function signInFrom(localAddress: string, url: string, key: string): Promise<{ status: number }> {
    const { hostname, port } = new URL(url);
    const body = new URLSearchParams({ key, return_to: '' }).toString();
    return new Promise((resolve, reject) => {
      const request = httpRequest(
        { host: hostname, port, localAddress, method: 'POST', path: '/panel/sign-in', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), origin: url } },
        (response) => response.resume().on('end', () => resolve({ status: response.statusCode ?? 0 })),
      );
      request.on('error', reject);
      request.end(body);
    });
  }

  it("after 10 wrong keys from one address, even a merchant's right staff key waits, and no key is looked up meanwhile", async () => {
    // A platform of its own: the lockout of this address must not reach the other tests.
    const own = await startPlatform({ settings: settingsFor({ AUDIT_DB: join(dir, 'lockout.db') }), log: pino({ level: 'silent' }), fetch: (input, init) => accounts.handle(new Request(input, init)), mailer: testMailer() });
    try {
      const created = await fetch(`${own.url}/v1/admin/tenants`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Delta', stripe_api_key: KEY_A }) });
      expect(created.status).toBe(201);
      const staff = ((await created.json()) as { staff_key: string }).staff_key;
      for (let i = 0; i < SIGN_IN_FAILURES_ALLOWED; i++) expect((await postSignIn(own.url, { key: `wrong-key-${i}-000000000000000000000` })).status).toBe(401);
      expect((await postSignIn(own.url, { key: 'one-more-wrong-key-0000000000000000' })).status).toBe(429);
      const lookups = vi.spyOn(own.tenants, 'authenticate');
      const right = await postSignIn(own.url, { key: staff, return_to: '' });
      expect(right.status).toBe(429);
      expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(right.headers.getSetCookie().filter((line) => !/=;|Max-Age=0/.test(line))).toEqual([]);
      expect(lookups).not.toHaveBeenCalled();
      // Counted per client address: an agent at another address signs in with that key.
      expect((await signInFrom('127.0.0.2', own.url, staff)).status).toBe(303);
    } finally {
      await own.close();
    }
  });
});

describe('a new Stripe key for a merchant', () => {
  it('answers from the new account at once, never from what the old key cached', async () => {
    const before = await tool(A.host, 'get_billing_info', { email: DEMO.emails.alice });
    expect(JSON.stringify(before.body)).not.toContain('Alice at Beta');
    // Alpha now connects beta's Stripe account (say, its live account after its test account).
    expect((await admin('PATCH', `/v1/admin/tenants/${A.id}`, { stripe_api_key: KEY_B })).status).toBe(200);
    const after = await tool(A.host, 'get_billing_info', { email: DEMO.emails.alice });
    expect(JSON.stringify(after.body)).toContain('Alice at Beta');
    expect((await admin('PATCH', `/v1/admin/tenants/${A.id}`, { stripe_api_key: KEY_A })).status).toBe(200);
    expect(JSON.stringify((await tool(A.host, 'get_billing_info', { email: DEMO.emails.alice })).body)).not.toContain('Alice at Beta');
  });
});

describe('keys', () => {
  it('a change and a key rotation at the same moment both take effect (neither undoes the other)', async () => {
    const [changed, rotated] = await Promise.all([
      admin('PATCH', `/v1/admin/tenants/${B.id}`, { settings: { merchant_name: 'Beta Billing' } }),
      admin('POST', `/v1/admin/tenants/${B.id}/keys/staff/rotate`),
    ]);
    expect([changed.status, rotated.status]).toEqual([200, 200]);
    expect((await admin('GET', `/v1/admin/tenants/${B.id}`)).body.tenant.settings.merchant_name).toBe('Beta Billing');
    expect((await tool(B.staff, 'get_verification_status')).status).toBe(401);
    B.staff = rotated.body.key;
    expect((await tool(B.staff, 'get_credit_balance', { body: { email: DEMO.emails.carol } })).body.is_error).toBe(false);
  });

  it('rotating a host key: the old one stops at once, the new one works', async () => {
    const rotated = await admin('POST', `/v1/admin/tenants/${B.id}/keys/host/rotate`);
    expect(rotated.status).toBe(200);
    expect((await tool(B.host, 'get_verification_status')).status).toBe(401);
    B.host = rotated.body.key;
    expect((await tool(B.host, 'get_verification_status')).status).toBe(200);
  });

  it('a tampered ciphertext is refused with its cause, nothing decrypted, and other merchants keep working', async () => {
    const db = new Database(join(dir, 'platform.db'));
    const stored = db.prepare('SELECT stripe_key FROM tenants WHERE id = ?').get(B.id) as { stripe_key: string };
    // Another tenant's ciphertext moved over is as wrong as flipped bits.
    const alphaCiphertext = (db.prepare('SELECT stripe_key FROM tenants WHERE id = ?').get(A.id) as { stripe_key: string }).stripe_key;
    db.prepare('UPDATE tenants SET stripe_key = ?, version = version + 1 WHERE id = ?').run(alphaCiphertext, B.id);
    db.close();
    await new Promise((resolve) => setTimeout(resolve, 3_100));
    const refused = await tool(B.host, 'get_billing_info', { email: DEMO.emails.alice });
    expect(refused.status).toBe(503);
    expect(refused.body.message).toContain('integrity check');
    expect(JSON.stringify(refused.body)).not.toContain(KEY_A);
    expect((await tool(A.host, 'get_billing_info', { email: DEMO.emails.alice })).body.is_error).toBe(false);
    const restore = new Database(join(dir, 'platform.db'));
    restore.prepare('UPDATE tenants SET stripe_key = ?, version = version + 1 WHERE id = ?').run(stored.stripe_key, B.id);
    restore.close();
  });
});

describe('nothing secret is kept or shown in plaintext', () => {
  it('database files, logs and status answers hold no Stripe key, webhook secret or bearer key', async () => {
    await platform.audit!.flush();
    const status = await (await fetch(`${platform.url}/v1/status`, { headers: { authorization: `Bearer ${A.staff}` } })).text();
    // A merchant's status shows neither where the platform keeps its database nor its volume.
    expect(status).not.toContain(dir);
    expect(status).not.toMatch(/records written/);
    const files = readdirSync(dir).filter((name) => name.startsWith('platform.db'));
    const bytes = files.map((name) => readFileSync(join(dir, name)).toString('latin1')).join('\n');
    expect(bytes).toContain('Alpha');
    const haystacks = { database: bytes, logs: logLines.join(''), status };
    for (const [where, text] of Object.entries(haystacks)) {
      for (const secret of [KEY_A, KEY_B, WEBHOOK_A, WEBHOOK_B, A.host, A.staff, B.host, B.staff, ADMIN]) expect(text.includes(secret), `${where} holds ${secret.slice(0, 14)}…`).toBe(false);
    }
  });
});

describe('removing a merchant', () => {
  it('forgets its keys at once; its audit records stay', async () => {
    const removable = await admin('POST', '/v1/admin/tenants', { name: 'Gamma', stripe_api_key: KEY_A });
    const gamma = { id: removable.body.tenant.id as string, host: removable.body.host_key as string };
    knownTenants.push(gamma.id);
    expect((await tool(gamma.host, 'get_billing_info', { email: DEMO.emails.alice })).body.is_error).toBe(false);
    expect((await admin('DELETE', `/v1/admin/tenants/${gamma.id}`)).status).toBe(204);
    expect((await tool(gamma.host, 'get_billing_info', { email: DEMO.emails.alice })).status).toBe(401);
    expect((await admin('GET', `/v1/admin/tenants/${gamma.id}`)).status).toBe(404);
    await platform.audit!.flush();
    expect((await platform.audit!.store.find({ tenant_id: gamma.id })).length).toBeGreaterThan(0);
  });
});
