/**
 * `POST /v1/invoices/:id/pay`: pay an open invoice now (retry_payment stands on it).
 *
 * Charges the amount remaining to `payment_method` / `source` if given, else the invoice's,
 * the subscription's, then the customer's default (invoice_settings.default_payment_method,
 * then default_source), as Stripe picks it. A card declines as Stripe's test cards do
 * (declines.ts) or when it has expired: the failed charge is recorded, the invoice stays open
 * with `attempt_count` + 1, and the answer is Stripe's 402 card_error with `decline_code` —
 * saved for idempotent replays like any executed request. `paid_out_of_band` marks the invoice
 * paid without charging. Paying clears a past_due subscription whose latest invoice it was.
 * Not modelled: paying a draft (Stripe finalizes it first; here 400) and invoice_payments for
 * payments made here.
 */
import type Stripe from 'stripe';
import { z } from 'zod';
import { idOf } from '../../cache/projections.js';
import { cardError, declineForCard, type Decline } from './declines.js';
import { invalidRequest } from './errors.js';
import { makeCharge, type CardSpec } from './factories.js';
import type { RouteContext } from './router.js';
import { emptyable, expandParam, formBool } from './validate.js';

export const payInvoiceParams = z.strictObject({
  expand: expandParam,
  forgive: formBool().optional(),
  mandate: emptyable(z.string()).optional(),
  off_session: formBool().optional(),
  paid_out_of_band: formBool().optional(),
  payment_method: z.string().optional(),
  source: z.string().optional(),
});
type PayParams = z.output<typeof payInvoiceParams>;

interface ResolvedCard {
  id: string;
  card: CardSpec;
}

function resolveCard(ctx: RouteContext, invoice: Stripe.Invoice, customer: Stripe.Customer, params: PayParams): ResolvedCard {
  const subscriptionId = idOf(invoice.parent?.subscription_details?.subscription);
  const subscription = subscriptionId ? ctx.store.subscriptions.get(subscriptionId) : undefined;
  const chosen =
    params.payment_method ??
    params.source ??
    idOf(invoice.default_payment_method) ??
    idOf(subscription?.default_payment_method) ??
    idOf(customer.invoice_settings.default_payment_method) ??
    idOf(customer.default_source);
  if (!chosen) {
    throw invalidRequest('This customer has no attached payment source or default payment method. Please consider adding a default payment method.');
  }
  const param = params.payment_method !== undefined ? 'payment_method' : params.source !== undefined ? 'source' : undefined;
  const method = ctx.store.paymentMethods.get(chosen);
  if (method?.card) {
    if (method.customer !== customer.id) {
      throw invalidRequest(`The payment method '${chosen}' does not belong to the customer '${customer.id}'.`, param ? { param } : {});
    }
    const c = method.card;
    return { id: method.id, card: { brand: c.brand, last4: c.last4, expMonth: c.exp_month, expYear: c.exp_year, fingerprint: c.fingerprint ?? '', country: c.country ?? 'US' } };
  }
  const source = ctx.store.sources.get(chosen);
  if (source && idOf(source.customer) === customer.id) {
    return { id: source.id, card: { brand: source.brand, last4: source.last4, expMonth: source.exp_month, expYear: source.exp_year, fingerprint: source.fingerprint ?? '' } };
  }
  throw invalidRequest(`No such payment method: '${chosen}'`, { code: 'resource_missing', status: 404, ...(param ? { param } : {}) });
}

function declineOf(card: CardSpec, now: number): Decline | undefined {
  const date = new Date(now * 1000);
  const expired = card.expYear < date.getUTCFullYear() || (card.expYear === date.getUTCFullYear() && card.expMonth < date.getUTCMonth() + 1);
  if (expired) return { code: 'expired_card', declineCode: 'expired_card', message: 'Your card has expired.' };
  return declineForCard(card.last4);
}

function markPaid(ctx: RouteContext, invoice: Stripe.Invoice, amount: number): Stripe.Invoice {
  invoice.status = 'paid';
  invoice.amount_paid += amount;
  invoice.amount_remaining = 0;
  invoice.next_payment_attempt = null;
  invoice.status_transitions.paid_at = ctx.now;
  const subscriptionId = idOf(invoice.parent?.subscription_details?.subscription);
  const subscription = subscriptionId ? ctx.store.subscriptions.get(subscriptionId) : undefined;
  if (subscription && idOf(subscription.latest_invoice) === invoice.id && (subscription.status === 'past_due' || subscription.status === 'unpaid')) {
    subscription.status = 'active';
  }
  return invoice;
}

export function payInvoice(ctx: RouteContext, invoice: Stripe.Invoice, params: PayParams): Stripe.Invoice {
  if (invoice.status === 'paid') throw invalidRequest('Invoice is already paid');
  if (invoice.status === 'void') throw invalidRequest('This invoice has been voided and can no longer be paid.');
  if (invoice.status === 'draft') throw invalidRequest('This invoice is a draft; finalize it before paying it.');
  if (params.paid_out_of_band) return markPaid(ctx, invoice, 0);
  const amount = invoice.amount_remaining;
  if (amount <= 0) return markPaid(ctx, invoice, 0);

  const customerId = idOf(invoice.customer) ?? '';
  const customer = ctx.store.liveCustomer(customerId);
  if (!customer) throw invalidRequest(`No such customer: '${customerId}'`, { code: 'resource_missing', status: 404 });
  const card = resolveCard(ctx, invoice, customer, params);
  const decline = declineOf(card.card, ctx.now);

  invoice.attempt_count += 1;
  invoice.attempted = true;
  const charge = makeCharge({
    id: ctx.store.nextId('ch'),
    customer: customer.id,
    created: ctx.now,
    amount,
    currency: invoice.currency,
    description: invoice.number ? `Payment for Invoice ${invoice.number}` : 'Payment for Invoice',
    paymentMethod: card.id,
    card: card.card,
    receiptEmail: customer.email,
    paymentIntent: ctx.store.nextId('pi'),
    ...(decline ? { status: 'failed' as const, failureCode: decline.code, failureMessage: decline.message, declineCode: decline.declineCode } : {}),
  });
  ctx.store.charges.set(charge.id, charge);
  if (decline) throw cardError(decline, charge.id);
  return markPaid(ctx, invoice, amount);
}
