import { approvalWebhookFrom } from './actions/approval-webhook.js';
import { anyActionEnabled, createActionsEngine } from './actions/create-engine.js';
import type { ActionsEngineOptions } from './actions/engine.js';
import type { AuditTrail } from './audit/audit-trail.js';
import { BillingReads, scopeOfKey } from './cache/billing-reads.js';
import { createCacheBackend } from './cache/create-cache.js';
import { ReadThroughCache } from './cache/read-through.js';
import type { Settings } from './config.js';
import { createRateBudget } from './stripe/create-rate-budget.js';
import type { StripeRateBudget } from './stripe/rate-budget.js';
import type { Logger } from './log.js';
import { createStripeClient, type StripeClientOptions } from './stripe/client.js';
import type { ToolRuntime } from './tools/lib/context.js';
import { createStore } from './verify/create-store.js';
import { createVerification } from './verify/create-verification.js';
import { createSmtpMailer, type CodeMailer } from './verify/mailer.js';
import type { Store } from './verify/store.js';

export interface RuntimeOptions {
  settings: Settings;
  log: Logger;
  /** In-process Stripe transport (demo, tests); otherwise the network or STRIPE_API_BASE. */
  fetch?: StripeClientOptions['fetch'];
  store?: Store;
  /** Where codes go instead of SMTP_URL (the demo outbox, tests). */
  mailer?: CodeMailer;
  /** Tests turn retries off to see each injected failure (the SDK's, and ours of Stripe's 429s). */
  maxNetworkRetries?: number;
  /** A request budget other than the settings' (tests that are not about it lift it). */
  budget?: StripeRateBudget;
  /** `serve` with STRIPE_WEBHOOK_SECRET: events keep the cache fresh, so entries live until invalidated. */
  webhooks?: boolean;
  /** The disclosure audit trail, when on: every tool call's record goes to it. */
  audit?: AuditTrail | undefined;
  /** Platform mode: the tenant, its cache scope, and the cache shared by every tenant. */
  tenant?: { id: string; cache: ReadThroughCache } | undefined;
  /** Told of each action request that now waits for a staff approval (APPROVAL_WEBHOOK_URL). */
  onAwaitingApproval?: ActionsEngineOptions['onAwaitingApproval'];
  /** False where no tool call runs (doctor, a tenant's probe): no actions engine, even when the policy turns actions on. */
  actions?: boolean;
  /** Tests: the action requests' clock and Stripe retry delays. */
  actionsClock?: () => number;
  actionsExecute?: ActionsEngineOptions['execute'];
}

/** Everything tool calls share within one process, built once from validated settings. */
export function createRuntime(options: RuntimeOptions): ToolRuntime {
  const { settings, log } = options;
  // A tenant's cache entries live under its id and its key: removing the tenant, or giving it another
  // Stripe key (another account, or live after test), makes the old entries unreachable at once.
  const keyScope = scopeOfKey(settings.STRIPE_API_KEY?.trim() ?? '');
  const scope = options.tenant ? `tenant-${options.tenant.id}-${keyScope}` : keyScope;
  const budget = options.budget ?? createRateBudget(settings, scope);
  budget.onRateLimited((event) => log.warn(event, 'Stripe answered 429 despite the request budget'));
  const { stripe, key } = createStripeClient({
    apiKey: settings.STRIPE_API_KEY,
    apiBase: settings.STRIPE_API_BASE,
    fetch: options.fetch,
    ...(options.maxNetworkRetries !== undefined ? { maxNetworkRetries: options.maxNetworkRetries } : {}),
    warn: (message) => log.warn(message),
    budget,
    ...(options.maxNetworkRetries !== undefined ? { rateLimitRetries: options.maxNetworkRetries } : {}),
  });
  const store = options.store ?? createStore(settings.STORE_URL, { maxEntries: settings.STORE_MAX_ENTRIES });
  const cache = options.tenant?.cache ?? new ReadThroughCache(createCacheBackend(settings, log), log);
  const reads = new BillingReads(stripe, cache, scope, {
    webhooks: options.webhooks ?? false,
    ttlMs: settings.CACHE_TTL_SECONDS * 1000,
  });
  const verification = createVerification({ settings, store, reads, log, mailer: options.mailer });
  // A customer just verified asks a question next: its reads start now, within spare budget.
  if (verification) verification.grants.onGranted = (email) => reads.warm(email);
  // APPROVAL_WEBHOOK_URL is the operator's: in platform mode no merchant's requests go to it.
  const approvalWebhook =
    options.onAwaitingApproval || options.tenant || options.actions === false || !anyActionEnabled(settings.ACTIONS_POLICY) ? undefined : approvalWebhookFrom(settings, log);
  const actions = options.actions === false ? undefined : createActionsEngine({
    settings,
    stripe,
    invalidateCustomer: (customerId) => reads.invalidateCustomer(customerId),
    log,
    audit: options.audit,
    tenantId: options.tenant?.id,
    // The code mailer when there is one; under trust-email verification SMTP_URL still mails confirmation links.
    mailer:
      options.mailer ??
      (verification?.mode === 'code'
        ? verification.mailer
        : settings.SMTP_URL && anyActionEnabled(settings.ACTIONS_POLICY)
          ? createSmtpMailer({ smtpUrl: settings.SMTP_URL, mailFrom: settings.MAIL_FROM, merchantName: settings.MERCHANT_NAME ?? 'our billing team', log })
          : undefined),
    onAwaitingApproval: options.onAwaitingApproval ?? (approvalWebhook ? (request) => approvalWebhook.notify(request) : undefined),
    ...(options.actionsClock ? { now: options.actionsClock } : {}),
    execute: options.actionsExecute,
  });
  return {
    stripe,
    key,
    log,
    reads,
    budget,
    store,
    verification,
    actions,
    audit: options.audit,
    tenantId: options.tenant?.id,
    settings: {
      couponAllowlist: settings.COUPON_ALLOWLIST,
      portalReturnUrl: settings.PORTAL_RETURN_URL,
      portalConfiguration: settings.PORTAL_CONFIGURATION,
      cancelRetentionCoupon: settings.CANCEL_RETENTION_COUPON,
      planProducts: settings.PLAN_PRODUCTS.length > 0 ? settings.PLAN_PRODUCTS : undefined,
    },
  };
}
