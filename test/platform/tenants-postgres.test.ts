import { ConfigurationError } from '../../src/errors.js';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO, FakeStripe, FakeStripeAccounts } from '../../src/demo/fake-stripe/index.js';
import { mintIdentityToken } from '../../src/demo/demo-identity.js';
import { silentLogger } from '../../src/log.js';
import { Keyring, KeyringError } from '../../src/platform/keyring.js';
import { openTenants, startPlatform, type RunningPlatform } from '../../src/platform/serve-platform.js';
import { testMailer, testSettings } from '../support/mcp-harness.js';
import { usePostgresServer } from '../support/postgres-server.js';

/**
 * Platform mode on Postgres, as several processes run it: two platforms (each its own port, its
 * own caches, apps and tenant lookups) on ONE database and nothing else shared. A change made
 * through one reaches the other within seconds; the key-encryption key is rotated under them; no
 * table holds a plaintext secret.
 */
const postgres = usePostgresServer();

const KEY_A = 'rk_test_fake_pg_tenant_alpha_0000000000000';
const KEY_B = 'rk_test_fake_pg_tenant_beta_00000000000000';
const WEBHOOK_A = 'whsec_test_fake_pg_alpha_webhook_00000000';
const WEBHOOK_B = 'whsec_test_fake_pg_beta_webhook_000000000';
const ADMIN = 'admin_secret_for_pg_platform_tests_00000';
const RAW_1 = Buffer.alloc(32, 0x11);
const RAW_2 = Buffer.alloc(32, 0x22);
const K1 = `k1:${RAW_1.toString('base64')}`;
const K2 = `k2:${RAW_2.toString('base64')}`;
const K1_ID = new Keyring(K1).currentKeyId;
const K2_ID = new Keyring(K2).currentKeyId;
const IDENTITY_SECRET = 'pg-platform-identity-secret-32-bytes!!!!';

// Stripe is the one other thing both processes talk to, as in production.
const accounts = new FakeStripeAccounts();
accounts.add(KEY_A, new FakeStripe({ now: 1_790_000_000 })).add(KEY_B, new FakeStripe({ now: 1_790_000_000 }));

let databaseUrl: string;
const started: RunningPlatform[] = [];
let one: RunningPlatform;
let two: RunningPlatform;
/** Every secret ever issued or sent, for the plaintext scan. */
const secrets = new Set<string>([KEY_A, KEY_B, WEBHOOK_A, WEBHOOK_B, ADMIN, RAW_1.toString('base64'), RAW_2.toString('base64')]);

async function start(kek: string): Promise<RunningPlatform> {
  const settings = testSettings({ PORT: '0', ADMIN_KEYS: `ops:${ADMIN}`, TENANT_KEY_SECRET: kek, DATABASE_URL: databaseUrl, IDENTITY_SECRET });
  const platform = await startPlatform({ settings, log: silentLogger(), fetch: (input, init) => accounts.handle(new Request(input, init)), mailer: testMailer() });
  started.push(platform);
  return platform;
}

async function admin(platform: RunningPlatform, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, any> }> {
  const response = await fetch(`${platform.url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { status: response.status, body: response.status === 204 ? {} : ((await response.json()) as Record<string, any>) };
}

const madeTenants: string[] = [];

/** A customer question through the tenant of `key`: get_billing_info for alice. */
async function ask(platform: RunningPlatform, key: string): Promise<{ status: number; body: Record<string, any> }> {
  // In platform mode a token names its merchant in `aud`: these name every tenant the file made.
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-customer-token': await mintIdentityToken(DEMO.emails.alice, IDENTITY_SECRET, 600, madeTenants) };
  const response = await fetch(`${platform.url}/v1/tools/get_billing_info`, { method: 'POST', headers, body: '{}' });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

const answered = (reply: { status: number; body: Record<string, any> }) => reply.status === 200 && reply.body.is_error === false;

/** Polls until `done` holds (or fails after `withinMs`); returns how long it took. */
async function within<T>(withinMs: number, probe: () => Promise<T>, done: (value: T) => boolean): Promise<{ value: T; ms: number }> {
  const startedAt = Date.now();
  for (;;) {
    const value = await probe();
    if (done(value)) return { value, ms: Date.now() - startedAt };
    if (Date.now() - startedAt > withinMs) throw new Error(`not within ${withinMs} ms; last answer: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function connect(platform: RunningPlatform, body: Record<string, unknown>): Promise<{ id: string; host: string; staff: string }> {
  const created = await admin(platform, 'POST', '/v1/admin/tenants', body);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const tenant = { id: created.body.tenant.id as string, host: created.body.host_key as string, staff: created.body.staff_key as string };
  secrets.add(tenant.host).add(tenant.staff);
  madeTenants.push(tenant.id);
  return tenant;
}

async function query<T extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

let A: { id: string; host: string; staff: string };
let B: { id: string; host: string; staff: string };

beforeAll(async () => {
  databaseUrl = await postgres().createDatabase();
  // Two processes starting at once on an empty database: one schema, one pepper.
  [one, two] = await Promise.all([start(K1), start(K1)]);
  expect(one.url).not.toBe(two.url);
});

afterAll(async () => {
  for (const platform of started) await platform.close().catch(() => undefined);
});

describe('two platforms on one Postgres database', () => {
  it('a tenant connected through platform 1 answers through platform 2 with its host key', async () => {
    A = await connect(one, { name: 'Alpha', stripe_api_key: KEY_A, webhook_secret: WEBHOOK_A });
    B = await connect(one, { name: 'Beta', stripe_api_key: KEY_B, webhook_secret: WEBHOOK_B });
    const { ms } = await within(5_000, () => ask(two, A.host), answered);
    expect(ms).toBeLessThan(5_000);
    expect(answered(await ask(two, B.host))).toBe(true);
    expect(answered(await ask(one, A.host))).toBe(true);
    // Platform 2's admin API sees the same tenants.
    const listed = (await admin(two, 'GET', '/v1/admin/tenants')).body.tenants.map((tenant: { id: string }) => tenant.id);
    expect(listed).toEqual(expect.arrayContaining([A.id, B.id]));
    expect((await query('SELECT count(*)::int AS n FROM audit_meta WHERE key = $1', ['tenant_key_pepper']))[0]!.n).toBe(1);
  });

  it('a host key rotated on platform 1 stops working on platform 2 within seconds; the new one works there', async () => {
    // Platform 2 has just used the old key (it holds the tenant and the key lookup).
    expect(answered(await ask(two, B.host))).toBe(true);
    const rotated = await admin(one, 'POST', `/v1/admin/tenants/${B.id}/keys/host/rotate`);
    expect(rotated.status).toBe(200);
    const oldKey = B.host;
    B.host = rotated.body.key as string;
    secrets.add(B.host);
    expect((await ask(one, oldKey)).status).toBe(401);
    const { ms } = await within(10_000, () => ask(two, oldKey), (reply) => reply.status === 401);
    expect(ms).toBeLessThanOrEqual(10_000);
    expect(answered(await ask(two, B.host))).toBe(true);
    expect(answered(await ask(one, B.host))).toBe(true);
    // The staff key was not touched.
    expect((await fetch(`${two.url}/v1/tools`, { headers: { authorization: `Bearer ${B.staff}` } })).status).toBe(200);
  }, 20_000);

  it('a tenant removed on platform 1 is refused on platform 2 within seconds (keys and webhooks)', async () => {
    const gamma = await connect(one, { name: 'Gamma', stripe_api_key: KEY_A, webhook_secret: WEBHOOK_A });
    await within(5_000, () => ask(two, gamma.host), answered);
    expect((await admin(one, 'DELETE', `/v1/admin/tenants/${gamma.id}`)).status).toBe(204);
    expect((await ask(one, gamma.host)).status).toBe(401);
    const { ms } = await within(10_000, () => ask(two, gamma.host), (reply) => reply.status === 401);
    expect(ms).toBeLessThanOrEqual(10_000);
    expect((await fetch(`${two.url}/v1/tools`, { headers: { authorization: `Bearer ${gamma.staff}` } })).status).toBe(401);
    const webhook = await within(10_000, () => fetch(`${two.url}/webhooks/stripe/${gamma.id}`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=00' }, body: '{}' }), (reply) => reply.status === 404);
    expect(webhook.value.status).toBe(404);
    expect((await admin(two, 'GET', `/v1/admin/tenants/${gamma.id}`)).status).toBe(404);
    expect(await query('SELECT * FROM tenant_keys WHERE tenant_id = $1', [gamma.id])).toEqual([]);
    // The others are untouched.
    expect(answered(await ask(two, A.host))).toBe(true);
  }, 25_000);
});

describe('changes made through either platform reach the other', () => {
  it("a tenant's settings changed on platform 2 rebuild its app on platform 1 within seconds", async () => {
    const toolsOf = async (platform: RunningPlatform) => ((await (await fetch(`${platform.url}/v1/tools`, { headers: { authorization: `Bearer ${A.host}` } })).json()) as { anthropic: Array<{ name: string }> }).anthropic.map((tool) => tool.name);
    expect(await toolsOf(one)).not.toContain('apply_coupon');
    const patched = await admin(two, 'PATCH', `/v1/admin/tenants/${A.id}`, { settings: { write_tools: ['apply_coupon'] } });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(await toolsOf(two)).toContain('apply_coupon');
    const { ms } = await within(10_000, () => toolsOf(one), (names) => names.includes('apply_coupon'));
    expect(ms).toBeLessThanOrEqual(10_000);
    expect(answered(await ask(one, A.host))).toBe(true);
  }, 20_000);
});

describe('rotating the key-encryption key (k1 → k2) under running platforms', () => {
  it('rotateKek re-encrypts every stored value and the pepper under k2', async () => {
    const before = await query<{ stripe_key: string; webhook_secret: string | null }>('SELECT stripe_key, webhook_secret FROM tenants');
    expect(before.length).toBe(2);
    for (const row of before) expect(new Keyring(K1).keyIdOf(row.stripe_key)).toBe(K1_ID);

    const { tenants, database } = await openTenants(testSettings({ TENANT_KEY_SECRET: `${K2},${K1}`, DATABASE_URL: databaseUrl }), silentLogger());
    try {
      expect(await tenants.rotateKek()).toEqual({ tenants: 2, key_id: K2_ID });
    } finally {
      await database.close();
    }

    const ring = new Keyring(K2);
    const rows = await query<{ id: string; stripe_key: string; webhook_secret: string | null; version: number }>('SELECT id, stripe_key, webhook_secret, version FROM tenants ORDER BY id');
    expect(rows.length).toBe(2);
    for (const row of rows) {
      expect(row.stripe_key.split('.')[1]).toBe(K2_ID);
      expect(row.webhook_secret?.split('.')[1]).toBe(K2_ID);
    }
    expect(rows.map((row) => ring.decrypt(row.stripe_key, row.id, 'stripe_key')).sort()).toEqual([KEY_A, KEY_B].sort());
    expect(rows.map((row) => ring.decrypt(row.webhook_secret!, row.id, 'webhook_secret')).sort()).toEqual([WEBHOOK_A, WEBHOOK_B].sort());
    const [pepper] = await query<{ value: string }>('SELECT value FROM audit_meta WHERE key = $1', ['tenant_key_pepper']);
    expect(pepper!.value.split('.')[1]).toBe(K2_ID);
    // Nothing anywhere is left under k1.
    const everything = JSON.stringify(await query('SELECT * FROM tenants')) + pepper!.value;
    expect(everything).not.toContain(`v1.${K1_ID}.`);
  });

  it('a platform started with only k2 serves every tenant with their existing bearer keys', async () => {
    const three = await start(K2);
    expect(answered(await ask(three, A.host))).toBe(true);
    expect(answered(await ask(three, B.host))).toBe(true);
    expect((await fetch(`${three.url}/v1/tools`, { headers: { authorization: `Bearer ${A.staff}` } })).status).toBe(200);
  });

  it('platforms still running with only k1 answer 503 for them, naming the missing key as the cause', async () => {
    for (const platform of [one, two]) {
      const { value } = await within(10_000, () => ask(platform, A.host), (reply) => reply.status === 503);
      expect(value.body.error).toBe('tenant_unavailable');
      expect(value.body.message).toContain('TENANT_KEY_SECRET lacks the key it was encrypted with');
      for (const secret of secrets) expect(JSON.stringify(value.body)).not.toContain(secret);
      expect((await ask(platform, B.host)).status).toBe(503);
    }
  }, 25_000);

  it('a platform started fresh with only k1 refuses to start, naming the key id it lacks', async () => {
    const refused = await start(K1).then(
      () => undefined,
      (error: unknown) => error,
    );
    // A start-up error (exit 2) naming the key id the database was written with.
    expect(refused).toBeInstanceOf(ConfigurationError);
    expect((refused as Error).message).toContain(K2_ID);
    expect((refused as KeyringError).message).toContain('TENANT_KEY_SECRET');
    for (const secret of secrets) expect((refused as Error).message).not.toContain(secret);
  });
});

describe('no plaintext secret in any Postgres table', () => {
  it('every row of every table, as JSON, holds no Stripe key, webhook secret, bearer key, admin key or KEK', async () => {
    for (const platform of started) await platform.audit?.flush();
    const tables = await query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name");
    expect(tables.map((row) => row.table_name)).toEqual(expect.arrayContaining(['audit_meta', 'audit_records', 'tenant_keys', 'tenants']));
    let dump = '';
    for (const { table_name } of tables) {
      const rows = await query<{ row: unknown }>(`SELECT row_to_json(t) AS row FROM "${table_name.replaceAll('"', '""')}" t`);
      dump += `${table_name}: ${JSON.stringify(rows.map((row) => row.row))}\n`;
    }
    // The scan sees real data: tenant names, key digests, audit records of the calls above.
    expect(dump).toContain('Alpha');
    expect(dump).toContain(A.id);
    expect((await query('SELECT count(*)::int AS n FROM audit_records'))[0]!.n).toBeGreaterThan(0);
    expect(secrets.size).toBeGreaterThanOrEqual(13);
    for (const secret of secrets) expect(dump.includes(secret), `the database holds ${secret.slice(0, 12)}…`).toBe(false);
    // Nor the distinctive tails of them (a key stored re-encoded or trimmed would still show these).
    for (const secret of [KEY_A, KEY_B, WEBHOOK_A, WEBHOOK_B]) expect(dump).not.toContain(secret.slice(-24));
  });
});
