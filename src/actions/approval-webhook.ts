/**
 * APPROVAL_WEBHOOK_URL: each request that now waits for a staff approval is POSTed there as JSON,
 *
 *   { "type": "action_request.awaiting_approval",
 *     "request": { id, kind, customer_id, email, amount, preview, approval_because, created_at },
 *     "text": "<one line a Slack-compatible incoming webhook displays>" }
 *
 * signed the way Stripe signs its webhooks (APPROVAL_WEBHOOK_SECRET):
 *
 *   X-Stripe-Billing-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 *
 * A receiver recomputes the HMAC over the raw body, compares in constant time and refuses a `t`
 * more than 5 minutes old (verifyApprovalSignature below). Without a secret the POST goes
 * unsigned: right for a Slack incoming webhook, whose URL is itself the credential and which
 * ignores headers; anything else should set the secret (the server warns at start).
 *
 * Delivery never blocks the confirmation or approval that caused it: notify() only queues. A
 * network error, a timeout, a 429 or a 5xx is retried after 1 s, 5 s, 30 s, 2 min and 10 min;
 * any other answer ends it. The queue is bounded; the panel and GET /v1/requests list every
 * waiting request whatever happened here. The request's id is the same on every attempt, so a
 * receiver drops duplicates by it. Logs name the receiver's host only: a Slack webhook URL's path
 * is its secret.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Logger } from '../log.js';
import { approvalBecause, previewSummary } from './request-preview.js';
import type { ActionRequest } from './requests.js';

export const SIGNATURE_HEADER = 'X-Stripe-Billing-Signature';
export const EVENT_TYPE = 'action_request.awaiting_approval';
export const RETRY_DELAYS_MS: readonly number[] = [1_000, 5_000, 30_000, 120_000, 600_000];
/** Deliveries waiting or under way at once; beyond it a new one is dropped (and logged). */
export const MAX_PENDING = 1_000;
const ATTEMPT_TIMEOUT_MS = 10_000;
const CONCURRENCY = 4;
/** How old a signature's timestamp may be, as Stripe's libraries default to. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export interface ApprovalWebhookOptions {
  url: string;
  secret?: string | undefined;
  /** PUBLIC_URL: the `text` links to the panel's Requests page. */
  publicUrl?: string | undefined;
  merchantName?: string | undefined;
  log: Logger;
  /** Tests: shorter delays, another fetch, a fixed clock. */
  delaysMs?: readonly number[];
  fetch?: typeof fetch;
  maxPending?: number;
  attemptTimeoutMs?: number;
  now?: () => number;
}

export interface ApprovalWebhookBody {
  type: typeof EVENT_TYPE;
  request: {
    id: string;
    kind: string;
    customer_id: string;
    email: string | null;
    amount: unknown;
    preview: Record<string, unknown>;
    approval_because: string[];
    created_at: string;
  };
  text: string;
}

/** `t=…,v1=…` for a body sent at `t` (unix seconds). */
export function signApprovalWebhook(secret: string, body: string, t: number): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/** What a receiver runs: the header is this body's, under this secret, and recent. */
export function verifyApprovalSignature(secret: string, body: string, header: string | null | undefined, nowSeconds = Math.floor(Date.now() / 1000), toleranceSeconds = SIGNATURE_TOLERANCE_SECONDS): boolean {
  if (!header) return false;
  const parts = header.split(',').map((part) => part.trim().split('='));
  const t = Number(parts.find(([name]) => name === 't')?.[1]);
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${body}`).digest('hex'));
  return parts.some(([name, value]) => {
    if (name !== 'v1' || value === undefined) return false;
    const given = Buffer.from(value);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

/** Slack reads `&`, `<` and `>` as markup (links, @channel): merchant- and customer-made text is escaped. */
const slackEscape = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

export function approvalWebhookBody(request: ActionRequest, options: { publicUrl?: string | undefined; merchantName?: string | undefined }): ApprovalWebhookBody {
  const because = approvalBecause(request);
  const { approval_because: _stored, ...preview } = request.preview;
  const link = options.publicUrl ? ` Approve or deny: ${options.publicUrl.replace(/\/$/, '')}/panel/requests#${request.id}` : ' Approve or deny it in the panel’s Requests page.';
  const text =
    `${options.merchantName ? `[${slackEscape(options.merchantName)}] ` : ''}A ${request.kind} request waits for approval: ${slackEscape(previewSummary(request))}` +
    ` (${slackEscape(request.email ?? request.customer_id)})` +
    (because.length > 0 ? ` Needs approval because: ${slackEscape(because.join('; '))}.` : '') +
    link;
  return {
    type: EVENT_TYPE,
    request: {
      id: request.id,
      kind: request.kind,
      customer_id: request.customer_id,
      email: request.email,
      amount: preview.amount ?? null,
      preview,
      approval_because: because,
      created_at: request.created_at,
    },
    text,
  };
}

interface Delivery {
  request: string;
  body: string;
  attempt: number;
}

type AttemptOutcome = { delivered: true; status: number } | { delivered: false; retry: boolean; why: string };

export class ApprovalWebhook {
  private readonly host: string;
  private readonly ready: Delivery[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private pending = 0;
  private active = 0;
  private closed = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: ApprovalWebhookOptions) {
    this.host = new URL(options.url).host;
  }

  /** Queues one request's POST; returns at once, never throws (the engine's onAwaitingApproval). */
  notify(request: ActionRequest): void {
    if (this.closed) return;
    if (this.pending >= (this.options.maxPending ?? MAX_PENDING)) {
      this.options.log.error({ request: request.id, webhook: this.host }, 'approval webhook: too many deliveries waiting; this one is dropped (the panel still lists the request)');
      return;
    }
    let body: string;
    try {
      body = JSON.stringify(approvalWebhookBody(request, this.options));
    } catch {
      return;
    }
    this.pending++;
    this.ready.push({ request: request.id, body, attempt: 1 });
    this.pump();
  }

  /** Tests and shutdown: resolves once nothing is waiting or under way. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops: deliveries not under way now (queued, or waiting to retry) are dropped. */
  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.ready.length = 0;
    // Attempts under way finish (and count down) by themselves.
    this.pending = this.active;
    this.settle();
  }

  private pump(): void {
    while (!this.closed && this.active < CONCURRENCY && this.ready.length > 0) {
      const delivery = this.ready.shift()!;
      this.active++;
      void this.attempt(delivery)
        .then((outcome) => this.after(delivery, outcome))
        .finally(() => {
          this.active--;
          this.pump();
        });
    }
  }

  private after(delivery: Delivery, outcome: AttemptOutcome): void {
    const log = this.options.log;
    if (outcome.delivered) {
      log.info({ request: delivery.request, webhook: this.host, attempts: delivery.attempt, status: outcome.status }, 'approval webhook delivered');
      return this.finish();
    }
    const delay = (this.options.delaysMs ?? RETRY_DELAYS_MS)[delivery.attempt - 1];
    if (!outcome.retry || delay === undefined || this.closed) {
      log.error({ request: delivery.request, webhook: this.host, attempts: delivery.attempt, why: outcome.why }, 'approval webhook not delivered; the request still waits in the panel');
      return this.finish();
    }
    log.warn({ request: delivery.request, webhook: this.host, attempt: delivery.attempt, why: outcome.why, retryInMs: delay }, 'approval webhook attempt failed; retrying');
    // Still pending (counted against the bound) while it waits.
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.ready.push({ ...delivery, attempt: delivery.attempt + 1 });
      this.pump();
    }, delay);
    timer.unref();
    this.timers.add(timer);
  }

  private finish(): void {
    this.pending--;
    this.settle();
  }

  private settle(): void {
    if (this.pending > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private async attempt(delivery: Delivery): Promise<AttemptOutcome> {
    const t = Math.floor((this.options.now?.() ?? Date.now()) / 1000);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'stripe-billing-mcp approval webhook' };
    if (this.options.secret) headers[SIGNATURE_HEADER] = signApprovalWebhook(this.options.secret, delivery.body, t);
    try {
      const response = await (this.options.fetch ?? fetch)(this.options.url, {
        method: 'POST',
        headers,
        body: delivery.body,
        // A redirect would resend the body elsewhere: an answer, not a hop.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.attemptTimeoutMs ?? ATTEMPT_TIMEOUT_MS),
      });
      // The receiver's body is not ours to log (Slack echoes errors with the channel name); drained only.
      await response.body?.cancel().catch(() => undefined);
      if (response.status >= 200 && response.status < 300) return { delivered: true, status: response.status };
      return { delivered: false, retry: response.status === 429 || response.status >= 500, why: `HTTP ${response.status}` };
    } catch (error) {
      // Never the message: it may quote the URL. The name (TimeoutError, TypeError) and the socket's code say enough.
      const cause = error instanceof Error && error.cause instanceof Error ? (error.cause as Error & { code?: string }).code : undefined;
      return { delivered: false, retry: true, why: [error instanceof Error ? error.name : 'error', cause].filter(Boolean).join(' ') };
    }
  }
}

/**
 * The notifier APPROVAL_WEBHOOK_URL asks for, or none. Unsigned (no APPROVAL_WEBHOOK_SECRET) is
 * said once at start, except for Slack's own incoming webhooks, which cannot check a signature.
 */
export function approvalWebhookFrom(
  settings: { APPROVAL_WEBHOOK_URL?: string | undefined; APPROVAL_WEBHOOK_SECRET?: string | undefined; PUBLIC_URL?: string | undefined; MERCHANT_NAME?: string | undefined },
  log: Logger,
): ApprovalWebhook | undefined {
  const url = settings.APPROVAL_WEBHOOK_URL;
  if (!url) return undefined;
  const host = new URL(url).hostname;
  if (!settings.APPROVAL_WEBHOOK_SECRET && host !== 'hooks.slack.com') {
    log.warn({ webhook: new URL(url).host }, `approval webhook: APPROVAL_WEBHOOK_SECRET is not set, so its POSTs are unsigned and the receiver cannot tell them from forged ones; set it (32+ bytes) and verify the ${SIGNATURE_HEADER} header`);
  }
  return new ApprovalWebhook({ url, secret: settings.APPROVAL_WEBHOOK_SECRET, publicUrl: settings.PUBLIC_URL, merchantName: settings.MERCHANT_NAME, log: log.child({ component: 'approval-webhook' }) });
}
