/**
 * retry_payment: pay an open invoice now, once, with the payment method Stripe would charge
 * (after the customer updated their card, instead of waiting for Stripe's next automatic
 * attempt). The customer confirms it outside the chat; the engine makes one `invoices.pay` with
 * the request's idempotency key, and a decline ends the request `failed` in plain words.
 *
 * Everything here is read from Stripe now, not from the cache: the card was often changed a
 * minute ago in the billing portal, and the preview must name the card that will be charged.
 */
import type Stripe from 'stripe';
import { z } from 'zod';
import { idOf, projectCustomer, projectSubscription } from '../cache/projections.js';
import { ToolError, UserInputError } from '../errors.js';
import { money } from '../format/money.js';
import type { MaskedPaymentMethod } from '../format/card.js';
import { actionsOf, proposeAndConfirm, requestViewSchema, summarizeRequest } from './lib/action-requests.js';
import type { ToolContext } from './lib/context.js';
import { accountDefaultPaymentMethod, subscriptionOwnPaymentMethod } from './lib/default-payment-method.js';
import { defineTool } from './lib/define-tool.js';
import { findOwnInvoice } from './lib/own-invoice.js';
import { boundedString, matching, optionalInput } from './lib/schemas.js';
import { INVOICE_NOT_FOUND_MESSAGE } from './resend-invoice.js';

/** Open invoices looked at per record for the default: a customer rarely has more than one or two. */
const OPEN_INVOICES = 10;

const NOTHING_FAILED = 'There is no unpaid invoice with a failed payment on this account, so there is nothing to pay now.';
const NO_CARD = 'There is no card on file to charge. The customer can add one in the billing portal (get_billing_portal_link), then ask again.';

/** The customer's one open invoice that Stripe tried and failed to collect (the usual "my card was updated, charge it now"). */
async function failedOpenInvoice(ctx: ToolContext, customerIds: readonly string[]): Promise<Stripe.Invoice> {
  const pages = await Promise.all(customerIds.map((customer) => ctx.stripe.invoices.list({ customer, status: 'open', limit: OPEN_INVOICES })));
  const failed = pages.flatMap((page) => page.data).filter((invoice) => invoice.amount_remaining > 0 && invoice.attempt_count > 0);
  if (failed.length === 0) throw new ToolError('not_found', NOTHING_FAILED);
  if (failed.length > 1) {
    const names = failed.map((invoice) => invoice.number ?? invoice.id).join(', ');
    throw new UserInputError(`This account has ${failed.length} unpaid invoices with a failed payment (${names}): pass invoice to say which one to pay now.`);
  }
  return failed[0]!;
}

/** What Stripe charges when an invoice is paid without a payment method: the invoice's, the subscription's, then the account default. */
async function chargedMethod(ctx: ToolContext, invoice: Stripe.Invoice, customerId: string): Promise<MaskedPaymentMethod | undefined> {
  const subscriptionId = idOf(invoice.parent?.subscription_details?.subscription);
  const [customer, subscription] = await Promise.all([
    ctx.stripe.customers.retrieve(customerId, { expand: ['invoice_settings.default_payment_method'] }),
    subscriptionId ? ctx.stripe.subscriptions.retrieve(subscriptionId, { expand: ['default_payment_method'] }) : undefined,
  ]);
  if (customer.deleted) return undefined;
  const record = projectCustomer(customer);
  if (invoice.default_payment_method) return { type: 'payment_method', description: 'The payment method set on this invoice' };
  return (subscription ? subscriptionOwnPaymentMethod(projectSubscription(subscription), record) : undefined) ?? accountDefaultPaymentMethod(record);
}

/** "Visa ending in 9995": the card without its expiry, for one sentence. */
const shortName = (method: MaskedPaymentMethod) => method.description.replace(/, expires .*$/, '');

export default defineTool({
  name: 'retry_payment',
  title: 'Pay an unpaid invoice now',
  description:
    "Pays the customer's unpaid invoice now, once, with the card on file: use after the customer updated their card ('I updated my card, can you charge it now?'). Without invoice it picks the one open invoice whose payment failed. Nothing is charged until the customer confirms it themselves outside this chat. The answer says what happens next; a declined card is reported in plain words.",
  audience: 'customer',
  card: 'request',
  action: 'retry_payment',
  discloses: ['invoices', 'payment_method.brand', 'payment_method.last4'],
  permissions: ['rak_customer_read', 'rak_invoice_read', 'rak_invoice_write', 'rak_subscription_read', 'rak_payment_method_read'],
  inputSchema: {
    invoice: optionalInput(matching(boundedString({ min: 1, max: 64, trim: true }), /^[A-Za-z0-9_-]+$/, 'give the invoice number (e.g. ABCD-0002) or id (in_…)')).describe(
      'The invoice number as printed (e.g. ABCD-0002) or its id (in_…). Leave null for the one open invoice whose payment failed.',
    ),
  },
  outputSchema: { request: requestViewSchema, summary: z.string() },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  async handler(input, ctx) {
    actionsOf(ctx);
    const target = await ctx.customer();
    const ids = target.customers.map((customer) => customer.id);
    // Only the customer's own records are searched: another customer's invoice is "not found", like a wrong number.
    const invoice = input.invoice ? await findOwnInvoice(ctx, target.customers, input.invoice) : await failedOpenInvoice(ctx, ids);
    if (!invoice) throw new ToolError('not_found', INVOICE_NOT_FOUND_MESSAGE);
    const customerId = idOf(invoice.customer);
    if (!customerId || !ids.includes(customerId)) throw new ToolError('not_found', INVOICE_NOT_FOUND_MESSAGE);
    const name = invoice.number ?? invoice.id;
    if (invoice.status !== 'open') {
      throw new ToolError('refused', invoice.status === 'paid' ? `Invoice ${name} is already paid: there is nothing to pay.` : `Invoice ${name} is not open for payment (it is ${invoice.status ?? 'not finalized'}), so it cannot be paid here.`);
    }
    if (invoice.amount_remaining <= 0) throw new ToolError('refused', `Nothing is due on invoice ${name}.`);
    const method = await chargedMethod(ctx, invoice, customerId);
    if (!method || method.type === 'none') throw new ToolError('refused', NO_CARD);

    const amount = money(invoice.amount_remaining, invoice.currency);
    const request = await proposeAndConfirm(ctx, {
      kind: 'retry_payment',
      customer_id: customerId,
      email: target.email,
      check: { kind: 'retry_payment', amount: invoice.amount_remaining, currency: invoice.currency },
      params: { invoice: invoice.id, amount: invoice.amount_remaining, currency: invoice.currency },
      preview: {
        summary: `Pay ${amount.formatted} now for invoice ${name} with the ${shortName(method)}`,
        when: 'The card is charged as soon as it is carried out; if the bank declines it, nothing is charged',
        amount,
        subject: `invoice ${name}`,
      },
    });
    return { request, summary: `Payment of ${amount.formatted} for invoice ${name}: ${request.state}.` };
  },
  summarize(output) {
    return summarizeRequest(output.request);
  },
});
