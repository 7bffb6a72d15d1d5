/**
 * What one process holds per tenant: a runtime (Stripe client, cached reads under the tenant's
 * scope, its own request budget, its slice of the shared store) and an HTTP app that knows only
 * that tenant's bearer keys. Built on a tenant's first request, rebuilt when the tenant changes,
 * dropped when idle. Nothing of one tenant is reachable from another tenant's app.
 */
import type { Hono } from 'hono';
import { LRUCache } from 'lru-cache';
import type { AuditTrail } from '../audit/audit-trail.js';
import type { ReadThroughCache } from '../cache/read-through.js';
import type { Settings } from '../config.js';
import { createHttpApp } from '../http/app.js';
import { BearerKeys } from '../http/auth.js';
import type { CallLimits } from '../http/call-limits.js';
import type { Metrics } from '../http/metrics.js';
import type { Logger } from '../log.js';
import { createRuntime } from '../runtime.js';
import type { StripeClientOptions } from '../stripe/client.js';
import { createRateBudget } from '../stripe/create-rate-budget.js';
import type { WindowBackend } from '../stripe/rate-budget.js';
import { scopeOfKey } from '../cache/billing-reads.js';
import type { ToolRuntime } from '../tools/lib/context.js';
import type { ProbeKeeper } from '../tools/lib/last-probe.js';
import { startToolAvailability } from '../tools/lib/tool-availability.js';
import { selectTools } from '../tools/registry.js';
import { createIdentityTokenVerifier, tokensForAudience, type IdentityTokenVerifier } from '../verify/identity-token.js';
import type { CodeMailer } from '../verify/mailer.js';
import type { Store } from '../verify/store.js';
import { STORE_SHARES } from '../verify/store-quotas.js';
import { platformSignInLimits } from './panel-routing.js';
import { PrefixedStore } from './prefixed-store.js';
import type { TenantRecord } from './tenant-store.js';
import { TENANT_REFRESH_MS, type Tenants } from './tenants.js';

export interface TenantAppsOptions {
  /** The platform's settings; each tenant overrides its own parts. */
  settings: Settings;
  tenants: Tenants;
  log: Logger;
  /** Shared by every tenant, each under its own prefix or scope. */
  store: Store;
  cache: ReadThroughCache;
  windows: WindowBackend;
  callLimits: CallLimits;
  audit: AuditTrail | undefined;
  metrics?: Metrics | undefined;
  isDraining: () => boolean;
  /** In-process Stripe (demo, tests). */
  fetch?: StripeClientOptions['fetch'];
  mailer?: CodeMailer;
  /** A tenant unused this long is dropped from memory (default 10 min). */
  idleMs?: number;
  maxTenants?: number;
}

export interface TenantApp {
  tenant: TenantRecord;
  runtime: ToolRuntime;
  app: Hono<never>;
  /** When this process last read the tenant's row. */
  checkedAt: number;
}

/** The store prefix of a tenant's grants, codes, sessions and limits. */
export function tenantStorePrefix(tenantId: string): string {
  return `t:${tenantId}:`;
}

/** A tenant's slice of the shared store: its own keys, within its own quota (STORE_SHARES.tenant of the store). */
function tenantStore(store: Store, tenantId: string): Store {
  return new PrefixedStore(store.ownedBy(`t:${tenantId}`, STORE_SHARES.tenant), tenantStorePrefix(tenantId));
}

/** Where every merchant's confirmation page, and the platform's, count wrong links: one place, as sign-ins are. */
export function confirmLinkStore(store: Store): Store {
  return new PrefixedStore(store, 'confirm-links:');
}

/** The platform's settings with the tenant's own parts: its key, webhook secret, portal, tools, mail. */
function tenantSettings(base: Settings, tenant: TenantRecord, secrets: { stripeKey: string; webhookSecret: string | undefined }): Settings {
  const own = tenant.settings;
  return {
    ...base,
    STRIPE_API_KEY: secrets.stripeKey,
    STRIPE_WEBHOOK_SECRET: secrets.webhookSecret,
    // Per Stripe account or per merchant: never the platform's own.
    PORTAL_RETURN_URL: own.portal_return_url,
    COUPON_ALLOWLIST: [],
    PORTAL_CONFIGURATION: own.portal_configuration ?? base.PORTAL_CONFIGURATION,
    // A coupon lives on one Stripe account: never the platform's.
    CANCEL_RETENTION_COUPON: own.cancel_retention_coupon,
    WRITE_TOOLS: own.write_tools ?? [],
    PLAN_PRODUCTS: own.plan_products ?? [],
    MERCHANT_NAME: own.merchant_name ?? tenant.name,
    MAIL_FROM: own.mail_from ?? base.MAIL_FROM,
    // Each merchant's own policy; never the platform's ACTIONS_POLICY.
    ACTIONS_POLICY: own.actions,
    HOST_KEYS: [],
    STAFF_KEYS: [],
  };
}

export class TenantApps {
  private readonly built: LRUCache<string, TenantApp>;
  private readonly building = new Map<string, Promise<TenantApp>>();
  /**
   * Identity tokens are the platform's (IDENTITY_SECRET or IDENTITY_JWKS_URL): one verifier, and
   * one cache of verified tokens, for every tenant instead of one each (each held ~380 KB).
   */
  private readonly verifier: IdentityTokenVerifier | undefined;

  constructor(private readonly options: TenantAppsOptions) {
    this.verifier = createIdentityTokenVerifier(options.settings);
    this.built = new LRUCache<string, TenantApp>({
      max: options.maxTenants ?? 10_000,
      ttl: options.idleMs ?? 10 * 60_000,
      updateAgeOnGet: true,
      ttlAutopurge: true,
      dispose: (entry) => this.release(entry),
    });
  }

  get size(): number {
    return this.built.size;
  }

  /**
   * The tenant's app, built on first use. A row older than TENANT_REFRESH_MS is read again, and a
   * changed tenant (new key, settings, rotated bearer key) is rebuilt; a removed one is dropped.
   */
  async get(tenantId: string, atLeastVersion = 0): Promise<TenantApp | undefined> {
    const held = this.built.get(tenantId);
    // The bearer lookup may already have seen a newer row (a rotated key): then build again now.
    if (held && held.tenant.version >= atLeastVersion && Date.now() - held.checkedAt < TENANT_REFRESH_MS) return held;
    const pending = this.building.get(tenantId);
    if (pending) return pending;
    const loading = this.load(tenantId, held).finally(() => this.building.delete(tenantId));
    this.building.set(tenantId, loading as Promise<TenantApp>);
    return loading;
  }

  private async load(tenantId: string, held: TenantApp | undefined): Promise<TenantApp | undefined> {
    const tenant = await this.options.tenants.get(tenantId);
    if (!tenant) {
      if (held) this.built.delete(tenantId);
      return undefined;
    }
    if (held && held.tenant.version === tenant.version) {
      held.checkedAt = Date.now();
      return held;
    }
    const entry = await this.build(tenant);
    this.built.set(tenantId, entry);
    return entry;
  }

  /** Forgets a removed tenant here at once: its app, and everything it kept in the shared store. */
  async forget(tenantId: string): Promise<void> {
    this.built.delete(tenantId);
    await this.options.store.deleteByPrefix(tenantStorePrefix(tenantId));
  }

  async close(): Promise<void> {
    const engines = [...this.built.values()].map((entry) => entry.runtime.actions);
    this.built.clear();
    // A sweep in flight writes its records before the trail closes (the caller closes it next).
    await Promise.all(engines.map((engine) => engine?.close()));
  }

  private release(entry: TenantApp): void {
    entry.runtime.availability?.stop();
    // A dropped or rebuilt tenant's timer stops; its requests stay in the database for the next build.
    void entry.runtime.actions?.close();
  }

  private async build(tenant: TenantRecord): Promise<TenantApp> {
    const { tenants, log } = this.options;
    // A value that does not decrypt (wrong TENANT_KEY_SECRET, tampering) throws a KeyringError
    // naming the cause; nothing of this tenant is built, and other tenants are untouched.
    const secrets = tenants.secretsOf(tenant);
    const settings = tenantSettings(this.options.settings, tenant, secrets);
    const tenantLog = log.child({ tenant: tenant.id });
    const runtime = createRuntime({
      settings,
      log: tenantLog,
      fetch: this.options.fetch,
      store: tenantStore(this.options.store, tenant.id),
      ...(this.options.mailer ? { mailer: this.options.mailer } : {}),
      // Each tenant's Stripe key has its own budget, counted in the shared windows.
      budget: createRateBudget(settings, scopeOfKey(secrets.stripeKey), this.options.windows),
      webhooks: secrets.webhookSecret !== undefined,
      audit: this.options.audit,
      tenant: { id: tenant.id, cache: this.options.cache },
    });
    // Expires the tenant's unconfirmed requests and resumes its quiet executions while it is in use.
    runtime.actions?.start();
    const metrics = this.options.metrics;
    if (metrics && runtime.verification?.mode === 'code') runtime.verification.codes.onLock(() => metrics.observeVerificationLock());
    const tools = selectTools({ allowlist: this.options.settings.TOOLS, writeTools: settings.WRITE_TOOLS });
    // Tools are listed at once from the stored probe; a fresh probe runs in the background and is stored.
    const keeper: ProbeKeeper = {
      load: async () => tenant.probe?.last,
      save: async (last) => tenants.saveProbe(tenant, { ...(tenant.probe ?? { tools: [] }), checked_at: new Date().toISOString(), last }),
    };
    await startToolAvailability(runtime, tools, settings, keeper);
    const credentials = (await tenants.store.keysOf(tenant.id)).map((key) => ({ kind: key.kind, name: key.name, digest: Buffer.from(key.digest, 'hex') }));
    const keys = new BearerKeys([], [], { credentials, digest: (secret) => tenants.digestBuffer(secret) });
    const app = createHttpApp({
      runtime,
      settings,
      tools,
      // A token must name this merchant in `aud`: one minted for another merchant's user opens nothing here.
      verifier: this.verifier ? tokensForAudience(this.verifier, tenant.id) : undefined,
      metrics: this.options.metrics,
      isDraining: this.options.isDraining,
      callLimits: this.options.callLimits.forTenant(tenant.id),
      keys,
      // Counted with the lobby's: the wrong keys that led to a lockout belonged to no merchant.
      panelSignInLimits: platformSignInLimits(this.options.store),
      confirmLinkStore: confirmLinkStore(this.options.store),
    });
    return { tenant, runtime, app: app as unknown as Hono<never>, checkedAt: Date.now() };
  }
}
