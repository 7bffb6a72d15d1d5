import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type Stripe from 'stripe';

/** Prometheus metrics of one process, on its own registry (never the global one). */
export class Metrics {
  readonly registry = new Registry();
  private readonly toolCalls = new Counter({ name: 'sbm_tool_calls_total', help: 'Tool calls by tool and outcome (ok or the error kind).', labelNames: ['tool', 'outcome'], registers: [this.registry] });
  private readonly toolLatency = new Histogram({
    name: 'sbm_tool_call_duration_seconds',
    help: 'Tool call latency, Stripe included.',
    labelNames: ['tool'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly stripeRequests = new Counter({ name: 'sbm_stripe_requests_total', help: 'Requests to Stripe by method and HTTP status.', labelNames: ['method', 'status'], registers: [this.registry] });
  private readonly verifications = new Counter({ name: 'sbm_verification_events_total', help: 'Email verification outcomes.', labelNames: ['event'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'sbm_' });
  }

  observeToolCall(event: { tool: string; outcome: string; ms: number }): void {
    this.toolCalls.inc({ tool: event.tool, outcome: event.outcome });
    this.toolLatency.observe({ tool: event.tool }, event.ms / 1000);
    if (event.tool === 'verify_email_start') this.verifications.inc({ event: event.outcome === 'ok' ? 'code_sent' : `start_${event.outcome}` });
    if (event.tool === 'verify_email_confirm') this.verifications.inc({ event: event.outcome === 'ok' ? 'confirmed' : `confirm_${event.outcome}` });
  }

  /** Counts every Stripe response (method and status only: paths carry ids). */
  attachStripe(stripe: Stripe): void {
    stripe.on('response', (event: { method: string; status: number }) => this.stripeRequests.inc({ method: event.method, status: String(event.status) }));
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
