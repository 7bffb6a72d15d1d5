/**
 * Refund bookkeeping shared by POST /v1/refunds and the seed: what is left to refund on a
 * charge, Stripe's refusals, and the charge fields a refund changes.
 *
 * A refund moves `amount_refunded` up, sets `refunded` once nothing is left, and is listed
 * newest first in the charge's `refunds` (which Stripe returns only when expanded). The
 * refusals carry Stripe's codes and wording, because the action tools turn them into a
 * `failed` request with a safe reason:
 * - `charge_already_refunded` — nothing is left to refund;
 * - `amount_too_large` (param `amount`) — "Refund amount ($50.00) is greater than unrefunded
 *   amount on charge ($44.00)";
 * - `charge_not_refundable` — the charge did not succeed (failed or pending).
 */
import type Stripe from 'stripe';
import { invalidRequest } from './errors.js';
import { makeRefund } from './factories.js';
import type { FakeStripeStore } from './store.js';
import { formatMinor } from './money.js';

/** Minor units still refundable on a charge. */
export function refundableAmount(charge: Stripe.Charge): number {
  return Math.max(0, charge.amount_captured - charge.amount_refunded);
}

/** Throws Stripe's 400 when `amount` (default: all that is left) cannot be refunded. */
export function assertRefundable(charge: Stripe.Charge, amount: number | undefined): number {
  if (charge.status !== 'succeeded' || !charge.captured) {
    throw invalidRequest(`Charge ${charge.id} cannot be refunded because its status is ${charge.status}.`, { code: 'charge_not_refundable', param: 'charge' });
  }
  const left = refundableAmount(charge);
  if (left <= 0 || charge.refunded) throw invalidRequest(`Charge ${charge.id} has already been refunded.`, { code: 'charge_already_refunded' });
  const wanted = amount ?? left;
  if (wanted > left) {
    throw invalidRequest(
      `Refund amount (${formatMinor(wanted, charge.currency)}) is greater than unrefunded amount on charge (${formatMinor(left, charge.currency)})`,
      { code: 'amount_too_large', param: 'amount' },
    );
  }
  return wanted;
}

/** Creates the refund and updates its charge; the caller has already checked the amount. */
export function recordRefund(
  store: FakeStripeStore,
  charge: Stripe.Charge,
  spec: { amount: number; created: number; reason: Stripe.Refund.Reason | null; metadata?: Record<string, string>; id?: string },
): Stripe.Refund {
  const refund = makeRefund({
    id: spec.id ?? store.nextId('re'),
    created: spec.created,
    charge,
    amount: spec.amount,
    reason: spec.reason,
    ...(spec.metadata ? { metadata: spec.metadata } : {}),
  });
  store.refunds.set(refund.id, refund);
  charge.amount_refunded += refund.amount;
  charge.refunded = charge.amount_refunded >= charge.amount_captured;
  const refunds = charge.refunds ?? { object: 'list' as const, data: [], has_more: false, url: `/v1/charges/${charge.id}/refunds` };
  refunds.data = [refund, ...refunds.data];
  charge.refunds = refunds;
  return refund;
}
