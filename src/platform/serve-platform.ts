/**
 * Starts platform mode: the tenant database (the trail's: Postgres with DATABASE_URL, else the
 * SQLite file), the parts every tenant shares (store, cache, Stripe budget windows, call limits,
 * audit trail, metrics), and the platform app on HOST:PORT.
 */
import { randomBytes } from 'node:crypto';
import type { AuditStore } from '../audit/audit-store.js';
import type { AuditTrail } from '../audit/audit-trail.js';
import { auditEnabled, createAuditTrail, openAuditStore } from '../audit/create-audit-trail.js';
import { startRetention } from '../audit/retention.js';
import { createCacheBackend } from '../cache/create-cache.js';
import { ReadThroughCache } from '../cache/read-through.js';
import type { Settings } from '../config.js';
import { ConfigurationError } from '../errors.js';
import { CallLimits } from '../http/call-limits.js';
import { Metrics } from '../http/metrics.js';
import { sessionSigningSecret } from '../http/panel/session.js';
import { listen, type BoundServer } from '../http/serve.js';
import type { Logger } from '../log.js';
import type { StripeClientOptions } from '../stripe/client.js';
import { MemoryWindows, RedisWindows } from '../stripe/rate-budget.js';
import { createStore } from '../verify/create-store.js';
import type { CodeMailer } from '../verify/mailer.js';
import type { Store } from '../verify/store.js';
import { Keyring, KeyringError } from './keyring.js';
import { createPlatformApp } from './platform-app.js';
import { TenantApps } from './tenant-apps.js';
import { tenantProber } from './tenant-probe.js';
import { TenantStore } from './tenant-store.js';
import { Tenants } from './tenants.js';

export interface RunningPlatform extends BoundServer {
  tenants: Tenants;
  apps: TenantApps;
  audit: AuditTrail | undefined;
  metrics: Metrics;
  /** The store every tenant shares, each in its own slice and within its own quota. */
  store: Store;
}

/** The tenant database on its own (CLI `tenants …`), schema made. */
export async function openTenants(settings: Settings, log: Logger): Promise<{ tenants: Tenants; database: AuditStore }> {
  const keyring = new Keyring(settings.TENANT_KEY_SECRET);
  const database = await openAuditStore(settings, { demo: false, log });
  try {
    await database.migrate();
    return { tenants: await Tenants.open(new TenantStore(database.sql), keyring), database };
  } catch (error) {
    await database.close().catch(() => undefined);
    throw error;
  }
}

export async function startPlatform(options: { settings: Settings; log: Logger; fetch?: StripeClientOptions['fetch']; mailer?: CodeMailer; idleMs?: number }): Promise<RunningPlatform> {
  const { log } = options;
  // Every tenant's panel sessions are signed with one secret (random per process when none is set).
  // Likewise one-time codes: a tenant's app rebuilt (a change, idle eviction) still checks codes already sent.
  const settings: Settings = {
    ...options.settings,
    PANEL_SESSION_SECRET: sessionSigningSecret(options.settings),
    VERIFY_SECRET: options.settings.VERIFY_SECRET ?? randomBytes(32).toString('base64url'),
  };
  if (settings.ADMIN_KEYS.length === 0) throw new ConfigurationError('serve --platform needs ADMIN_KEYS (name:secret, comma list): the keys that connect and manage merchants.');
  if (settings.HOST_KEYS.length > 0 || settings.STAFF_KEYS.length > 0) {
    throw new ConfigurationError('In platform mode each merchant has its own host and staff keys (POST /v1/admin/tenants): unset HOST_KEYS and STAFF_KEYS.');
  }
  const keyring = new Keyring(settings.TENANT_KEY_SECRET);
  const audit = auditEnabled(settings, 'serve') ? await createAuditTrail(settings, { demo: false, log }) : undefined;
  const database = audit?.store ?? (await openAuditStore(settings, { demo: false, log }));
  let tenants: Tenants;
  try {
    await database.migrate();
    tenants = await Tenants.open(new TenantStore(database.sql), keyring);
  } catch (error) {
    await (audit ? audit.close() : database.close()).catch(() => undefined);
    // The pepper does not decrypt: TENANT_KEY_SECRET lacks the key the database was written with.
    if (error instanceof KeyringError) throw new ConfigurationError(`TENANT_KEY_SECRET cannot open this database: ${error.message}.`);
    throw error;
  }

  const metrics = new Metrics();
  if (audit) metrics.attachAudit(audit);
  const store = createStore(settings.STORE_URL, { maxEntries: settings.STORE_MAX_ENTRIES });
  const cache = new ReadThroughCache(createCacheBackend(settings, log), log);
  cache.observe = (outcome) => metrics.observeCacheRead(outcome);
  const windows = settings.STORE_URL ? new RedisWindows(settings.STORE_URL) : new MemoryWindows();
  const callLimits = new CallLimits(settings);
  let isDraining: () => boolean = () => false;
  const apps = new TenantApps({
    settings,
    tenants,
    log,
    store,
    cache,
    windows,
    callLimits,
    audit,
    metrics,
    isDraining: () => isDraining(),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.mailer ? { mailer: options.mailer } : {}),
    ...(options.idleMs ? { idleMs: options.idleMs } : {}),
  });
  const app = createPlatformApp({ settings, tenants, apps, prober: tenantProber(settings, log, options.fetch), log, audit, metrics, isDraining: () => isDraining(), store, panelSecret: settings.PANEL_SESSION_SECRET! });
  const stopRetention = audit ? startRetention(audit, settings.AUDIT_RETENTION_DAYS, log) : undefined;
  const bound = await listen(app, {
    settings,
    log,
    metrics,
    closeResources: async () => {
      stopRetention?.();
      await apps.close();
      await Promise.all([store.close(), cache.backend.close(), windows.close(), callLimits.close()]);
      await (audit ? audit.close() : database.close());
    },
  });
  isDraining = bound.isDraining;
  log.info({ url: bound.url, database: database.backend, keys: keyring.labels }, 'stripe-billing-mcp serving merchants (platform mode)');
  return { ...bound, tenants, apps, audit, metrics, store };
}
