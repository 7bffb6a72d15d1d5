/**
 * The platform's merchants: connect (validate the Stripe key with doctor's probe, encrypt it,
 * issue bearer keys shown once), change, rotate keys, remove; and find a tenant from a bearer key.
 * Plaintext secrets exist only in memory, only while they are used.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { actionsPolicySchema, describePolicyIssues } from '../actions/policy.js';
import { ToolError } from '../errors.js';
import { parseStripeKey } from '../stripe/key.js';
import type { LastProbe } from '../tools/lib/last-probe.js';
import { Keyring } from './keyring.js';
import type { TenantKeyRecord, TenantProbe, TenantRecord, TenantSettings, TenantStore } from './tenant-store.js';

const PEPPER_META = 'tenant_key_pepper';
const PLATFORM = 'platform';
/** How long a process trusts what it read: changes made by another process arrive within this. */
export const TENANT_REFRESH_MS = 3_000;

export const tenantSettingsSchema = z
  .object({
    merchant_name: z.string().trim().min(1).max(100).optional(),
    mail_from: z.string().trim().min(3).max(200).refine((value) => value.includes('@'), "mail_from must contain an email address, e.g. 'Acme Billing <billing@acme.example>'").optional(),
    portal_return_url: z.string().url('portal_return_url must be a URL').optional(),
    portal_configuration: z.string().regex(/^bpc_[A-Za-z0-9]+$/, 'portal_configuration is a bpc_… id').optional(),
    cancel_retention_coupon: z.string().trim().regex(/^[^\s,]{1,200}$/, 'cancel_retention_coupon is one coupon id').optional(),
    write_tools: z.array(z.enum(['resend_invoice', 'apply_coupon', 'all'])).max(3).optional(),
    plan_products: z.array(z.string().regex(/^prod_[A-Za-z0-9]+$/, 'plan_products are prod_… ids')).max(100).optional(),
    /** The merchant's actions policy: the schema of ACTIONS_POLICY, so its errors name the same fields. */
    actions: actionsPolicySchema.optional(),
  })
  .strict();

export const newTenantSchema = z
  .object({
    name: z.string().trim().min(1, 'name is required').max(100),
    stripe_api_key: z.string().trim().min(1, 'stripe_api_key is required'),
    webhook_secret: z.string().trim().startsWith('whsec_', 'webhook_secret is the endpoint signing secret (whsec_…)').optional(),
    settings: tenantSettingsSchema.default({}),
  })
  .strict();

export const tenantPatchSchema = z
  .object({
    name: z.string().trim().min(1).max(100).optional(),
    stripe_api_key: z.string().trim().min(1).optional(),
    webhook_secret: z.string().trim().startsWith('whsec_', 'webhook_secret is the endpoint signing secret (whsec_…)').nullable().optional(),
    settings: tenantSettingsSchema.optional(),
  })
  .strict();

export type NewTenant = z.input<typeof newTenantSchema>;
export type TenantPatch = z.input<typeof tenantPatchSchema>;

/** A tenant as admin answers show it: no secret, no ciphertext. */
export interface TenantView {
  id: string;
  name: string;
  mode: 'test' | 'live';
  settings: TenantSettings;
  webhooks: boolean;
  webhook_url: string;
  keys: Array<{ kind: 'host' | 'staff'; name: string; created_at: string }>;
  tools: TenantProbe['tools'] | null;
  checked_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface TenantSecrets {
  stripeKey: string;
  webhookSecret: string | undefined;
}

export interface ProbeOutcome {
  probe: TenantProbe;
  last: LastProbe;
}

/** Checks a Stripe key the way doctor does: which tools work with it, and why the others do not. */
export type TenantProber = (stripeKey: string, settings: TenantSettings) => Promise<ProbeOutcome>;

export interface Authenticated {
  tenant: TenantRecord;
  key: TenantKeyRecord;
}

/** `field: problem; …`; the actions policy's problems read as ACTIONS_POLICY's do, under settings.actions. */
function tenantIssueMessages(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const [first, second, ...rest] = issue.path;
      if (first === 'settings' && second === 'actions') return describePolicyIssues([{ ...issue, path: rest }], 'settings.actions').join('; ');
      return `${issue.path.join('.') || 'body'}: ${issue.message}`;
    })
    .join('; ');
}

export function tenantInputError(message: string): ToolError {
  return new ToolError('input', message);
}

function stripeKeyModeOf(key: string): 'test' | 'live' {
  let parsed: ReturnType<typeof parseStripeKey>;
  try {
    // The admin's answer names the JSON field they sent, not the server's environment variable.
    parsed = parseStripeKey(key, 'stripe_api_key');
  } catch (error) {
    throw tenantInputError(error instanceof Error ? error.message : 'stripe_api_key is not a Stripe key');
  }
  return parsed.mode;
}

function newSecret(kind: 'host' | 'staff'): string {
  return `sbm_${kind}_${randomBytes(32).toString('base64url')}`;
}

/** A change made from a fresh read once more when another change landed between read and write. */
async function retriedWhenStale<T>(change: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await change();
    } catch (error) {
      if ((error as { code?: unknown })?.code !== 'STALE_WRITE' || attempt >= attempts) throw error;
    }
  }
}

export class Tenants {
  // Known and unknown keys alike are remembered briefly: a flood of made-up keys costs one lookup
  // each, and never evicts the keys in use wholesale.
  private readonly byDigest = new LRUCache<string, { found: Authenticated | undefined }>({ max: 50_000, ttl: TENANT_REFRESH_MS });

  private constructor(
    readonly store: TenantStore,
    readonly keyring: Keyring,
    private readonly pepper: Buffer,
  ) {}

  /** The pepper that keys bearer digests lives in the database, encrypted under the keyring. */
  static async open(store: TenantStore, keyring: Keyring): Promise<Tenants> {
    const stored = await store.metaSetIfAbsent(PEPPER_META, keyring.encrypt(randomBytes(32).toString('base64'), PLATFORM, PEPPER_META));
    return new Tenants(store, keyring, Buffer.from(keyring.decrypt(stored, PLATFORM, PEPPER_META), 'base64'));
  }

  digest(secret: string): string {
    return createHmac('sha256', this.pepper).update(secret.trim()).digest('hex');
  }

  digestBuffer(secret: string): Buffer {
    return Buffer.from(this.digest(secret), 'hex');
  }

  /** The tenant and key a bearer secret belongs to; read again after TENANT_REFRESH_MS. */
  async authenticate(secret: string): Promise<Authenticated | undefined> {
    const digest = this.digest(secret);
    const cached = this.byDigest.get(digest);
    if (cached) return cached.found;
    const key = await this.store.keyByDigest(digest);
    const tenant = key ? await this.store.get(key.tenant_id) : undefined;
    // The digest lookup is by index; compare once more in constant time all the same.
    const found = key && tenant && timingSafeEqual(Buffer.from(key.digest, 'hex'), Buffer.from(digest, 'hex')) ? { tenant, key } : undefined;
    this.byDigest.set(digest, { found });
    return found;
  }

  /** Forget cached answers at once (this process made a change). */
  forget(): void {
    this.byDigest.clear();
  }

  secretsOf(tenant: TenantRecord): TenantSecrets {
    return {
      stripeKey: this.keyring.decrypt(tenant.stripe_key, tenant.id, 'stripe_key'),
      webhookSecret: tenant.webhook_secret === null ? undefined : this.keyring.decrypt(tenant.webhook_secret, tenant.id, 'webhook_secret'),
    };
  }

  async view(tenant: TenantRecord, publicUrl = ''): Promise<TenantView> {
    const keys = await this.store.keysOf(tenant.id);
    return {
      id: tenant.id,
      name: tenant.name,
      mode: tenant.mode,
      settings: tenant.settings,
      webhooks: tenant.webhook_secret !== null,
      webhook_url: `${publicUrl}/webhooks/stripe/${tenant.id}`,
      keys: keys.map((key) => ({ kind: key.kind, name: key.name, created_at: key.created_at })),
      tools: tenant.probe?.tools ?? null,
      checked_at: tenant.probe?.checked_at ?? null,
      created_at: tenant.created_at,
      updated_at: tenant.updated_at,
    };
  }

  /** Connects a merchant: the key is probed first, so a key that cannot work is never stored. */
  async create(input: unknown, prober: TenantProber): Promise<{ tenant: TenantRecord; host_key: string; staff_key: string; probe: ProbeOutcome }> {
    const parsed = newTenantSchema.safeParse(input);
    if (!parsed.success) throw tenantInputError(tenantIssueMessages(parsed.error.issues));
    const { name, stripe_api_key, webhook_secret, settings } = parsed.data;
    const mode = stripeKeyModeOf(stripe_api_key);
    const probe = await prober(stripe_api_key, settings);
    const id = `ten_${randomBytes(9).toString('base64url').replace(/[-_]/g, 'x')}`;
    const now = new Date().toISOString();
    const tenant: TenantRecord = {
      id,
      name,
      mode,
      settings,
      stripe_key: this.keyring.encrypt(stripe_api_key, id, 'stripe_key'),
      webhook_secret: webhook_secret ? this.keyring.encrypt(webhook_secret, id, 'webhook_secret') : null,
      probe: { ...probe.probe, last: probe.last },
      version: 1,
      created_at: now,
      updated_at: now,
    };
    const host_key = newSecret('host');
    const staff_key = newSecret('staff');
    await this.store.create(tenant, [
      { digest: this.digest(host_key), tenant_id: id, kind: 'host', name: 'default', created_at: now },
      { digest: this.digest(staff_key), tenant_id: id, kind: 'staff', name: 'default', created_at: now },
    ]);
    return { tenant, host_key, staff_key, probe };
  }

  async get(id: string): Promise<TenantRecord | undefined> {
    return /^ten_[A-Za-z0-9]{1,40}$/.test(id) ? this.store.get(id) : undefined;
  }

  async update(id: string, input: unknown, prober: TenantProber): Promise<TenantRecord | undefined> {
    return retriedWhenStale(() => this.updateOnce(id, input, prober));
  }

  private async updateOnce(id: string, input: unknown, prober: TenantProber): Promise<TenantRecord | undefined> {
    const tenant = await this.get(id);
    if (!tenant) return undefined;
    const parsed = tenantPatchSchema.safeParse(input);
    if (!parsed.success) throw tenantInputError(tenantIssueMessages(parsed.error.issues));
    const patch = parsed.data;
    const next: TenantRecord = { ...tenant, version: tenant.version + 1, updated_at: new Date().toISOString() };
    if (patch.name !== undefined) next.name = patch.name;
    if (patch.settings !== undefined) next.settings = { ...tenant.settings, ...patch.settings };
    if (patch.webhook_secret !== undefined) next.webhook_secret = patch.webhook_secret === null ? null : this.keyring.encrypt(patch.webhook_secret, id, 'webhook_secret');
    if (patch.stripe_api_key !== undefined) {
      next.mode = stripeKeyModeOf(patch.stripe_api_key);
      const probe = await prober(patch.stripe_api_key, next.settings);
      next.probe = { ...probe.probe, last: probe.last };
      next.stripe_key = this.keyring.encrypt(patch.stripe_api_key, id, 'stripe_key');
    }
    await this.store.save(next);
    this.forget();
    return next;
  }

  /** A new secret for the tenant's host or staff key; the old one stops working. Shown once. */
  async rotateKey(id: string, kind: 'host' | 'staff', name = 'default'): Promise<string | undefined> {
    return retriedWhenStale(() => this.rotateKeyOnce(id, kind, name));
  }

  private async rotateKeyOnce(id: string, kind: 'host' | 'staff', name: string): Promise<string | undefined> {
    const tenant = await this.get(id);
    if (!tenant) return undefined;
    const secret = newSecret(kind);
    const now = new Date().toISOString();
    await this.store.replaceKey({ ...tenant, version: tenant.version + 1, updated_at: now }, { digest: this.digest(secret), tenant_id: id, kind, name, created_at: now });
    this.forget();
    return secret;
  }

  async remove(id: string): Promise<boolean> {
    if (!(await this.get(id))) return false;
    const removed = await this.store.remove(id);
    this.forget();
    return removed;
  }

  async saveProbe(tenant: TenantRecord, probe: TenantProbe): Promise<void> {
    await this.store.saveProbe(tenant, probe);
  }

  /**
   * Re-encrypts every stored secret under the first key of TENANT_KEY_SECRET, so older keys can
   * be dropped. All or nothing: one value that no key decrypts stops it, naming the tenant.
   */
  async rotateKek(): Promise<{ tenants: number; key_id: string }> {
    return retriedWhenStale(() => this.rotateKekOnce());
  }

  private async rotateKekOnce(): Promise<{ tenants: number; key_id: string }> {
    const tenants = await this.store.list();
    const rotated = tenants.map((tenant) => {
      const secrets = this.secretsOf(tenant);
      return {
        ...tenant,
        stripe_key: this.keyring.encrypt(secrets.stripeKey, tenant.id, 'stripe_key'),
        webhook_secret: secrets.webhookSecret === undefined ? null : this.keyring.encrypt(secrets.webhookSecret, tenant.id, 'webhook_secret'),
        version: tenant.version + 1,
        updated_at: new Date().toISOString(),
      };
    });
    await this.store.saveAll(rotated, { key: PEPPER_META, value: this.keyring.encrypt(this.pepper.toString('base64'), PLATFORM, PEPPER_META) });
    return { tenants: rotated.length, key_id: this.keyring.currentKeyId };
  }
}
