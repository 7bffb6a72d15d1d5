/**
 * Carrying out a claimed request on Stripe, exactly once.
 *
 * 1. Only a claim calls Stripe: it is made by the one compare-and-set that moved the request
 *    into `executing` (requests.ts), so a double click or two processes make one claim.
 * 2. Every call for a request carries the same idempotency key, `sbm-<request id>`. Stripe saves
 *    the first answer to a key and replays it for 24 hours at least; a repeated call with the
 *    same key and parameters creates nothing new (docs.stripe.com/api/idempotent_requests).
 * 3. A timeout, a connection error, a 429, a 409 "key in use" or a 5xx is retried here with that
 *    key, a few times with backoff. A definite refusal (a 4xx Stripe card or request error) ends
 *    in `failed` with a safe reason; success ends in `done` with the Stripe object's id.
 * 4. When the retries run out, or the process dies mid-call, the request stays in `executing`:
 *    the outcome is unknown, so nothing says `failed` while a refund may have happened.
 *    `resumeQuietExecutions` (run on a timer, from any process) takes over such a claim with a
 *    compare-and-set (one resumer wins) and calls again with the same key: Stripe either replays
 *    the first result or, if the first call never reached it, makes the object now, once.
 *    Past `IDEMPOTENCY_WINDOW_MS` Stripe may have forgotten the key and a call could act twice,
 *    so such requests are not called again: they are returned for a person to reconcile (Stripe's
 *    dashboard, or a list of the charge's refunds filtered by the request id in metadata).
 *    Stripe saves a 5xx answer too when its endpoint had started: replays of that key answer the
 *    same 5xx, so such a request also ends with a person, after the retries.
 */
import type Stripe from 'stripe';
import { StripeErrors } from '../stripe/sdk.js';
import { DECLINE_REASONS, explainDecline } from '../stripe/decline-reasons.js';
import type { ActionRequest, ExecutionClaim, RequestStore } from './requests.js';

/** Stripe keeps idempotency keys at least 24 hours; stop re-calling an hour before that. */
export const IDEMPOTENCY_WINDOW_MS = 23 * 60 * 60 * 1000;
/** How long an execution may stay quiet before a resumer takes it over. */
export const QUIET_EXECUTION_MS = 2 * 60 * 1000;
export const RETRY_DELAYS_MS: readonly number[] = [250, 1_000, 4_000];

export function idempotencyKeyFor(requestId: string): string {
  return `sbm-${requestId}`;
}

/** The Stripe call of one kind of request (refunds.create, a balance transaction, pause_collection). Resolves to the created or changed object's id. */
export type StripeCall = (request: ActionRequest, idempotencyKey: string) => Promise<{ stripe_object_id: string }>;

export type FailureClass = { retry: true } | { retry: false; definite: true; reason: string } | { retry: false; definite: false };

/** Safe words for Stripe's refusals, by Stripe's error code; Stripe's own message never reaches the customer. */
const REFUSAL_REASONS: Record<string, string> = {
  charge_already_refunded: 'This payment has already been refunded.',
  charge_disputed: 'This payment is disputed, so it cannot be refunded here; the dispute decides.',
  amount_too_large: 'The amount is more than what is left to refund on this payment.',
  amount_too_small: 'The amount is too small to refund.',
  balance_insufficient: "The merchant's account cannot cover this refund right now; the merchant has been told.",
  resource_missing: 'The payment or subscription no longer exists.',
  expired_card: 'The card this payment was made with has expired, so the refund cannot go back to it.',
  card_declined: 'The card this payment was made with refused the refund.',
  subscription_canceled: 'The subscription is canceled, so it cannot be paused or resumed.',
};
const DEFAULT_REFUSAL = 'The billing system refused this request.';
export const MISSING_PERMISSION_REASON = "The merchant's Stripe key is not allowed to do this yet, so nothing was changed; the merchant's team has been told.";

/**
 * A call that stopped before asking Stripe to change anything, for a reason the customer may
 * read (a plan change whose price moved since its preview): it fails now, never retried.
 */
export class DefiniteFailure extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'DefiniteFailure';
  }
}

/**
 * A card that declined a payment (retry_payment): the decline table's words for the customer, never
 * the issuer's text (Stripe's `message`). A definite end: a call with the same key replays the same
 * decline, and a new attempt after the card is updated is a new request. Undefined for a card error
 * that is not a decline.
 */
function cardDeclineReason(error: Stripe.errors.StripeCardError): string | undefined {
  const code = error.decline_code || error.code;
  if (error.code !== 'card_declined' && !(code && code in DECLINE_REASONS)) return undefined;
  const decline = explainDecline(code, 'customer');
  return `The card was not charged: ${decline.reason.charAt(0).toLowerCase()}${decline.reason.slice(1)} ${decline.whatToDo}`;
}

/** Whether an error from a Stripe call is worth the same call again. */
export function classifyStripeFailure(error: unknown): FailureClass {
  if (error instanceof DefiniteFailure) return { retry: false, definite: true, reason: error.reason };
  if (error instanceof StripeErrors.StripeIdempotencyError) {
    // 409 "in use": the same key is running elsewhere, wait for it. Any other idempotency error means
    // this key was used with other parameters: what happened then is not known here.
    return error.code === 'idempotency_key_in_use' || error.statusCode === 409 ? { retry: true } : { retry: false, definite: false };
  }
  if (error instanceof StripeErrors.StripeConnectionError || error instanceof StripeErrors.StripeAPIError || error instanceof StripeErrors.StripeRateLimitError) return { retry: true };
  if (error instanceof StripeErrors.StripeError) {
    const status = error.statusCode ?? 0;
    if (status >= 500 || status === 429 || status === 409) return { retry: true };
    // A missing permission: Stripe refused before doing anything, so nothing happened. Waiting up to
    // a day for the merchant to fix the key would leave the customer hanging: it fails now, in words
    // that say so, and the customer asks again once the key is fixed.
    if (error instanceof StripeErrors.StripePermissionError) return { retry: false, definite: true, reason: MISSING_PERMISSION_REASON };
    // A revoked or rolled key is the merchant's set-up, usually fixed soon: it stays for the resumer.
    if (error instanceof StripeErrors.StripeAuthenticationError) return { retry: false, definite: false };
    if (error instanceof StripeErrors.StripeCardError) {
      const declined = cardDeclineReason(error);
      if (declined) return { retry: false, definite: true, reason: declined };
    }
    if (status >= 400 && status < 500) return { retry: false, definite: true, reason: REFUSAL_REASONS[error.code ?? ''] ?? DEFAULT_REFUSAL };
  }
  // Not an answer from Stripe (our own bug, a dropped socket the SDK did not wrap): unknown.
  return { retry: false, definite: false };
}

export type ExecutionResult =
  | { outcome: 'done'; request: ActionRequest; attempts: number }
  | { outcome: 'failed'; request: ActionRequest; attempts: number }
  /** Still `executing`: Stripe's answer is not known (retries ran out, or not a Stripe answer). The resumer tries again. */
  | { outcome: 'unknown'; request: ActionRequest; attempts: number; error: unknown }
  /** The claim was taken over meanwhile; the row holds whatever its new holder recorded. */
  | { outcome: 'superseded'; request: ActionRequest; attempts: number };

export interface ExecuteOptions {
  delaysMs?: readonly number[];
  sleep?: (ms: number) => Promise<void>;
  classify?: (error: unknown) => FailureClass;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Calls Stripe for a claimed request, with its one idempotency key, and records the outcome with a compare-and-set. */
export async function executeOnce(requests: RequestStore, claim: ExecutionClaim, call: StripeCall, options: ExecuteOptions = {}): Promise<ExecutionResult> {
  const delays = options.delaysMs ?? RETRY_DELAYS_MS;
  const sleep = options.sleep ?? sleepFor;
  const classify = options.classify ?? classifyStripeFailure;
  const key = idempotencyKeyFor(claim.request.id);
  const recorded = async (outcome: Parameters<RequestStore['finish']>[1], attempts: number): Promise<ExecutionResult> => {
    const request = await requests.finish(claim, outcome);
    if (!request) return { outcome: 'superseded', request: (await requests.get(claim.request.id)) ?? claim.request, attempts };
    return { outcome: request.state === 'done' ? 'done' : 'failed', request, attempts };
  };
  for (let attempt = 1; ; attempt++) {
    try {
      const { stripe_object_id } = await call(claim.request, key);
      return recorded({ stripe_object_id }, attempt);
    } catch (error) {
      const kind = classify(error);
      if (!kind.retry && kind.definite) return recorded({ failure_reason: kind.reason }, attempt);
      const delay = delays[attempt - 1];
      if (!kind.retry || delay === undefined) return { outcome: 'unknown', request: claim.request, attempts: attempt, error };
      await sleep(delay);
    }
  }
}

/**
 * Takes over executions that went quiet (a crash, retries that ran out) and calls again with the
 * same key. Those older than Stripe's idempotency window are not called: they come back in
 * `reconcile` for a person.
 */
export async function resumeQuietExecutions(
  requests: RequestStore,
  /** Whose executions: `callFor` calls this merchant's Stripe account only. */
  tenantId: string | null,
  callFor: (request: ActionRequest) => StripeCall,
  options: ExecuteOptions & { quietForMs?: number } = {},
): Promise<{ resumed: ExecutionResult[]; reconcile: ActionRequest[] }> {
  const now = requests.now;
  const quiet = await requests.quietExecutions(tenantId, options.quietForMs ?? QUIET_EXECUTION_MS);
  const resumed: ExecutionResult[] = [];
  const reconcile: ActionRequest[] = [];
  for (const request of quiet) {
    // The first call went out no earlier than the move into `executing`.
    if (now() - Date.parse(request.claimed_at ?? request.created_at) > IDEMPOTENCY_WINDOW_MS) {
      reconcile.push(request);
      continue;
    }
    const claim = await requests.resume(request);
    if (claim) resumed.push(await executeOnce(requests, claim, callFor(request), options));
  }
  return { resumed, reconcile };
}
