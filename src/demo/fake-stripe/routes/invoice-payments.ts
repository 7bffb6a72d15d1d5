/**
 * Invoice payments (`GET /v1/invoice_payments?invoice=…`): how an invoice was paid, since API
 * version 2025-03-31 the way from an invoice to its charge or payment intent (request_refund
 * refunds an invoice through it). The seed does not link invoices to charges, so the fake
 * derives the link as Stripe would have made it: a paid invoice's payment is the first
 * successful charge of the same customer and amount within two days of the invoice.
 */
import type Stripe from 'stripe';
import { z } from 'zod';
import { resourceMissing } from '../errors.js';
import { paginate } from '../paginate.js';
import { defineRoute, type RouteContext } from '../router.js';
import { expandParam, formEnum, paginationShape } from '../validate.js';

const LINK_WINDOW_SECONDS = 2 * 86_400;

function paymentOf(ctx: RouteContext, invoice: Stripe.Invoice): Stripe.InvoicePayment | undefined {
  if (invoice.status !== 'paid' || invoice.amount_paid <= 0) return undefined;
  const charge = [...ctx.store.charges.values()]
    .filter((c) => c.customer === invoice.customer && c.status === 'succeeded' && c.amount === invoice.amount_paid && c.created >= invoice.created && c.created <= invoice.created + LINK_WINDOW_SECONDS)
    .sort((a, b) => a.created - b.created)[0];
  if (!charge) return undefined;
  const paidAt = invoice.status_transitions.paid_at ?? charge.created;
  return {
    id: `inpay_${invoice.id!.replace(/^in_/, '')}`,
    object: 'invoice_payment',
    amount_paid: invoice.amount_paid,
    amount_requested: invoice.amount_paid,
    created: charge.created,
    currency: invoice.currency,
    invoice: invoice.id!,
    is_default: true,
    livemode: false,
    payment: typeof charge.payment_intent === 'string' ? { type: 'payment_intent', payment_intent: charge.payment_intent } : { type: 'charge', charge: charge.id },
    status: 'paid',
    status_transitions: { canceled_at: null, paid_at: paidAt },
  } as Stripe.InvoicePayment;
}

export const listInvoicePayments = defineRoute({
  key: 'GET /v1/invoice_payments',
  params: z.strictObject({
    ...paginationShape,
    expand: expandParam,
    invoice: z.string().optional(),
    status: formEnum(['canceled', 'open', 'paid']).optional(),
  }),
  handle(ctx, params) {
    let invoices = [...ctx.store.invoices.values()];
    if (params.invoice !== undefined) {
      const invoice = ctx.store.invoices.get(params.invoice);
      if (!invoice) throw resourceMissing('invoice', params.invoice, 'invoice');
      invoices = [invoice];
    }
    const payments = invoices.map((invoice) => paymentOf(ctx, invoice)).filter((payment): payment is Stripe.InvoicePayment => payment !== undefined && (params.status === undefined || payment.status === params.status));
    return paginate(payments, params, '/v1/invoice_payments', 'invoice_payment');
  },
});

export const invoicePaymentRoutes = [listInvoicePayments];
