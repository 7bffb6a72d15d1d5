/**
 * A fake Stripe API as a web-standard fetch handler, with a seeded demo account.
 *
 * Tests route `https://api.stripe.com/*` to `handle` through msw while the real `stripe` SDK
 * makes the calls; `--demo` serves it on a loopback port or hands it to
 * `Stripe.createFetchHttpClient`. It answers like Stripe wherever our code depends on it —
 * auth, restricted-key permissions, strict parameters, expansion, pagination, search quirks,
 * idempotency, error shapes — so a wrong use of the Stripe API fails our tests.
 *
 * Writes the action tools (issue 22) rely on: `POST /v1/refunds` (+ list, retrieve; see
 * refunds.ts for the refusals), `POST /v1/customers/:id/balance_transactions` (+ list,
 * retrieve), `pause_collection` on `POST /v1/subscriptions/:id`, `GET /v1/charges/:id`.
 * For issue 23's tools: portal `flow_data` checked per flow type (portal-flows.ts), previews of
 * a subscription change with prorations (subscription-change-preview.ts), `POST
 * /v1/invoices/:id/pay` (invoice-pay.ts), and Stripe's test-card declines (declines.ts).
 * Every POST honours `Idempotency-Key` as Stripe does (idempotency.ts).
 *
 * Hooks for tests: `failNext` / `dropNext` (before the endpoint runs, or `afterExecution`: done
 * and saved, answer lost), `holdNext` (pause a request mid-endpoint to race another against it),
 * `advanceClock` (expire idempotency keys), `restrictKey` / `revokeKey`, `requests` (what was
 * sent, with each idempotency key and status), `store` (the data), and the `actionFixtures`
 * option (DEMO.actions: alice's duplicate and partly refunded payments).
 */
import { StripeHttpError, apiError, invalidApiKey, permissionDenied, rateLimited, unrecognizedUrl } from './errors.js';
import { applyExpansions, type ExpandContext } from './expand.js';
import { FAKE_ACCOUNT_ID, makePortalConfiguration } from './factories.js';
import { FakeConnectionDropped, FakeHold, InjectionQueue, type InjectedStatus } from './failure-injection.js';
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
export { FakeConnectionDropped, FakeHold } from './failure-injection.js';
export { IDEMPOTENCY_KEY_TTL_SECONDS } from './idempotency.js';
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
  /**
   * Also seed the payments the action tools (refunds, credits, pauses) are demonstrated on:
   * alice's recent duplicate charge and a partly refunded payment (see DEMO.actions). Off by
   * default so the read-only tools' fixtures keep the shape their tests expect.
   */
  actionFixtures?: boolean;
}

/** Where a failure happens: before the endpoint runs (nothing saved), or after (result saved, answer lost). */
export interface InjectionTiming {
  /** The endpoint runs and Stripe saves its result for idempotent replays; only the answer is lost. */
  afterExecution?: boolean;
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

  private now: number;
  private readonly searchLagSeconds: number;
  private readonly keys = new ApiKeyRegistry();
  private readonly failures = new InjectionQueue<{ status: InjectedStatus; reason?: string | undefined; afterExecution: boolean }>();
  private readonly drops = new InjectionQueue<{ afterExecution: boolean }>();
  private readonly holds = new InjectionQueue<FakeHold>();
  private readonly idempotency = new IdempotencyCache();
  private readonly router = new Router(ALL_ROUTES);
  private requestSequence = 0;
  private readonly rateLimiter: FakeRateLimiter | undefined;

  constructor(options: FakeStripeOptions = {}) {
    this.now = options.now ?? Math.floor(Date.now() / 1000);
    this.searchLagSeconds = options.searchLagSeconds ?? 0;
    this.rateLimiter = options.rateLimits ? new FakeRateLimiter(options.rateLimits) : undefined;
    const portalConfigured = options.portalConfigured ?? true;
    if (options.seed ?? true) seedDemoAccount(this.store, { now: this.now, portalConfigured, actionFixtures: options.actionFixtures ?? false });
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

  /**
   * The next matching request(s) fail with a Stripe-shaped 429/5xx. `reason`: a 429's
   * Stripe-Rate-Limited-Reason (global-rate, endpoint-rate, …). By default the endpoint does
   * not run (a retry with the same idempotency key executes for real); with `afterExecution`
   * it runs and its result is saved, so a retry with the same key gets the replay.
   */
  failNext(opts: { status: InjectedStatus; path?: string | RegExp; method?: string; times?: number; reason?: string } & InjectionTiming): void {
    this.failures.add({ status: opts.status, reason: opts.reason, afterExecution: opts.afterExecution ?? false }, { path: opts.path, method: opts.method }, opts.times ?? 1);
  }

  /** The next matching request(s) lose their connection; `afterExecution` as for failNext. */
  dropNext(opts: { path?: string | RegExp; method?: string; times?: number } & InjectionTiming = {}): void {
    this.drops.add({ afterExecution: opts.afterExecution ?? false }, { path: opts.path, method: opts.method }, opts.times ?? 1);
  }

  /**
   * The next matching request pauses inside the endpoint until `release()`; `reached`
   * resolves when it gets there. While it waits, its idempotency key is in use (409).
   */
  holdNext(opts: { path?: string | RegExp; method?: string } = {}): FakeHold {
    const hold = new FakeHold();
    this.holds.add(hold, { path: opts.path, method: opts.method });
    return hold;
  }

  /** Moves the fake's clock (object `created`, expiry checks, idempotency-key age) forward. */
  advanceClock(seconds: number): void {
    this.now += seconds;
  }

  /** What the rate limiter saw (`rateLimits` option): 429s sent and the busiest second per limit. */
  rateLimitStats(): RateLimitStats | undefined {
    return this.rateLimiter?.stats();
  }

  /** Stripe recovers: forget every pending failNext/dropNext. */
  clearFailures(): void {
    this.failures.clear();
    this.drops.clear();
    this.holds.clear();
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

      const drop = this.drops.take(method, path);
      const dropConnection = (): never => {
        this.requests.push({ method, path, params, apiKey, status: 0, ...(idempotencyKey !== undefined ? { idempotencyKey } : {}) });
        throw new FakeConnectionDropped(method, path);
      };
      if (drop && !drop.afterExecution) dropConnection();
      const injected = this.failures.take(method, path);
      const injectedResponse = (failure: { status: InjectedStatus; reason?: string | undefined }): Response =>
        failure.status === 429
          ? respond(429, JSON.stringify({ error: rateLimited().body }), failure.reason ? { 'Stripe-Rate-Limited-Reason': failure.reason } : {})
          : respondError(apiError(failure.status));
      if (injected && !injected.afterExecution) return injectedResponse(injected);
      const overLimit = this.rateLimiter?.admit(this.router.match(method, path)?.route.key ?? `${method} ${path}`);
      if (overLimit) return respond(429, JSON.stringify({ error: rateLimited().body }), { 'Stripe-Rate-Limited-Reason': overLimit });

      if (!this.keys.isValid(apiKey)) throw invalidApiKey(apiKey);

      const fingerprint = JSON.stringify([method, path, params]);
      const idempotent = method === 'POST' && idempotencyKey !== undefined;
      let status = 200;
      let responseBody: string;
      let replayHeaders: Record<string, string> = {};
      const saved = idempotent ? this.idempotency.replay(apiKey, idempotencyKey, fingerprint, this.now) : undefined;
      if (saved) {
        status = saved.status;
        responseBody = saved.body;
        replayHeaders = { 'Idempotent-Replayed': 'true', 'Original-Request': saved.requestId };
      } else {
        const match = this.router.match(method, path);
        if (!match) throw unrecognizedUrl(method, path);
        if (!this.keys.allows(apiKey, match.permission)) throw permissionDenied(apiKey, FAKE_ACCOUNT_ID, match.permission);
        const validated = validateParams(match.route.params, params);

        // The endpoint has started executing: the key is in use until Stripe saves its result,
        // error or not, for replays.
        if (idempotent) this.idempotency.begin(apiKey, idempotencyKey);
        try {
          const hold = this.holds.take(method, path);
          if (hold) await hold.enter();
          const ctx: RouteContext = {
            store: this.store,
            now: this.now,
            pathParams: match.pathParams,
            searchVisibleBefore: this.now - this.searchLagSeconds,
          };
          try {
            const wire = toWire(match.route.handle(ctx, validated));
            applyExpansions(wire, expandPathsOf(validated), this.expandContext(apiKey));
            responseBody = JSON.stringify(wire);
          } catch (error) {
            if (!(error instanceof StripeHttpError)) throw error;
            status = error.status;
            responseBody = JSON.stringify({ error: error.body });
          }
          if (idempotent) this.idempotency.save(apiKey, idempotencyKey, fingerprint, { status, body: responseBody, requestId }, this.now);
        } finally {
          if (idempotent) this.idempotency.release(apiKey, idempotencyKey);
        }
      }
      // Failures injected "after execution": the work is done (and saved), the answer is lost.
      if (drop) dropConnection();
      if (injected) return injectedResponse(injected);
      return respond(status, responseBody, replayHeaders);
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
