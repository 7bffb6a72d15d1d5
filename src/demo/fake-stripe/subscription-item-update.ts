/**
 * `POST /v1/subscriptions/:id` with `items`: a plan change, billed as the preview of the same
 * change said (subscription-change-preview.ts, same `proration_date` and `proration_behavior`).
 *
 * With `always_invoice` (or a change of billing interval, which resets the cycle) Stripe makes
 * the invoice at once and charges it: here that invoice is stored, finalized and paid with the
 * customer's default payment method (invoice-pay.ts), so its amount_due is exactly the
 * preview's; a declined card leaves it open (Stripe's default `payment_behavior`,
 * allow_incomplete, keeps the change). The account balance the invoice used is spent.
 * Not modelled: the pending proration invoice items of `create_prorations` (Stripe adds them
 * to the next renewal); the items change, nothing is billed now.
 */
import type Stripe from 'stripe';
import { StripeHttpError } from './errors.js';
import { addInterval } from './invoice-preview.js';
import { payInvoice } from './invoice-pay.js';
import type { RouteContext } from './router.js';
import { previewSubscriptionChange, type ItemChange } from './subscription-change-preview.js';

export interface ItemUpdate {
  items: ItemChange[];
  proration_behavior?: 'always_invoice' | 'create_prorations' | 'none' | undefined;
  proration_date?: number | undefined;
}

export function updateSubscriptionItems(ctx: RouteContext, subscription: Stripe.Subscription, update: ItemUpdate): void {
  const invoice = previewSubscriptionChange(ctx.store, subscription, update, ctx.now);
  const prorationDate = update.proration_date ?? ctx.now;
  for (const change of update.items) {
    const item = subscription.items.data.find((candidate) => candidate.id === change.id);
    if (!item) continue; // previewSubscriptionChange refused unknown ids; added items are not modelled.
    if (change.price !== undefined) item.price = ctx.store.prices.get(change.price)!;
    if (change.quantity !== undefined) item.quantity = change.quantity;
  }
  if (invoice.billing_reason !== 'subscription_update') return;

  // Billed now: a reset cycle starts at the proration date.
  for (const item of subscription.items.data) {
    const fullLine = invoice.lines.data.find((line) => line.parent?.subscription_item_details?.subscription_item === item.id && !line.parent.subscription_item_details.proration);
    if (fullLine) {
      item.current_period_start = prorationDate;
      item.current_period_end = addInterval(prorationDate, item.price.recurring?.interval ?? 'month', item.price.recurring?.interval_count ?? 1);
    }
  }
  invoice.id = ctx.store.nextId('in');
  invoice.status = 'open';
  invoice.status_transitions.finalized_at = ctx.now;
  invoice.amount_remaining = invoice.amount_due;
  invoice.lines.url = `/v1/invoices/${invoice.id}/lines`;
  for (const line of invoice.lines.data) line.invoice = invoice.id;
  ctx.store.invoices.set(invoice.id, invoice);
  subscription.latest_invoice = invoice.id;
  const customer = ctx.store.liveCustomer(typeof subscription.customer === 'string' ? subscription.customer : subscription.customer.id);
  if (customer) customer.balance = invoice.ending_balance ?? 0;
  if (subscription.collection_method === 'send_invoice') return; // emailed, paid by the customer
  try {
    payInvoice(ctx, invoice, {});
  } catch (error) {
    // A declined card: the change stands and the invoice stays open for Stripe's retries.
    if (!(error instanceof StripeHttpError && error.body.type === 'card_error')) throw error;
  }
}
