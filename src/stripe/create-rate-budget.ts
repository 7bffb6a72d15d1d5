import type { Settings } from '../config.js';
import { parseStripeKey } from './key.js';
import { MemoryWindows, RedisWindows, StripeRateBudget, type WindowBackend } from './rate-budget.js';

/**
 * STRIPE_RATE_LIMIT, else Stripe's own limit for the key's mode (100/s live, 25/s in a sandbox),
 * kept in the shared store's Redis when there is one, so every process counts against one budget.
 */
export function createRateBudget(
  settings: Pick<Settings, 'STRIPE_API_KEY' | 'STRIPE_RATE_LIMIT' | 'CALLER_STRIPE_SHARE' | 'STORE_URL'>,
  scope: string,
  /** Platform mode: one set of windows for every tenant (each counted under its own scope). */
  shared?: WindowBackend,
): StripeRateBudget {
  const live = (() => {
    try {
      return parseStripeKey(settings.STRIPE_API_KEY).mode === 'live';
    } catch {
      return false;
    }
  })();
  const global = settings.STRIPE_RATE_LIMIT ?? (live ? 100 : 25);
  const windows = shared ?? (settings.STORE_URL ? new RedisWindows(settings.STORE_URL) : new MemoryWindows());
  return new StripeRateBudget(windows, scope, { global, callerSharePercent: settings.CALLER_STRIPE_SHARE });
}
