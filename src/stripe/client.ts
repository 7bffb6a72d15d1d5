import type Stripe from 'stripe';
import { ConfigurationError } from '../errors.js';
import { inertMember, placePendingWork } from './caller-context.js';
import { loadOnce } from '../load-once.js';
import { paddedKeyWarning, parseStripeKey, type StripeKeyInfo } from './key.js';
import type { StripeRateBudget } from './rate-budget.js';
import { loadStripeSdk } from './sdk.js';

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
  /** Usable at once; the SDK behind it is loaded on first use (see `deferredClient`). */
  stripe: Stripe;
  key: StripeKeyInfo;
  /** Loads the SDK and builds the client now (the first use does the same). */
  load(): Promise<Stripe>;
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

export function createStripeClient(options: StripeClientOptions): StripeClient {
  const key = parseStripeKey(options.apiKey);
  if (key.padded) options.warn?.(paddedKeyWarning());
  if (key.kind === 'secret' && key.mode === 'live') {
    options.warn?.(
      'STRIPE_API_KEY is a live secret key (sk_live_…), which can do anything on the account. Create a restricted key (rk_live_…) with only the permissions this server needs; `stripe-billing-mcp doctor` lists them.',
    );
  }
  // Everything that can be wrong with the settings is found now, at start-up, not at the first call.
  const apiBase = options.apiBase ? apiBaseConfig(options.apiBase) : undefined;
  const settings = { ...options, timeoutMs: options.timeoutMs ?? CHAT_TIMEOUT_MS, maxNetworkRetries: options.maxNetworkRetries ?? CHAT_MAX_RETRIES };
  return deferredClient(key, async () => {
    const [, { buildStripeClient }] = await Promise.all([loadStripeSdk(), import('./build-client.js')]);
    return buildStripeClient(options.apiKey!.trim(), apiBase, settings);
  });
}

type Path = readonly PropertyKey[];
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a walk along property names of the SDK's client
const walk = (object: any, path: Path): any => path.reduce((owner, key) => owner[key], object);

/**
 * The client, before its SDK is loaded: `stripe.customers.retrieve(id)` and the like load it,
 * then make the call. A start-up that only lists tools never loads the SDK (a quarter of the
 * JavaScript a start would compile), and a keyed stdio server loads it with its first probe,
 * after its first tools/list. Once loaded, every property is the real client's.
 *
 * A call made before then returns what the SDK's call returns, once it has: awaited, its result;
 * iterated with `for await` (a list), every page. Every use of the client is such a call.
 */
function deferredClient(key: StripeKeyInfo, build: () => Promise<Stripe>): StripeClient {
  let client: Stripe | undefined;
  const load = loadOnce(() => build().then((built) => (client = built)));
  const deferred = (path: Path): unknown =>
    new Proxy(function stripeBeforeLoad() {}, {
      get(_target, name) {
        if (client) {
          const owner = walk(client, path);
          const value = owner[name];
          return typeof value === 'function' ? value.bind(owner) : value;
        }
        if (inertMember(name)) return undefined;
        return deferred([...path, name]);
      },
      apply(_target, _this, args: unknown[]) {
        // Boxed, so that a list's own promise (which is also its pager) is not resolved on the way.
        const made = load().then((loaded) => {
          const owner = walk(loaded, path.slice(0, -1));
          const method: unknown = owner?.[path.at(-1)!];
          if (typeof method !== 'function') throw new TypeError(`stripe.${path.map(String).join('.')} is not a function of the Stripe client`);
          return { returned: method.apply(owner, placePendingWork(method, args)) as unknown };
        });
        // Whoever awaits the call sees its failure; a call nobody awaits must not stop the process.
        made.catch(() => undefined);
        const settled = () => made.then(({ returned }) => returned);
        return {
          then: (onFulfilled?: (value: unknown) => unknown, onRejected?: (reason: unknown) => unknown) => settled().then(onFulfilled, onRejected),
          catch: (onRejected?: (reason: unknown) => unknown) => settled().catch(onRejected),
          finally: (onFinally?: () => void) => settled().finally(onFinally),
          async *[Symbol.asyncIterator]() {
            yield* (await made).returned as AsyncIterable<unknown>;
          },
        };
      },
    });
  return { stripe: deferred([]) as Stripe, key, load };
}
