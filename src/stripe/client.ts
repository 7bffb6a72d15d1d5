import Stripe from 'stripe';
import { ConfigurationError } from '../errors.js';
import { SERVER_VERSION } from '../version.js';
import { BudgetedHttpClient } from './budgeted-http-client.js';
import { paddedKeyWarning, parseStripeKey, type StripeKeyInfo } from './key.js';
import type { StripeRateBudget } from './rate-budget.js';

export interface StripeClientOptions {
  apiKey: string | undefined;
  /** `STRIPE_API_BASE`: any Stripe-compatible server (the fake, stripe-mock). */
  apiBase?: string | undefined;
  /** In-process transport for `--demo` and tests: a fetch function instead of the network. */
  fetch?: ((input: string | URL | Request, init?: RequestInit) => Promise<Response>) | undefined;
  timeoutMs?: number;
  maxNetworkRetries?: number;
  /** Called once for set-up advice that is not fatal (sk_live_ keys). */
  warn?: (message: string) => void;
  /** Every request takes room in this budget first; Stripe's 429s are retried and slow it. */
  budget?: StripeRateBudget | undefined;
  /** How often a Stripe 429 is retried (default RATE_LIMIT_RETRIES). */
  rateLimitRetries?: number | undefined;
}

export interface StripeClient {
  stripe: Stripe;
  key: StripeKeyInfo;
}

/** A chat user waits for the answer: fail fast, retry a little (the SDK backs off and honours Stripe-Should-Retry). */
export const CHAT_TIMEOUT_MS = 8_000;
export const CHAT_MAX_RETRIES = 2;

function apiBaseConfig(apiBase: string): { host: string; port: number; protocol: 'http' | 'https' } {
  let url: URL;
  try {
    url = new URL(apiBase);
  } catch {
    throw new ConfigurationError(`STRIPE_API_BASE is not a URL: expected something like https://api.stripe.com or http://127.0.0.1:12111.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigurationError('STRIPE_API_BASE must start with http:// or https://.');
  }
  if (url.pathname !== '/' && url.pathname !== '') {
    throw new ConfigurationError('STRIPE_API_BASE must be a bare origin without a path (the SDK adds /v1/…).');
  }
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return { host: url.hostname, port: Number(url.port || (protocol === 'http' ? 80 : 443)), protocol };
}

function httpClientOption(options: StripeClientOptions): { httpClient?: Stripe.HttpClient } {
  if (!options.budget) return options.fetch ? { httpClient: Stripe.createFetchHttpClient(options.fetch) } : {};
  const inner = options.fetch ? Stripe.createFetchHttpClient(options.fetch) : Stripe.createNodeHttpClient();
  return { httpClient: new BudgetedHttpClient(inner, options.budget, options.rateLimitRetries) };
}

export function createStripeClient(options: StripeClientOptions): StripeClient {
  const key = parseStripeKey(options.apiKey);
  if (key.padded) options.warn?.(paddedKeyWarning());
  if (key.kind === 'secret' && key.mode === 'live') {
    options.warn?.(
      'STRIPE_API_KEY is a live secret key (sk_live_…), which can do anything on the account. Create a restricted key (rk_live_…) with only the permissions this server needs; `stripe-billing-mcp doctor` lists them.',
    );
  }
  const stripe = new Stripe(options.apiKey!.trim(), {
    apiVersion: Stripe.API_VERSION,
    maxNetworkRetries: options.maxNetworkRetries ?? CHAT_MAX_RETRIES,
    timeout: options.timeoutMs ?? CHAT_TIMEOUT_MS,
    telemetry: false,
    appInfo: { name: 'stripe-billing-mcp', version: SERVER_VERSION, url: 'https://github.com/stripe-billing-mcp/stripe-billing-mcp' },
    ...(options.apiBase ? apiBaseConfig(options.apiBase) : {}),
    ...httpClientOption(options),
  });
  return { stripe, key };
}
