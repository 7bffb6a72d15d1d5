import Stripe from 'stripe';
import { SERVER_VERSION } from '../version.js';
import { BudgetedHttpClient } from './budgeted-http-client.js';
import type { StripeClientOptions } from './client.js';

/**
 * The SDK's client for src/stripe/client.ts, which imports this module (and with it the SDK)
 * only when the client is first used: options were checked there, at start-up.
 */
export function buildStripeClient(
  apiKey: string,
  apiBase: { host: string; port: number; protocol: 'http' | 'https' } | undefined,
  options: StripeClientOptions & { timeoutMs: number; maxNetworkRetries: number },
): Stripe {
  return new Stripe(apiKey, {
    apiVersion: Stripe.API_VERSION,
    maxNetworkRetries: options.maxNetworkRetries,
    timeout: options.timeoutMs,
    telemetry: false,
    appInfo: { name: 'stripe-billing-mcp', version: SERVER_VERSION, url: 'https://github.com/stripe-billing-mcp/stripe-billing-mcp' },
    ...apiBase,
    ...httpClientOption(options),
  });
}

function httpClientOption(options: StripeClientOptions): { httpClient?: Stripe.HttpClient } {
  if (!options.budget) return options.fetch ? { httpClient: Stripe.createFetchHttpClient(options.fetch) } : {};
  const inner = options.fetch ? Stripe.createFetchHttpClient(options.fetch) : Stripe.createNodeHttpClient();
  return { httpClient: new BudgetedHttpClient(inner, options.budget, options.rateLimitRetries) };
}
