import type Stripe from 'stripe';
import { StripeErrors } from '../stripe/sdk.js';
import type { SlimCustomer } from '../cache/projections.js';
import { REFUND_REASONS } from '../actions/policy.js';
import { ToolError } from '../errors.js';
import { maskCard } from '../format/card.js';
import { isoDay } from '../format/dates.js';
import { money } from '../format/money.js';
import { proposeAndConfirm, requestViewSchema, summarizeRequest } from './lib/action-requests.js';
import type { ToolContext } from './lib/context.js';
import { defineTool } from './lib/define-tool.js';
import { findOwnInvoice } from './lib/own-invoice.js';
import { boundedInteger, boundedString, matching, optionalInput } from './lib/schemas.js';
import { z } from 'zod';

/**
 * One answer for "no such payment" and "another customer's payment", so ids cannot be probed;
 * it says plainly that nothing will be done with it.
 */
export const PAYMENT_NOT_FOUND_MESSAGE =
  "That payment is not on this customer's account, so it cannot be refunded here. Call get_payment_history or get_invoice_history to see this customer's payments.";

const isMissing = (error: unknown) => error instanceof StripeErrors.StripeInvalidRequestError && (error.statusCode === 404 || error.code === 'resource_missing');

const customerOf = (charge: Stripe.Charge): string | null => (typeof charge.customer === 'string' ? charge.customer : (charge.customer?.id ?? null));

/** Among a payment's charges, the one that took the money (the last success). */
function paidCharge(charges: readonly Stripe.Charge[], owners: ReadonlySet<string>): Stripe.Charge | undefined {
  return charges.filter((charge) => owners.has(customerOf(charge) ?? '')).sort((a, b) => (b.status === 'succeeded' ? 1 : 0) - (a.status === 'succeeded' ? 1 : 0) || b.created - a.created)[0];
}

async function chargesOfIntent(ctx: ToolContext, paymentIntent: string, owners: ReadonlySet<string>): Promise<Stripe.Charge | undefined> {
  const charges = await ctx.stripe.charges.list({ payment_intent: paymentIntent, limit: 10 });
  return paidCharge(charges.data, owners);
}

/** The charge that paid an invoice (Stripe's invoice payments: a charge or a payment intent). */
async function chargeOfInvoice(ctx: ToolContext, invoice: Stripe.Invoice, owners: ReadonlySet<string>): Promise<Stripe.Charge | undefined> {
  const payments = await ctx.stripe.invoicePayments.list({ invoice: invoice.id!, status: 'paid', limit: 10 });
  for (const { payment } of payments.data) {
    if (payment.type === 'charge' && payment.charge) {
      const charge = await ctx.stripe.charges.retrieve(typeof payment.charge === 'string' ? payment.charge : payment.charge.id);
      if (owners.has(customerOf(charge) ?? '')) return charge;
    } else if (payment.type === 'payment_intent' && payment.payment_intent) {
      const charge = await chargesOfIntent(ctx, typeof payment.payment_intent === 'string' ? payment.payment_intent : payment.payment_intent.id, owners);
      if (charge) return charge;
    }
  }
  return undefined;
}

/** The customer's own charge behind a charge id, payment intent or invoice; another customer's is not found. */
async function findOwnCharge(ctx: ToolContext, customers: readonly SlimCustomer[], payment: string): Promise<{ charge: Stripe.Charge; paymentIntent?: string }> {
  const owners = new Set(customers.map((customer) => customer.id));
  try {
    if (payment.startsWith('ch_') || payment.startsWith('py_')) {
      const charge = await ctx.stripe.charges.retrieve(payment);
      if (owners.has(customerOf(charge) ?? '')) return { charge };
    } else if (payment.startsWith('pi_')) {
      const charge = await chargesOfIntent(ctx, payment, owners);
      if (charge) return { charge, paymentIntent: payment };
    } else {
      const invoice = await findOwnInvoice(ctx, customers, payment);
      if (!invoice) throw new ToolError('not_found', PAYMENT_NOT_FOUND_MESSAGE);
      const label = invoice.number ?? invoice.id;
      if (invoice.status !== 'paid') throw new ToolError('refused', `Invoice ${label} is ${invoice.status ?? 'not paid'}, so there is no payment on it to refund.`);
      const charge = await chargeOfInvoice(ctx, invoice, owners).catch((error: unknown) => {
        if (isMissing(error)) return undefined;
        throw error;
      });
      if (charge) return { charge };
      throw new ToolError('refused', `The payment of invoice ${label} cannot be found here: call get_payment_history and pass that payment's id (ch_…).`);
    }
  } catch (error) {
    if (isMissing(error)) throw new ToolError('not_found', PAYMENT_NOT_FOUND_MESSAGE);
    throw error;
  }
  throw new ToolError('not_found', PAYMENT_NOT_FOUND_MESSAGE);
}

/** "the Visa card ending 4242", never more of the card. */
function cardOf(charge: Stripe.Charge): string {
  const card = charge.payment_method_details?.card;
  if (charge.payment_method_details?.type === 'card' && card?.brand && card.last4) {
    const masked = maskCard({ brand: card.brand, last4: card.last4, exp_month: card.exp_month, exp_year: card.exp_year });
    return `the ${masked.description.split(',')[0]!.replace(' ending in ', ' card ending ')}`;
  }
  return 'the payment method it was paid with';
}

export default defineTool({
  name: 'request_refund',
  title: 'Request a refund',
  description:
    "Asks for a refund of one of the customer's own payments (a charge ch_…, payment pi_… or invoice from the history tools), in full or in part, within the merchant's policy. Nothing is refunded until the customer confirms it themselves outside this chat; some refunds also need the merchant's approval. The answer says what happens next.",
  audience: 'customer',
  card: 'request',
  action: 'refund',
  discloses: ['payments', 'refunds', 'payment_method.brand', 'payment_method.last4'],
  permissions: ['rak_customer_read', 'rak_charge_read', 'rak_refund_write'],
  inputSchema: {
    payment: matching(boundedString({ min: 1, max: 64, trim: true }), /^[A-Za-z0-9_-]+$/, 'give a charge id (ch_…), payment id (pi_…) or invoice number/id').describe(
      'The payment to refund: its charge id (ch_…), payment id (pi_…), or the invoice number or id (in_…) it paid.',
    ),
    amount: optionalInput(boundedInteger(1, 99_999_999)).describe("Part of the payment to refund, in minor units of the payment's currency (2000 is $20.00). Leave null for everything left to refund."),
    reason: z.enum(REFUND_REASONS).describe("Why: duplicate (charged twice), requested_by_customer, or fraudulent. The merchant's policy decides which are allowed."),
  },
  outputSchema: { request: requestViewSchema, summary: z.string() },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  async handler(input, ctx) {
    const target = await ctx.customer();
    const { charge, paymentIntent } = await findOwnCharge(ctx, target.customers, input.payment);
    const paid = money(charge.amount, charge.currency);
    const date = isoDay(charge.created);
    if (charge.status !== 'succeeded' || !charge.paid) throw new ToolError('refused', `The ${paid.formatted} payment of ${date} did not go through, so there is nothing to refund.`);
    if (charge.disputed) throw new ToolError('refused', `The ${paid.formatted} payment of ${date} is disputed, so it cannot be refunded here; the dispute decides.`);
    const left = charge.amount - charge.amount_refunded;
    if (left <= 0) throw new ToolError('refused', `The ${paid.formatted} payment of ${date} has already been refunded in full.`);
    const amount = input.amount ?? left;
    if (amount > left) {
      throw new ToolError('refused', `Only ${money(left, charge.currency).formatted} is left to refund on the ${paid.formatted} payment of ${date}; ask for at most that.`);
    }
    const refund = money(amount, charge.currency);
    const whole = amount === charge.amount ? `your ${paid.formatted} payment of ${date} in full` : `${refund.formatted} of your ${paid.formatted} payment of ${date}`;
    const customerId = customerOf(charge)!;
    const request = await proposeAndConfirm(ctx, {
      kind: 'refund',
      customer_id: customerId,
      email: target.email,
      check: { kind: 'refund', amount, currency: charge.currency, reason: input.reason, payment_created: charge.created },
      params: { charge: charge.id, ...(paymentIntent ? { payment_intent: paymentIntent } : {}), amount, currency: charge.currency, reason: input.reason, payment_created: charge.created },
      preview: {
        summary: `Refund ${whole} to ${cardOf(charge)}`,
        when: 'Refunds reach the card in 5–10 business days',
        amount: refund,
        subject: `payment ${charge.id} of ${date}`,
      },
    });
    return { request, summary: `Refund of ${refund.formatted}: ${request.state}.` };
  },
  summarize(output) {
    return summarizeRequest(output.request);
  },
});
