import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AuditTrail } from '../audit/audit-trail.js';
import type Stripe from 'stripe';

export interface ToolCallEvent {
  tool: string;
  outcome: string;
  ms: number;
}

/** Verification outcomes worth a dashboard line; derived from the verification tools' outcomes. */
export type VerificationEvent = 'code_sent' | 'start_refused' | 'confirmed' | 'wrong_code_or_limited' | (string & {});

/**
 * What a verification tool's outcome means. Input errors are the customer's doing (a cooldown, a
 * limit, a wrong or expired code); other kinds keep their name so mail outages stay visible.
 */
function verificationEventOf(tool: string, outcome: string): VerificationEvent | undefined {
  if (tool === 'verify_email_start') return outcome === 'ok' ? 'code_sent' : outcome === 'input' ? 'start_refused' : `start_${outcome}`;
  if (tool === 'verify_email_confirm') return outcome === 'ok' ? 'confirmed' : outcome === 'input' ? 'wrong_code_or_limited' : `confirm_${outcome}`;
  return undefined;
}

/**
 * A labelled counter bumped on every call or cache read: counted in a Map of its own and handed
 * to prom-client when scraped. prom-client's `inc(labels)` hashes and checks the labels on every
 * bump, also through a `labels()` child (which only binds them), a few microseconds each time.
 * Label values come from fixed sets (tools, outcomes, route patterns, statuses), as before.
 */
class TalliedCounter<Label extends string> {
  private readonly counts = new Map<string, { labels: Record<Label, string>; count: number }>();

  constructor(registry: Registry, config: { name: string; help: string; labelNames: readonly Label[] }) {
    const counts = this.counts;
    new Counter({
      ...config,
      labelNames: [...config.labelNames],
      registers: [registry],
      collect() {
        this.reset();
        for (const { labels, count } of counts.values()) this.inc(labels, count);
      },
    });
  }

  /** `key` names the label values (joined); `labels` is only read the first time a key is seen. */
  inc(key: string, labels: () => Record<Label, string>): void {
    const tally = this.counts.get(key);
    if (tally) tally.count++;
    else this.counts.set(key, { labels: labels(), count: 1 });
  }
}

/** Prometheus metrics of one process, on its own registry (never the global one). */
export class Metrics {
  readonly registry = new Registry();
  private readonly toolCalls = new TalliedCounter(this.registry, { name: 'sbm_tool_calls_total', help: 'Tool calls by tool and outcome (ok or the error kind).', labelNames: ['tool', 'outcome'] });
  private readonly toolLatency = new Histogram({
    name: 'sbm_tool_call_duration_seconds',
    help: 'Tool call latency, Stripe included.',
    labelNames: ['tool'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly stripeRequests = new Counter({ name: 'sbm_stripe_requests_total', help: 'Requests to Stripe by method and HTTP status.', labelNames: ['method', 'status'], registers: [this.registry] });
  private readonly verifications = new Counter({ name: 'sbm_verification_events_total', help: 'Email verification outcomes.', labelNames: ['event'], registers: [this.registry] });
  private readonly verificationLocks = new Counter({ name: 'sbm_verification_locks_total', help: 'Email addresses whose code verification was locked after 10 wrong codes in 24 h (identity tokens still work).', registers: [this.registry] });
  private readonly cacheReads = new TalliedCounter(this.registry, { name: 'sbm_cache_reads_total', help: 'Cached Stripe reads: hit, miss, or error (cache unreachable, answered from Stripe).', labelNames: ['outcome'] });
  private readonly webhookEvents = new Counter({ name: 'sbm_webhook_events_total', help: 'Stripe webhook deliveries: ok, no_match (names nothing cached), duplicate, ignored (signed, but not an event object), bad_signature, error.', labelNames: ['outcome'], registers: [this.registry] });
  private readonly stripeRateLimited = new Counter({
    name: 'sbm_stripe_rate_limited_total',
    help: 'Stripe 429 answers despite the request budget, by Stripe-Rate-Limited-Reason and whether they were retried or given up.',
    labelNames: ['reason', 'outcome'],
    registers: [this.registry],
  });
  private readonly connectionsRefused = new Counter({
    name: 'sbm_connections_refused_total',
    help: 'Connections and requests refused: socket (one address over MAX_CONNECTIONS_PER_CLIENT), forwarded (one client behind TRUST_PROXY over it, answered 503), server (all 2048 connections taken).',
    labelNames: ['scope'],
    registers: [this.registry],
  });
  private readonly httpRequests = new TalliedCounter(this.registry, { name: 'sbm_http_requests_total', help: 'HTTP requests by route pattern and status.', labelNames: ['route', 'status'] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'sbm_' });
  }

  /** Fed by `ToolRuntime.observe`. */
  observeToolCall(event: ToolCallEvent): void {
    this.toolCalls.inc(`${event.tool}\n${event.outcome}`, () => ({ tool: event.tool, outcome: event.outcome }));
    this.toolLatency.observe({ tool: event.tool }, event.ms / 1000);
    const verification = verificationEventOf(event.tool, event.outcome);
    if (verification) this.observeVerification(verification);
  }

  observeVerification(event: VerificationEvent): void {
    this.verifications.inc({ event });
  }

  /** One email's codes locked (counted by the process whose wrong code locked it). */
  observeVerificationLock(): void {
    this.verificationLocks.inc();
  }

  /** `route` must be the route pattern (`/v1/tools/:name`), never the raw path. */
  observeHttp(route: string, status: number): void {
    this.httpRequests.inc(`${route}\n${status}`, () => ({ route, status: String(status) }));
  }

  observeCacheRead(outcome: string): void {
    this.cacheReads.inc(outcome, () => ({ outcome }));
  }

  observeStripeRateLimit(event: { reason: string; outcome: string }): void {
    this.stripeRateLimited.inc({ reason: event.reason, outcome: event.outcome });
  }

  observeConnectionRefused(scope: string): void {
    this.connectionsRefused.inc({ scope });
  }

  observeWebhook(outcome: string): void {
    this.webhookEvents.inc({ outcome });
  }

  /** The audit trail's counts, read at each scrape. */
  attachAudit(trail: AuditTrail): void {
    const status = () => trail.status();
    new Counter({
      name: 'sbm_audit_records_total',
      help: 'Audit records by result: written to the database, or lost (the buffer was full while the database could not be written).',
      labelNames: ['result'],
      registers: [this.registry],
      collect() {
        const now = status();
        this.reset();
        this.inc({ result: 'written' }, now.written);
        this.inc({ result: 'lost' }, now.lost);
      },
    });
    new Gauge({ name: 'sbm_audit_records_pending', help: 'Audit records waiting to be written.', registers: [this.registry], collect() { this.set(status().pending); } });
    new Gauge({ name: 'sbm_audit_behind', help: '1 while the audit trail cannot be written (records are held in memory), else 0.', registers: [this.registry], collect() { this.set(status().state === 'behind' ? 1 : 0); } });
  }

  /** Counts every Stripe response (method and status only: paths carry ids). */
  attachStripe(stripe: Stripe): void {
    stripe.on('response', (event: Stripe.ResponseEvent) => this.stripeRequests.inc({ method: event.method, status: String(event.status) }));
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
