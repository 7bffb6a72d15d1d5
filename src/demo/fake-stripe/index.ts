/**
 * A fake Stripe API as a web-standard fetch handler, with a seeded demo account.
 *
 * Tests route `https://api.stripe.com/*` to `handle` through msw while the real `stripe` SDK
 * makes the calls; `--demo` serves it on a loopback port or hands it to
 * `Stripe.createFetchHttpClient`. It answers like Stripe wherever our code depends on it —
 * auth, restricted-key permissions, strict parameters, expansion, pagination, search quirks,
 * idempotency, error shapes — so a wrong use of the Stripe API fails our tests.
 */
import { StripeHttpError, apiError, invalidApiKey, permissionDenied, rateLimited, unrecognizedUrl } from './errors.js';
import { applyExpansions, type ExpandContext } from './expand.js';
import { FAKE_ACCOUNT_ID, makePortalConfiguration } from './factories.js';
import { FakeConnectionDropped, InjectionQueue, type InjectedStatus } from './failure-injection.js';
import { FakeRateLimiter, type FakeRateLimits, type RateLimitStats } from './rate-limits.js';
import { IdempotencyCache } from './idempotency.js';
import { toWire } from './json.js';
import { parseFormParams, type FormObject } from './params.js';
import { ApiKeyRegistry, READ_PERMISSION } from './permissions.js';
import { Router, type RouteContext } from './router.js';
import { ALL_ROUTES } from './routes/index.js';
import { DEMO, seedDemoAccount } from './seed.js';
import { FakeStripeStore } from './store.js';
import { validateParams } from './validate.js';

export { DEMO } from './seed.js';
export { FakeStripeAccounts } from './accounts.js';
export { FakeConnectionDropped } from './failure-injection.js';
export { FakeStripeStore } from './store.js';
export type { FakeRateLimits, RateLimitStats } from './rate-limits.js';
export { ROUTE_PERMISSIONS, type Permission } from './permissions.js';

export interface FakeStripeOptions {
  /** Unix seconds used for the seed and for `created` of new objects; default: the current time. */
  now?: number;
  /** Load the demo account (default true). */
  seed?: boolean;
  /** A default billing-portal configuration with subscription_cancel enabled exists (default true). */
  portalConfigured?: boolean;
  /** Customers created less than this many seconds before `now` are missing from search (default 0). */
  searchLagSeconds?: number;
  /** Enforce Stripe's rate limits (429 with Stripe-Rate-Limited-Reason); default: none. */
  rateLimits?: FakeRateLimits;
}

export interface RecordedRequest {
  method: string;
  path: string;
  params: Record<string, unknown>;
  apiKey: string;
  idempotencyKey?: string;
  /** HTTP status answered; 0 when the connection was dropped. */
  status: number;
}

const API_VERSION = '2026-10-28.endive';

function bearerKey(header: string | null): string {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  return match?.[1]?.trim() ?? '';
}

function expandPathsOf(params: unknown): string[] {
  if (typeof params !== 'object' || params === null || !('expand' in params)) return [];
  const expand = (params as { expand?: unknown }).expand;
  return Array.isArray(expand) ? expand.filter((p): p is string => typeof p === 'string') : [];
}

export class FakeStripe {
  readonly store = new FakeStripeStore();
  readonly requests: RecordedRequest[] = [];

  private readonly now: number;
  private readonly searchLagSeconds: number;
  private readonly keys = new ApiKeyRegistry();
  private readonly failures = new InjectionQueue<{ status: InjectedStatus; reason?: string | undefined }>();
  private readonly drops = new InjectionQueue<true>();
  private readonly idempotency = new IdempotencyCache();
  private readonly router = new Router(ALL_ROUTES);
  private requestSequence = 0;
  private readonly rateLimiter: FakeRateLimiter | undefined;

  constructor(options: FakeStripeOptions = {}) {
    this.now = options.now ?? Math.floor(Date.now() / 1000);
    this.searchLagSeconds = options.searchLagSeconds ?? 0;
    this.rateLimiter = options.rateLimits ? new FakeRateLimiter(options.rateLimits) : undefined;
    const portalConfigured = options.portalConfigured ?? true;
    if (options.seed ?? true) seedDemoAccount(this.store, { now: this.now, portalConfigured });
    else this.setPortalConfigured(portalConfigured);
  }

  /** Revoked keys get 401, as a rolled or deleted key does at Stripe. */
  revokeKey(apiKey: string): void {
    this.keys.revoke(apiKey);
  }

  /** That key gets 403 on endpoints (and expansions) needing any of these permissions. */
  restrictKey(apiKey: string, deniedPermissions: string[]): void {
    this.keys.restrict(apiKey, deniedPermissions);
  }

  /** `reason`: a 429's Stripe-Rate-Limited-Reason (global-rate, endpoint-rate, …). */
  failNext(opts: { status: InjectedStatus; path?: string | RegExp; method?: string; times?: number; reason?: string }): void {
    this.failures.add({ status: opts.status, reason: opts.reason }, { path: opts.path, method: opts.method }, opts.times ?? 1);
  }

  dropNext(opts: { path?: string | RegExp; times?: number } = {}): void {
    this.drops.add(true, { path: opts.path }, opts.times ?? 1);
  }

  /** What the rate limiter saw (`rateLimits` option): 429s sent and the busiest second per limit. */
  rateLimitStats(): RateLimitStats | undefined {
    return this.rateLimiter?.stats();
  }

  /** Stripe recovers: forget every pending failNext/dropNext. */
  clearFailures(): void {
    this.failures.clear();
    this.drops.clear();
  }

  setPortalConfigured(on: boolean): void {
    const current = this.store.defaultPortalConfiguration();
    if (on && !current) {
      const configuration = makePortalConfiguration({ id: DEMO.portalConfiguration, created: this.now - 365 * 86_400, isDefault: true, cancelEnabled: true });
      this.store.portalConfigurations.set(configuration.id, configuration);
    }
    if (!on) {
      for (const [id, configuration] of this.store.portalConfigurations) if (configuration.is_default) this.store.portalConfigurations.delete(id);
    }
  }

  handle = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const method = request.method.toUpperCase();
    const path = url.pathname;
    const apiKey = bearerKey(request.headers.get('authorization'));
    const idempotencyKey = request.headers.get('idempotency-key') ?? undefined;
    const requestId = `req_Fake${String(++this.requestSequence).padStart(8, '0')}`;
    let params: FormObject = {};

    const respond = (status: number, body: string, extraHeaders: Record<string, string> = {}): Response => {
      this.requests.push({ method, path, params, apiKey, status, ...(idempotencyKey !== undefined ? { idempotencyKey } : {}) });
      const headers: Record<string, string> = { 'Content-Type': 'application/json', 'Request-Id': requestId, 'Stripe-Version': API_VERSION, ...extraHeaders };
      if (idempotencyKey !== undefined && method === 'POST') headers['Idempotency-Key'] = idempotencyKey;
      return new Response(body, { status, headers });
    };
    const respondError = (error: StripeHttpError): Response => respond(error.status, JSON.stringify({ error: error.body }));

    try {
      const body = method === 'GET' || method === 'HEAD' || method === 'DELETE' ? '' : await request.text();
      params = parseFormParams(url.searchParams, new URLSearchParams(body));

      if (this.drops.take(method, path)) {
        this.requests.push({ method, path, params, apiKey, status: 0, ...(idempotencyKey !== undefined ? { idempotencyKey } : {}) });
        throw new FakeConnectionDropped(method, path);
      }
      const injected = this.failures.take(method, path);
      if (injected?.status === 429) return respond(429, JSON.stringify({ error: rateLimited().body }), injected.reason ? { 'Stripe-Rate-Limited-Reason': injected.reason } : {});
      if (injected !== undefined) throw apiError(injected.status);
      const overLimit = this.rateLimiter?.admit(this.router.match(method, path)?.route.key ?? `${method} ${path}`);
      if (overLimit) return respond(429, JSON.stringify({ error: rateLimited().body }), { 'Stripe-Rate-Limited-Reason': overLimit });

      if (!this.keys.isValid(apiKey)) throw invalidApiKey(apiKey);

      const fingerprint = JSON.stringify([method, path, params]);
      const idempotent = method === 'POST' && idempotencyKey !== undefined;
      if (idempotent) {
        const saved = this.idempotency.replay(apiKey, idempotencyKey, fingerprint);
        if (saved) return respond(saved.status, saved.body, { 'Idempotent-Replayed': 'true', 'Original-Request': 'req_replayed' });
      }

      const match = this.router.match(method, path);
      if (!match) throw unrecognizedUrl(method, path);
      if (!this.keys.allows(apiKey, match.permission)) throw permissionDenied(apiKey, FAKE_ACCOUNT_ID, match.permission);
      const validated = validateParams(match.route.params, params);

      // The endpoint has started executing: Stripe saves its result, error or not, for replays.
      const ctx: RouteContext = {
        store: this.store,
        now: this.now,
        pathParams: match.pathParams,
        searchVisibleBefore: this.now - this.searchLagSeconds,
      };
      let status = 200;
      let responseBody: string;
      try {
        const wire = toWire(match.route.handle(ctx, validated));
        applyExpansions(wire, expandPathsOf(validated), this.expandContext(apiKey));
        responseBody = JSON.stringify(wire);
      } catch (error) {
        if (!(error instanceof StripeHttpError)) throw error;
        status = error.status;
        responseBody = JSON.stringify({ error: error.body });
      }
      if (idempotent) this.idempotency.save(apiKey, idempotencyKey, fingerprint, { status, body: responseBody });
      return respond(status, responseBody);
    } catch (error) {
      if (error instanceof FakeConnectionDropped) throw error;
      if (error instanceof StripeHttpError) return respondError(error);
      // A bug in the fake: answer like a Stripe outage, but say what broke.
      const message = error instanceof Error ? error.message : String(error);
      return respond(500, JSON.stringify({ error: { type: 'api_error', message: `Fake Stripe internal error: ${message}` } }));
    }
  };

  private expandContext(apiKey: string): ExpandContext {
    return {
      lookup: (kind, id) => {
        const found = this.store.collection(kind).get(id);
        return found ? toWire(found) : undefined;
      },
      requireRead: (kind) => {
        const permission = READ_PERMISSION[kind];
        if (!this.keys.allows(apiKey, permission)) throw permissionDenied(apiKey, FAKE_ACCOUNT_ID, permission);
      },
    };
  }
}
