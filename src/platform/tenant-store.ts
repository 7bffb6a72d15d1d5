/**
 * The platform's tenants, in the trail's database (Postgres with DATABASE_URL, else the SQLite
 * file): each merchant's settings, its Stripe key and webhook secret as keyring ciphertexts, and
 * its bearer keys as keyed digests. Nothing here is plaintext secret.
 */
import type { ActionsPolicy } from '../actions/policy.js';
import type { SqlRunner } from '../audit/audit-store.js';
import type { LastProbe } from '../tools/lib/last-probe.js';

/** What a merchant sets for its own tools (the rest comes from the platform's settings). */
export interface TenantSettings {
  merchant_name?: string | undefined;
  mail_from?: string | undefined;
  portal_return_url?: string | undefined;
  portal_configuration?: string | undefined;
  /** The coupon the portal's cancel flow offers (CANCEL_RETENTION_COUPON); coupons are per Stripe account. */
  cancel_retention_coupon?: string | undefined;
  write_tools?: string[] | undefined;
  plan_products?: string[] | undefined;
  /** Validated by the ACTIONS_POLICY schema when set through the admin API or `tenants add`. */
  actions?: ActionsPolicy | undefined;
}

/** Which tools the merchant's key allows, from the same probe as `doctor`. */
export interface TenantProbe {
  checked_at: string;
  /** `without`: what a working tool leaves out for a missing optional permission (absent in older probes). */
  tools: Array<{ name: string; works: boolean; reasons: string[]; without?: string[] | undefined }>;
  /** The capabilities the tool list was decided from: a cold tenant lists tools from it at once. */
  last?: LastProbe | undefined;
}

export interface TenantRecord {
  id: string;
  name: string;
  mode: 'test' | 'live';
  settings: TenantSettings;
  /** Keyring ciphertexts. */
  stripe_key: string;
  webhook_secret: string | null;
  probe: TenantProbe | null;
  /** Bumped on every change: processes rebuild what they hold for the tenant. */
  version: number;
  created_at: string;
  updated_at: string;
}

export interface TenantKeyRecord {
  /** HMAC-SHA-256 of the bearer secret under the platform's key pepper (hex). */
  digest: string;
  tenant_id: string;
  kind: 'host' | 'staff';
  name: string;
  created_at: string;
}

function tenantOf(row: Record<string, unknown>): TenantRecord {
  return {
    id: String(row.id),
    name: String(row.name),
    mode: row.mode === 'live' ? 'live' : 'test',
    settings: JSON.parse(String(row.settings)) as TenantSettings,
    stripe_key: String(row.stripe_key),
    webhook_secret: row.webhook_secret === null || row.webhook_secret === undefined ? null : String(row.webhook_secret),
    probe: row.probe ? (JSON.parse(String(row.probe)) as TenantProbe) : null,
    version: Number(row.version),
    created_at: String(row.created_at),
    updated_at: String(row.updated_at),
  };
}

function keyOf(row: Record<string, unknown>): TenantKeyRecord {
  return { digest: String(row.digest), tenant_id: String(row.tenant_id), kind: row.kind === 'staff' ? 'staff' : 'host', name: String(row.name), created_at: String(row.created_at) };
}

const TENANT_COLUMNS = ['id', 'name', 'mode', 'settings', 'stripe_key', 'webhook_secret', 'probe', 'version', 'created_at', 'updated_at'] as const;

export class TenantStore {
  constructor(private readonly sql: SqlRunner) {}

  private p(n: number): string {
    return this.sql.placeholder(n);
  }

  private tenantValues(tenant: TenantRecord): Array<string | number | null> {
    return [tenant.id, tenant.name, tenant.mode, JSON.stringify(tenant.settings), tenant.stripe_key, tenant.webhook_secret, tenant.probe ? JSON.stringify(tenant.probe) : null, tenant.version, tenant.created_at, tenant.updated_at];
  }

  private keyInsert(key: TenantKeyRecord) {
    return {
      sql: `INSERT INTO tenant_keys (digest, tenant_id, kind, name, created_at) VALUES (${[1, 2, 3, 4, 5].map((n) => this.p(n)).join(', ')})`,
      params: [key.digest, key.tenant_id, key.kind, key.name, key.created_at],
    };
  }

  /**
   * Writes every field of a record whose version the caller bumped by one, only over the version
   * it was read at: two changes made at once cannot silently undo each other (the second fails
   * with STALE_WRITE and is tried again from a fresh read).
   */
  private update(tenant: TenantRecord) {
    const assignments = TENANT_COLUMNS.slice(1).map((column, i) => `${column} = ${this.p(i + 1)}`);
    const where = `id = ${this.p(TENANT_COLUMNS.length)} AND version = ${this.p(TENANT_COLUMNS.length + 1)}`;
    return { sql: `UPDATE tenants SET ${assignments.join(', ')} WHERE ${where}`, params: [...this.tenantValues(tenant).slice(1), tenant.id, tenant.version - 1], oneRow: true };
  }

  async create(tenant: TenantRecord, keys: readonly TenantKeyRecord[]): Promise<void> {
    await this.sql.batch([
      { sql: `INSERT INTO tenants (${TENANT_COLUMNS.join(', ')}) VALUES (${TENANT_COLUMNS.map((_, i) => this.p(i + 1)).join(', ')})`, params: this.tenantValues(tenant) },
      ...keys.map((key) => this.keyInsert(key)),
    ]);
  }

  async get(id: string): Promise<TenantRecord | undefined> {
    const [row] = await this.sql.all(`SELECT * FROM tenants WHERE id = ${this.p(1)}`, [id]);
    return row ? tenantOf(row) : undefined;
  }

  async list(): Promise<TenantRecord[]> {
    return (await this.sql.all('SELECT * FROM tenants ORDER BY created_at, id')).map(tenantOf);
  }

  /** Writes every field of the record (its version bumped by one by the caller). */
  async save(tenant: TenantRecord): Promise<void> {
    await this.sql.batch([this.update(tenant)]);
  }

  /** Saves many records and one meta value in one transaction (key-encryption-key rotation: all or nothing). */
  async saveAll(tenants: readonly TenantRecord[], meta: { key: string; value: string }): Promise<void> {
    await this.sql.batch([
      ...tenants.map((tenant) => this.update(tenant)),
      { sql: `DELETE FROM audit_meta WHERE key = ${this.p(1)}`, params: [meta.key] },
      { sql: `INSERT INTO audit_meta (key, value) VALUES (${this.p(1)}, ${this.p(2)})`, params: [meta.key, meta.value] },
    ]);
  }

  /** The latest probe, kept only while the tenant is as it was probed (a newer key's probe is never overwritten). */
  async saveProbe(tenant: TenantRecord, probe: TenantProbe): Promise<void> {
    await this.sql.run(`UPDATE tenants SET probe = ${this.p(1)} WHERE id = ${this.p(2)} AND version = ${this.p(3)}`, [JSON.stringify(probe), tenant.id, tenant.version]);
  }

  async remove(id: string): Promise<boolean> {
    const existed = (await this.get(id)) !== undefined;
    await this.sql.batch([
      { sql: `DELETE FROM tenant_keys WHERE tenant_id = ${this.p(1)}`, params: [id] },
      { sql: `DELETE FROM tenants WHERE id = ${this.p(1)}`, params: [id] },
    ]);
    return existed;
  }

  async keyByDigest(digest: string): Promise<TenantKeyRecord | undefined> {
    const [row] = await this.sql.all(`SELECT * FROM tenant_keys WHERE digest = ${this.p(1)}`, [digest]);
    return row ? keyOf(row) : undefined;
  }

  async keysOf(tenantId: string): Promise<TenantKeyRecord[]> {
    return (await this.sql.all(`SELECT * FROM tenant_keys WHERE tenant_id = ${this.p(1)} ORDER BY kind, name`, [tenantId])).map(keyOf);
  }

  /** Replaces the key of that kind and name (the old one stops working at once) and bumps the tenant. */
  async replaceKey(tenant: TenantRecord, key: TenantKeyRecord): Promise<void> {
    await this.sql.batch([
      { sql: `DELETE FROM tenant_keys WHERE tenant_id = ${this.p(1)} AND kind = ${this.p(2)} AND name = ${this.p(3)}`, params: [key.tenant_id, key.kind, key.name] },
      this.keyInsert(key),
      this.update(tenant),
    ]);
  }

  async meta(key: string): Promise<string | undefined> {
    const [row] = await this.sql.all(`SELECT value FROM audit_meta WHERE key = ${this.p(1)}`, [key]);
    return row ? String(row.value) : undefined;
  }

  /** Sets a meta value unless one exists (several processes may start at once); returns the stored one. */
  async metaSetIfAbsent(key: string, value: string): Promise<string> {
    await this.sql.run(`INSERT INTO audit_meta (key, value) VALUES (${this.p(1)}, ${this.p(2)}) ON CONFLICT (key) DO NOTHING`, [key, value]);
    return (await this.meta(key))!;
  }
}
