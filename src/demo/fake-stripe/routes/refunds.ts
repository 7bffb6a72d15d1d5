/**
 * Refunds: create (on a charge or a payment intent, all or part of what is left), list (by
 * charge or payment intent) and retrieve. Only card refunds that succeed at once are modelled;
 * the refusals Stripe gives for over-refunding live in ../refunds.ts.
 */
import type Stripe from 'stripe';
import { z } from 'zod';
import { invalidRequest, resourceMissing } from '../errors.js';
import { paginate } from '../paginate.js';
import { assertRefundable, recordRefund } from '../refunds.js';
import { defineRoute, type RouteContext } from '../router.js';
import { expandParam, formBool, formEnum, formInt, matchesRange, metadataFrom, metadataParam, paginationShape, rangeParam } from '../validate.js';

export const REFUND_REASONS = ['duplicate', 'fraudulent', 'requested_by_customer'] as const;

function chargeOfPaymentIntent(ctx: RouteContext, paymentIntent: string): Stripe.Charge {
  const charges = [...ctx.store.charges.values()].filter((c) => c.payment_intent === paymentIntent);
  if (charges.length === 0) throw resourceMissing('payment_intent', paymentIntent, 'payment_intent');
  // A payment intent's refund goes to its successful charge (its latest_charge).
  const succeeded = charges.filter((c) => c.status === 'succeeded').sort((a, b) => b.created - a.created)[0];
  if (!succeeded) {
    throw invalidRequest(`PaymentIntent ${paymentIntent} does not have a successful charge to refund.`, { code: 'charge_not_refundable', param: 'payment_intent' });
  }
  return succeeded;
}

function chargeToRefund(ctx: RouteContext, params: { charge?: string | undefined; payment_intent?: string | undefined }): Stripe.Charge {
  if (params.charge !== undefined) {
    const charge = ctx.store.charges.get(params.charge);
    if (!charge) throw resourceMissing('charge', params.charge, 'charge');
    if (params.payment_intent !== undefined && charge.payment_intent !== params.payment_intent) {
      throw invalidRequest(`Charge ${charge.id} does not belong to PaymentIntent ${params.payment_intent}.`, { param: 'payment_intent' });
    }
    return charge;
  }
  if (params.payment_intent !== undefined) return chargeOfPaymentIntent(ctx, params.payment_intent);
  throw invalidRequest('One of the following params should be provided for this request: charge or payment_intent.', { code: 'parameter_missing', param: 'charge' });
}

export const createRefund = defineRoute({
  key: 'POST /v1/refunds',
  params: z.strictObject({
    amount: formInt({ min: 1 }).optional(),
    charge: z.string().optional(),
    currency: z.string().optional(),
    customer: z.string().optional(),
    expand: expandParam,
    instructions_email: z.string().optional(),
    metadata: metadataParam,
    origin: formEnum(['customer_balance']).optional(),
    payment_intent: z.string().optional(),
    reason: formEnum(REFUND_REASONS).optional(),
    refund_application_fee: formBool().optional(),
    reverse_transfer: formBool().optional(),
  }),
  handle(ctx, params) {
    if (params.origin !== undefined) throw invalidRequest('Refunds with origin customer_balance need a customer cash balance, which the fake Stripe does not model.', { param: 'origin' });
    const charge = chargeToRefund(ctx, params);
    if (params.currency !== undefined && params.currency.toLowerCase() !== charge.currency) {
      throw invalidRequest(`The currency ${params.currency} does not match the currency of charge ${charge.id} (${charge.currency}).`, { param: 'currency' });
    }
    const chargeCustomer = typeof charge.customer === 'string' ? charge.customer : (charge.customer?.id ?? null);
    if (params.customer !== undefined && params.customer !== chargeCustomer) {
      throw invalidRequest(`Charge ${charge.id} does not belong to customer ${params.customer}.`, { param: 'customer' });
    }
    const amount = assertRefundable(charge, params.amount);
    return recordRefund(ctx.store, charge, { amount, created: ctx.now, reason: params.reason ?? null, metadata: metadataFrom(params.metadata) });
  },
});

export const listRefunds = defineRoute({
  key: 'GET /v1/refunds',
  params: z.strictObject({
    ...paginationShape,
    charge: z.string().optional(),
    created: rangeParam,
    payment_intent: z.string().optional(),
  }),
  handle(ctx, params) {
    const refunds = [...ctx.store.refunds.values()].filter(
      (r) =>
        (params.charge === undefined || r.charge === params.charge) &&
        (params.payment_intent === undefined || r.payment_intent === params.payment_intent) &&
        matchesRange(r.created, params.created),
    );
    return paginate(refunds, params, '/v1/refunds', 'refund');
  },
});

export const retrieveRefund = defineRoute({
  key: 'GET /v1/refunds/:id',
  params: z.strictObject({ expand: expandParam }),
  handle(ctx) {
    const id = ctx.pathParams.id ?? '';
    const refund = ctx.store.refunds.get(id);
    if (!refund) throw resourceMissing('refund', id);
    return refund;
  },
});

export const refundRoutes = [createRefund, listRefunds, retrieveRefund];
