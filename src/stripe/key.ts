import { ConfigurationError } from '../errors.js';

export type StripeKeyKind = 'restricted' | 'secret';
export type StripeMode = 'test' | 'live';

export interface StripeKeyInfo {
  kind: StripeKeyKind;
  mode: StripeMode;
  /** `rk_test_…abcd`: safe to print. */
  redacted: string;
  /** The key arrived with spaces or a line break around it (pasted so); they are ignored, and start-up says so. */
  padded?: true;
}

const KEY_PATTERN = /^(rk|sk)_(test|live)_[A-Za-z0-9_]{8,}$/;

/** Redacts anything key-shaped to its prefix and last 4 characters. */
export function redactKey(key: string): string {
  const prefix = /^[a-z]{2,5}_(test|live)_/.exec(key)?.[0] ?? '';
  return `${prefix}…${key.slice(-4)}`;
}

/** What start-up says of a key pasted with spaces around it (never the key itself). */
export function paddedKeyWarning(name = 'STRIPE_API_KEY'): string {
  return `${name} has spaces or a line break before or after the key (pasted with them?): they are ignored, but remove them where ${name} is set (inside quotes in a .env file or a client's config they are kept).`;
}

/**
 * Accepts restricted (`rk_`) and secret (`sk_`) keys; refuses publishable keys and anything
 * malformed with a message that names the setting (or, for the admin API, the JSON field:
 * `name`) and the fix. No message repeats the key.
 */
export function parseStripeKey(key: string | undefined, name = 'STRIPE_API_KEY'): StripeKeyInfo {
  if (!key || !key.trim()) {
    throw new ConfigurationError(
      key
        ? `${name} holds only spaces: paste the key itself (rk_…) from the Stripe Dashboard under Developers → API keys.`
        : `${name} is not set. Create a restricted key (rk_…) in the Stripe Dashboard under Developers → API keys${name === 'STRIPE_API_KEY' ? ', or run with --demo to try the built-in demo account' : ''}.`,
    );
  }
  const trimmed = key.trim();
  if (/^pk_(test|live)_/.test(trimmed)) {
    throw new ConfigurationError(
      `${name} is a publishable key (pk_…), which cannot read billing data. Use a restricted key (rk_…) with read access to customers, subscriptions, invoices, charges, payment methods, products, prices and promotion codes.`,
    );
  }
  // A key copied across a line wrap, or two keys pasted together.
  if (/\s/.test(trimmed)) {
    throw new ConfigurationError(`${name} has a space or line break inside the key: copy the whole key again, in one piece, from the Stripe Dashboard (Developers → API keys).`);
  }
  const match = KEY_PATTERN.exec(trimmed);
  if (!match) {
    throw new ConfigurationError(
      `${name} is not a Stripe API key: expected rk_test_…, rk_live_…, sk_test_… or sk_live_…. Copy the whole key from the Stripe Dashboard (Developers → API keys).`,
    );
  }
  return {
    kind: match[1] === 'rk' ? 'restricted' : 'secret',
    mode: match[2] === 'live' ? 'live' : 'test',
    redacted: redactKey(trimmed),
    ...(trimmed !== key ? { padded: true as const } : {}),
  };
}
