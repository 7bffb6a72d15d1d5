import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeStripe } from '../../src/demo/fake-stripe/index.js';
import { serveFakeStripe } from '../../src/demo/serve-fake-stripe.js';
import { silentLogger } from '../../src/log.js';
import { Keyring } from '../../src/platform/keyring.js';
import { openTenants } from '../../src/platform/serve-platform.js';
import { BILLING_TOOLS as REGISTERED_BILLING_TOOLS } from '../../src/tools/registry.js';
import { tempDirAfterAll } from '../support/audit.js';
import { runCli } from '../support/cli.js';
import { testSettings } from '../support/mcp-harness.js';

// No actions policy here: the action tools (request_refund…) are not listed, so not expected.
const BILLING_TOOLS = REGISTERED_BILLING_TOOLS.filter((tool) => tool.action === undefined);

/**
 * `stripe-billing-mcp tenants …`: the built CLI, a process of its own, on a SQLite file (AUDIT_DB)
 * and the fake Stripe served on loopback (STRIPE_API_BASE). Secrets come only from the
 * environment, bearer keys are printed once, and the file never holds a plaintext secret.
 */
const tempDir = tempDirAfterAll('sbm-tenants-cli-');
const K1 = `k1:${Buffer.alloc(32, 0x31).toString('base64')}`;
const K2 = `k2:${Buffer.alloc(32, 0x32).toString('base64')}`;
const K1_ID = new Keyring(K1).currentKeyId;
const K2_ID = new Keyring(K2).currentKeyId;
const STRIPE_KEY = 'rk_test_fake_tenants_cli_acme_000000000000';
const LIMITED_KEY = 'rk_test_fake_tenants_cli_limited_000000000';
const REVOKED_KEY = 'rk_test_fake_tenants_cli_revoked_000000000';
const WEBHOOK = 'whsec_test_fake_tenants_cli_webhook_00000';

const fake = new FakeStripe({ now: 1_790_000_000 });
fake.restrictKey(LIMITED_KEY, ['rak_charge_read']);
fake.revokeKey(REVOKED_KEY);
let served: Awaited<ReturnType<typeof serveFakeStripe>>;
let dir: string;
let dbPath: string;
/** Every secret the CLI was given or printed. */
const secrets = new Set<string>([STRIPE_KEY, LIMITED_KEY, WEBHOOK]);

beforeAll(async () => {
  served = await serveFakeStripe(fake, { port: 0 });
  dir = tempDir();
  dbPath = join(dir, 'tenants.db');
});
afterAll(() => served?.close());

function tenantsCli(args: string[], env: Record<string, string> = {}) {
  return runCli(['tenants', ...args], { AUDIT_DB: dbPath, TENANT_KEY_SECRET: K1, STRIPE_API_BASE: served.url, LOG_LEVEL: 'silent', ...env });
}

/** The same database in this process, to check what the CLI stored. */
async function withTenants<T>(kek: string, use: (tenants: Awaited<ReturnType<typeof openTenants>>['tenants']) => Promise<T>): Promise<T> {
  const { tenants, database } = await openTenants(testSettings({ AUDIT_DB: dbPath, TENANT_KEY_SECRET: kek }), silentLogger());
  try {
    return await use(tenants);
  } finally {
    await database.close();
  }
}

function databaseBytes(): string {
  return readdirSync(dir)
    .filter((name) => name.startsWith('tenants.db'))
    .map((name) => readFileSync(join(dir, name)).toString('latin1'))
    .join('\n');
}

describe('tenants: argument errors exit 2 with a clear message', () => {
  it('an unknown or missing action names the actions', async () => {
    const argsList = [['frobnicate'], []];
    const runs = await Promise.all(argsList.map((args) => tenantsCli(args)));
    for (const [i, args] of argsList.entries()) {
      const run = runs[i]!;
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(`Unknown tenants action "${args[0] ?? ''}"`);
      expect(run.stderr).toContain('tenants add --name');
      expect(run.stderr).toContain('rotate-key <id> --kind host|staff');
      expect(run.stdout).toBe('');
    }
  });

  it('show, rotate-key and remove without an id', async () => {
    const actions = ['show', 'rotate-key', 'remove'];
    const runs = await Promise.all(actions.map((action) => tenantsCli([action])));
    for (const [i, action] of actions.entries()) {
      const run = runs[i]!;
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(`tenants ${action} needs the tenant id (ten_…)`);
    }
  });

  it('rotate-key without --kind, or with another kind', async () => {
    for (const extra of [[], ['--kind', 'admin']]) {
      const run = await tenantsCli(['rotate-key', 'ten_whatever', ...extra]);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain('tenants rotate-key needs --kind host or --kind staff');
    }
  });

  it('too many arguments', async () => {
    const run = await tenantsCli(['show', 'ten_a', 'ten_b']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Unknown command "tenants show ten_a ten_b"');
  });

  it('a bad merchant key is named as the variable it came from, TENANT_STRIPE_API_KEY', async () => {
    const run = await tenantsCli(['add', '--name', 'Acme'], { TENANT_STRIPE_API_KEY: 'pk_test_fake_tenants_cli_publishable_0000' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('TENANT_STRIPE_API_KEY is a publishable key');
    expect(run.stderr).not.toMatch(/\bstripe_api_key\b|(?<!TENANT_)STRIPE_API_KEY/);
  });

  it('the merchant key as a flag says to use TENANT_STRIPE_API_KEY, without repeating it', async () => {
    const run = await tenantsCli(['add', '--name', 'Acme', '--tenant-stripe-api-key', 'rk_test_fake_tenants_cli_on_argv_000000']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Use: TENANT_STRIPE_API_KEY=… stripe-billing-mcp tenants add --name Acme.');
    expect(run.stderr).not.toContain('on_argv');
  });

  it('without TENANT_KEY_SECRET (or with a bad one), before touching the database', async () => {
    const elsewhere = join(tempDir(), 'never.db');
    const runs = await Promise.all(['', 'k1:tooshort'].map((kek) => runCli(['tenants', 'list'], { AUDIT_DB: elsewhere, LOG_LEVEL: 'silent', ...(kek ? { TENANT_KEY_SECRET: kek } : {}) })));
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain('TENANT_KEY_SECRET');
      expect(run.stderr).not.toContain('unexpected error');
    }
    expect(existsSync(elsewhere)).toBe(false);
  });
});

describe('tenants on an empty SQLite file', () => {
  it('list says there are none; --json gives an empty list', async () => {
    const text = await tenantsCli(['list']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.trim()).toBe('No tenants.');
    const json = await tenantsCli(['list', '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ tenants: [] });
  });

  it('rotate-kek re-encrypts nothing, under the first key', async () => {
    const run = await tenantsCli(['rotate-kek', '--json'], { TENANT_KEY_SECRET: `${K2},${K1}` });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ tenants: 0, key_id: K2_ID });
    // Back to k1 for what follows: the pepper moves with it.
    const back = await tenantsCli(['rotate-kek'], { TENANT_KEY_SECRET: `${K1},${K2}` });
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toContain(`Re-encrypted 0 tenants under key ${K1_ID}`);
  });

  it('show and remove of an unknown tenant exit 2', async () => {
    for (const action of ['show', 'remove']) {
      const run = await tenantsCli([action, 'ten_doesnotexist']);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('No tenant ten_doesnotexist');
    }
  });
});

describe('tenants add, list, show, rotate-key, remove (fake Stripe on loopback)', () => {
  let acme: { id: string; host: string; staff: string };

  it('add --name Acme: connects with TENANT_STRIPE_API_KEY, prints the keys once and which tools work', async () => {
    const run = await tenantsCli(['add', '--name', 'Acme'], { TENANT_STRIPE_API_KEY: STRIPE_KEY, TENANT_WEBHOOK_SECRET: WEBHOOK });
    expect(run.code, run.stderr).toBe(0);
    const id = /Connected Acme \((ten_[A-Za-z0-9]+), test\)\./.exec(run.stdout)?.[1];
    const host = /Host key \(shown once\): +(sbm_host_\S+)/.exec(run.stdout)?.[1];
    const staff = /Staff key \(shown once\): +(sbm_staff_\S+)/.exec(run.stdout)?.[1];
    expect(id && host && staff, run.stdout).toBeTruthy();
    acme = { id: id!, host: host!, staff: staff! };
    secrets.add(acme.host).add(acme.staff);
    expect(run.stdout).toContain(`Webhook endpoint: /webhooks/stripe/${acme.id}`);
    const working = /Tools that work: (.+)/.exec(run.stdout)?.[1]?.split(', ') ?? [];
    expect(working).toEqual(expect.arrayContaining(['get_subscription_status', 'get_billing_info', 'get_invoice_history']));
    expect(run.stdout).not.toContain('✗');
    for (const secret of [STRIPE_KEY, WEBHOOK]) expect(run.stdout + run.stderr).not.toContain(secret);

    // What was stored is what this process reads with the same TENANT_KEY_SECRET.
    await withTenants(K1, async (tenants) => {
      const found = await tenants.authenticate(acme.host);
      expect(found?.tenant.id).toBe(acme.id);
      expect(found?.key.kind).toBe('host');
      expect((await tenants.authenticate(acme.staff))?.key.kind).toBe('staff');
      expect(tenants.secretsOf(found!.tenant)).toEqual({ stripeKey: STRIPE_KEY, webhookSecret: WEBHOOK });
    });
  });

  it('add --json --settings: the settings are kept; a limited key shows what does not work and the fix', async () => {
    const run = await tenantsCli(['add', '--name', 'Limited', '--json', '--settings', '{"write_tools":["apply_coupon"],"merchant_name":"Limited Co"}'], { TENANT_STRIPE_API_KEY: LIMITED_KEY });
    expect(run.code, run.stderr).toBe(0);
    const answer = JSON.parse(run.stdout) as { tenant: { id: string; settings: Record<string, unknown>; webhooks: boolean; tools: Array<{ name: string; works: boolean; reasons: string[] }> }; host_key: string; staff_key: string };
    secrets.add(answer.host_key).add(answer.staff_key);
    expect(answer.tenant.settings).toEqual({ write_tools: ['apply_coupon'], merchant_name: 'Limited Co' });
    expect(answer.tenant.webhooks).toBe(false);
    const broken = BILLING_TOOLS.filter((tool) => tool.permissions.includes('rak_charge_read')).map((tool) => tool.name);
    expect(broken.length).toBeGreaterThan(0);
    const brokenRows = answer.tenant.tools.filter((tool) => broken.includes(tool.name));
    expect(brokenRows.length).toBeGreaterThan(0);
    for (const row of brokenRows) {
      expect(row.works).toBe(false);
      expect(row.reasons.join(' ')).toMatch(/rak_charge_read/);
    }
    expect(answer.tenant.tools.find((tool) => tool.name === 'apply_coupon')).toBeDefined();
    expect(run.stdout).not.toContain(LIMITED_KEY);
    expect((await tenantsCli(['remove', answer.tenant.id])).code).toBe(0);

    // The text form lists each tool that does not work, with the reason and the fix.
    const text = await tenantsCli(['add', '--name', 'Limited text'], { TENANT_STRIPE_API_KEY: LIMITED_KEY });
    expect(text.code, text.stderr).toBe(0);
    for (const name of broken.filter((name) => answer.tenant.tools.some((tool) => tool.name === name))) expect(text.stdout).toMatch(new RegExp(`^  ✗ ${name}: .*rak_charge_read`, 'm'));
    expect(text.stdout).not.toContain(LIMITED_KEY);
    for (const key of text.stdout.match(/sbm_(host|staff)_\S+/g) ?? []) secrets.add(key);
    const id = /Connected Limited text \((ten_[A-Za-z0-9]+)/.exec(text.stdout)![1]!;
    expect((await tenantsCli(['remove', id])).code).toBe(0);
  }, 30_000);

  it('refuses a key Stripe does not accept, a key that is not a secret key, a missing key or name, bad --settings; storing nothing', async () => {
    const cases: Array<[string[], Record<string, string>, string]> = [
      [['add', '--name', 'Revoked'], { TENANT_STRIPE_API_KEY: REVOKED_KEY }, 'Stripe did not accept this key'],
      [['add', '--name', 'Pk'], { TENANT_STRIPE_API_KEY: 'pk_test_123' }, 'pk_'],
      [['add', '--name', 'Nokey'], {}, 'TENANT_STRIPE_API_KEY'],
      [['add'], { TENANT_STRIPE_API_KEY: STRIPE_KEY }, 'name is required'],
      [['add', '--name', 'Bad', '--settings', '{not json'], { TENANT_STRIPE_API_KEY: STRIPE_KEY }, '--settings must be JSON'],
      [['add', '--name', 'Bad', '--settings', '{"surprise":true}'], { TENANT_STRIPE_API_KEY: STRIPE_KEY }, 'surprise'],
      [['add', '--name', 'Bad'], { TENANT_STRIPE_API_KEY: STRIPE_KEY, TENANT_WEBHOOK_SECRET: 'not-a-whsec' }, 'whsec_'],
    ];
    // None of them writes anything, so they run side by side.
    const runs = await Promise.all(cases.map(([args, env]) => tenantsCli(args, env)));
    for (const [i, [args, , says]] of cases.entries()) {
      const run = runs[i]!;
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(2);
      expect(run.stderr).toContain(says);
      expect(run.stderr).not.toContain('unexpected error');
      for (const secret of [REVOKED_KEY, STRIPE_KEY]) expect(run.stderr + run.stdout).not.toContain(secret);
    }
    const listed = JSON.parse((await tenantsCli(['list', '--json'])).stdout) as { tenants: Array<{ name: string }> };
    expect(listed.tenants.map((tenant) => tenant.name)).toEqual(['Acme']);
  }, 30_000);

  it('list and show: the tenant, its keys by kind, its tools; never a secret', async () => {
    const text = await tenantsCli(['list']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^${acme.id}  test  Acme  updated \\d{4}-`, 'm'));
    const json = JSON.parse((await tenantsCli(['list', '--json'])).stdout) as { tenants: Array<{ id: string; name: string }> };
    expect(json.tenants).toMatchObject([{ id: acme.id, name: 'Acme', mode: 'test', webhooks: true }]);

    const show = await tenantsCli(['show', acme.id, '--json']);
    expect(show.code, show.stderr).toBe(0);
    const { tenant } = JSON.parse(show.stdout) as { tenant: { id: string; keys: Array<{ kind: string; name: string }>; tools: Array<{ name: string; works: boolean }> } };
    expect(tenant.id).toBe(acme.id);
    expect(tenant.keys.map((key) => `${key.kind}:${key.name}`).sort()).toEqual(['host:default', 'staff:default']);
    expect(tenant.tools.find((tool) => tool.name === 'get_subscription_status')?.works).toBe(true);
    const plain = await tenantsCli(['show', acme.id]);
    expect(JSON.parse(plain.stdout)).toEqual(JSON.parse(show.stdout).tenant);
    for (const output of [text.stdout, JSON.stringify(json), show.stdout, plain.stdout]) {
      for (const secret of secrets) expect(output).not.toContain(secret);
      expect(output).not.toContain(`v1.${K1_ID}`);
    }
  });

  it('rotate-key --kind host: prints the new key once; the old one stops working, the staff key does not', async () => {
    const run = await tenantsCli(['rotate-key', acme.id, '--kind', 'host']);
    expect(run.code, run.stderr).toBe(0);
    const fresh = /New host key \(shown once; the old one stopped working\): (sbm_host_\S+)/.exec(run.stdout)?.[1];
    expect(fresh, run.stdout).toBeDefined();
    secrets.add(fresh!);
    await withTenants(K1, async (tenants) => {
      expect(await tenants.authenticate(acme.host)).toBeUndefined();
      expect((await tenants.authenticate(fresh!))?.tenant.id).toBe(acme.id);
      expect((await tenants.authenticate(acme.staff))?.tenant.id).toBe(acme.id);
    });
    acme.host = fresh!;
    const staff = await tenantsCli(['rotate-key', acme.id, '--kind', 'staff', '--json']);
    expect(staff.code, staff.stderr).toBe(0);
    const rotated = JSON.parse(staff.stdout) as { kind: string; key: string };
    expect(rotated.kind).toBe('staff');
    expect(rotated.key).toMatch(/^sbm_staff_/);
    secrets.add(rotated.key);
    await withTenants(K1, async (tenants) => {
      expect(await tenants.authenticate(acme.staff)).toBeUndefined();
      expect((await tenants.authenticate(rotated.key))?.key.kind).toBe('staff');
    });
    acme.staff = rotated.key;
    expectNoPlaintext();
    const unknown = await tenantsCli(['rotate-key', 'ten_doesnotexist', '--kind', 'host']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('No tenant ten_doesnotexist');
  });

  it('rotate-kek to k2: every value re-encrypted; only-k2 reads them, only-k1 is refused naming the key', async () => {
    const run = await tenantsCli(['rotate-kek'], { TENANT_KEY_SECRET: `${K2},${K1}` });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Re-encrypted 1 tenants under key ${K2_ID}`);
    const db = new Database(dbPath, { readonly: true });
    try {
      const rows = db.prepare('SELECT stripe_key, webhook_secret FROM tenants').all() as Array<{ stripe_key: string; webhook_secret: string }>;
      const pepper = db.prepare("SELECT value FROM audit_meta WHERE key = 'tenant_key_pepper'").get() as { value: string };
      for (const value of [...rows.flatMap((row) => [row.stripe_key, row.webhook_secret]), pepper.value]) expect(value.split('.')[1]).toBe(K2_ID);
    } finally {
      db.close();
    }
    const withK2 = await tenantsCli(['show', acme.id, '--json'], { TENANT_KEY_SECRET: K2 });
    expect(withK2.code, withK2.stderr).toBe(0);
    await withTenants(K2, async (tenants) => {
      const found = await tenants.authenticate(acme.host);
      expect(tenants.secretsOf(found!.tenant).stripeKey).toBe(STRIPE_KEY);
    });
    const withK1 = await tenantsCli(['list'], { TENANT_KEY_SECRET: K1 });
    expect(withK1.code, withK1.stderr).toBe(2);
    expect(withK1.stderr).not.toContain('unexpected error');
    expect(withK1.stderr).toContain(K2_ID);
    expect(withK1.stderr).toContain('TENANT_KEY_SECRET does not hold');
  });

  it('remove: gone from list and show, its bearer keys no longer authenticate', async () => {
    const run = await tenantsCli(['remove', acme.id], { TENANT_KEY_SECRET: K2 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Removed ${acme.id}`);
    expect(JSON.parse((await tenantsCli(['list', '--json'], { TENANT_KEY_SECRET: K2 })).stdout)).toEqual({ tenants: [] });
    const show = await tenantsCli(['show', acme.id], { TENANT_KEY_SECRET: K2 });
    expect(show.code).toBe(2);
    await withTenants(K2, async (tenants) => {
      expect(await tenants.authenticate(acme.host)).toBeUndefined();
      expect(await tenants.authenticate(acme.staff)).toBeUndefined();
    });
  });

  it('the database file holds no plaintext Stripe key, webhook secret or bearer key', () => {
    expectNoPlaintext();
  });
});

function expectNoPlaintext(): void {
  {
    const bytes = databaseBytes();
    expect(bytes).toContain('tenant_key_pepper');
    expect(secrets.size).toBeGreaterThanOrEqual(9);
    for (const secret of secrets) expect(bytes.includes(secret), `the database holds ${secret.slice(0, 14)}…`).toBe(false);
  }
}
