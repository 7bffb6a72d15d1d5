import { ConfigurationError } from '../errors.js';

export type StripeKeyKind = 'restricted' | 'secret';
export type StripeMode = 'test' | 'live';

export interface StripeKeyInfo {
  kind: StripeKeyKind;
  mode: StripeMode;
  /** `rk_test_…abcd`: safe to print. */
  redacted: string;
}

const KEY_PATTERN = /^(rk|sk)_(test|live)_[A-Za-z0-9_]{8,}$/;

/** Redacts anything key-shaped to its prefix and last 4 characters. */
export function redactKey(key: string): string {
  const prefix = /^[a-z]{2,5}_(test|live)_/.exec(key)?.[0] ?? '';
  return `${prefix}…${key.slice(-4)}`;
}

/**
 * Accepts restricted (`rk_`) and secret (`sk_`) keys; refuses publishable keys and anything
 * malformed with a message that names the setting and the fix.
 */
export function parseStripeKey(key: string | undefined): StripeKeyInfo {
  if (!key) {
    throw new ConfigurationError(
      'STRIPE_API_KEY is not set. Create a restricted key (rk_…) in the Stripe Dashboard under Developers → API keys, or run with --demo to try the built-in demo account.',
    );
  }
  const trimmed = key.trim();
  if (/^pk_(test|live)_/.test(trimmed)) {
    throw new ConfigurationError(
      'STRIPE_API_KEY is a publishable key (pk_…), which cannot read billing data. Use a restricted key (rk_…) with read access to customers, subscriptions, invoices, charges, payment methods, products, prices and promotion codes.',
    );
  }
  const match = KEY_PATTERN.exec(trimmed);
  if (!match) {
    throw new ConfigurationError(
      'STRIPE_API_KEY is not a Stripe API key: expected rk_test_…, rk_live_…, sk_test_… or sk_live_…. Copy the whole key from the Stripe Dashboard (Developers → API keys).',
    );
  }
  return {
    kind: match[1] === 'rk' ? 'restricted' : 'secret',
    mode: match[2] === 'live' ? 'live' : 'test',
    redacted: redactKey(trimmed),
  };
}
