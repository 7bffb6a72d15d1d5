import type { Settings } from './config.js';
import type { Logger } from './log.js';
import { createStripeClient, type StripeClientOptions } from './stripe/client.js';
import { PriceCatalog } from './stripe/price-catalog.js';
import type { ToolRuntime } from './tools/lib/context.js';
import { createStore } from './verify/create-store.js';
import { createVerification } from './verify/create-verification.js';
import type { CodeMailer } from './verify/mailer.js';
import type { Store } from './verify/store.js';

export interface RuntimeOptions {
  settings: Settings;
  log: Logger;
  /** In-process Stripe transport (demo, tests); otherwise the network or STRIPE_API_BASE. */
  fetch?: StripeClientOptions['fetch'];
  store?: Store;
  /** Where codes go instead of SMTP_URL (the demo outbox, tests). */
  mailer?: CodeMailer;
  /** Tests turn retries off to see each injected failure. */
  maxNetworkRetries?: number;
}

/** Everything tool calls share within one process, built once from validated settings. */
export function createRuntime(options: RuntimeOptions): ToolRuntime {
  const { settings, log } = options;
  const { stripe, key } = createStripeClient({
    apiKey: settings.STRIPE_API_KEY,
    apiBase: settings.STRIPE_API_BASE,
    fetch: options.fetch,
    ...(options.maxNetworkRetries !== undefined ? { maxNetworkRetries: options.maxNetworkRetries } : {}),
    warn: (message) => log.warn(message),
  });
  const store = options.store ?? createStore(settings.STORE_URL);
  return {
    stripe,
    key,
    log,
    catalog: new PriceCatalog(stripe),
    store,
    verification: createVerification({ settings, store, stripe, log, mailer: options.mailer }),
    settings: {
      couponAllowlist: settings.COUPON_ALLOWLIST,
      portalReturnUrl: settings.PORTAL_RETURN_URL,
      portalConfiguration: settings.PORTAL_CONFIGURATION,
    },
  };
}
