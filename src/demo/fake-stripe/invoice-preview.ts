/**
 * `POST /v1/invoices/create_preview`: what the customer will be billed next.
 *
 * Computed from the subscription's items (price × quantity) for the next period, minus its
 * percent_off / amount_off discounts, then the customer's credit balance (`starting_balance`,
 * `amount_due`). A subscription that will not renew (canceled, or set to cancel at period end)
 * has nothing upcoming: Stripe answers 400 `invoice_upcoming_none`.
 */
import type Stripe from 'stripe';
import { money } from '../../format/money.js';
import { invalidRequest, parameterMissing, resourceMissing } from './errors.js';
import { makeInvoice, makeInvoiceLineItem } from './factories.js';
import type { FakeStripeStore } from './store.js';

const RENEWING: ReadonlySet<Stripe.Subscription.Status> = new Set(['active', 'trialing', 'past_due']);

const nothingUpcoming = (customer: string) =>
  invalidRequest(`No upcoming invoices for customer: ${customer}`, { code: 'invoice_upcoming_none' });

function renews(subscription: Stripe.Subscription): boolean {
  if (!RENEWING.has(subscription.status) || subscription.cancel_at_period_end) return false;
  const periodEnd = nextBillingDate(subscription);
  return subscription.cancel_at === null || subscription.cancel_at > periodEnd;
}

function nextBillingDate(subscription: Stripe.Subscription): number {
  return Math.min(...subscription.items.data.map((item) => item.current_period_end));
}

/** Adds whole calendar months/years in UTC, as Stripe's billing cycles do. */
export function addInterval(start: number, interval: Stripe.Price.Recurring.Interval, count: number): number {
  const d = new Date(start * 1000);
  if (interval === 'day') d.setUTCDate(d.getUTCDate() + count);
  else if (interval === 'week') d.setUTCDate(d.getUTCDate() + 7 * count);
  else if (interval === 'month') d.setUTCMonth(d.getUTCMonth() + count);
  else d.setUTCFullYear(d.getUTCFullYear() + count);
  return Math.floor(d.getTime() / 1000);
}

/** As Stripe words a subscription line: "1 × Pro (at $49.00 / month)", the product's name and the unit price. */
export function lineDescription(store: FakeStripeStore, price: Stripe.Price, quantity: number): string {
  const productId = typeof price.product === 'string' ? price.product : price.product.id;
  const name = store.products.get(productId)?.name ?? price.nickname ?? price.id;
  const unit = money(price.unit_amount ?? 0, price.currency).formatted;
  const recurring = price.recurring;
  const every = !recurring ? '' : recurring.interval_count === 1 ? ` / ${recurring.interval}` : ` / every ${recurring.interval_count} ${recurring.interval}s`;
  return `${quantity} × ${name} (at ${unit}${every})`;
}

/** The coupon behind a discount id, if both are still in the store. */
export function discountCoupon(store: FakeStripeStore, discountId: string): Stripe.Coupon | undefined {
  const coupon = store.discounts.get(discountId)?.source.coupon;
  return typeof coupon === 'string' ? store.coupons.get(coupon) : (coupon ?? undefined);
}

function discountAmount(store: FakeStripeStore, discountId: string, base: number, currency: string): number {
  const resolved = discountCoupon(store, discountId);
  if (!resolved) return 0;
  if (resolved.percent_off !== null) return Math.round((base * resolved.percent_off) / 100);
  if (resolved.amount_off !== null && resolved.currency === currency) return Math.min(base, resolved.amount_off);
  return 0;
}

export function previewNextInvoice(
  store: FakeStripeStore,
  params: { customer?: string | undefined; subscription?: string | undefined },
): Stripe.Invoice {
  if (params.customer === undefined && params.subscription === undefined) throw parameterMissing('customer');
  let subscription: Stripe.Subscription | undefined;
  let customerId = params.customer;
  if (params.subscription !== undefined) {
    subscription = store.subscriptions.get(params.subscription);
    if (!subscription) throw resourceMissing('subscription', params.subscription, 'subscription');
    const owner = typeof subscription.customer === 'string' ? subscription.customer : subscription.customer.id;
    if (customerId !== undefined && customerId !== owner) {
      throw invalidRequest(`The subscription ${subscription.id} does not belong to customer ${customerId}.`, { param: 'subscription' });
    }
    customerId = owner;
  }
  const customer = store.liveCustomer(customerId ?? '');
  if (!customer) throw resourceMissing('customer', customerId ?? '', 'customer');

  if (subscription === undefined) {
    // With several renewing subscriptions, the one billing soonest is "the" next invoice.
    subscription = [...store.subscriptions.values()]
      .filter((s) => s.customer === customer.id && renews(s))
      .sort((a, b) => nextBillingDate(a) - nextBillingDate(b))[0];
  }
  if (!subscription || !renews(subscription)) throw nothingUpcoming(customer.id);

  const id = store.nextId('upcoming_in');
  const billingDate = nextBillingDate(subscription);
  const currency = subscription.currency;
  const lines = subscription.items.data.map((item) => {
    const quantity = item.quantity ?? 1;
    const recurring = item.price.recurring;
    const start = item.current_period_end;
    return makeInvoiceLineItem({
      id: `il_tmp_${item.id.slice(3)}`,
      invoice: null,
      amount: (item.price.unit_amount ?? 0) * quantity,
      currency,
      description: lineDescription(store, item.price, quantity),
      quantity,
      periodStart: start,
      periodEnd: addInterval(start, recurring?.interval ?? 'month', recurring?.interval_count ?? 1),
      price: item.price,
      subscription: subscription.id,
      subscriptionItem: item.id,
    });
  });
  const subtotal = lines.reduce((sum, line) => sum + line.amount, 0);
  const discountIds = subscription.discounts.map((d) => (typeof d === 'string' ? d : d.id));
  let remaining = subtotal;
  const totalDiscountAmounts = discountIds.map((discount) => {
    const amount = Math.min(remaining, discountAmount(store, discount, remaining, currency));
    remaining -= amount;
    return { amount, discount };
  });
  const total = remaining;
  // A preview is dated when it would be created: the start of the next period.
  return makePreviewInvoice({
    id,
    customer,
    subscription,
    currency,
    lines,
    subtotal,
    total,
    created: billingDate,
    periodStart: lines[0]?.period.start ?? billingDate,
    periodEnd: lines[0]?.period.end ?? billingDate,
    billingReason: 'upcoming',
    discountIds,
    totalDiscountAmounts,
  });
}

/** The draft invoice a preview returns, built from its lines, totals and discounts. */
export function makePreviewInvoice(parts: {
  id: string;
  customer: Stripe.Customer;
  subscription: Stripe.Subscription;
  currency: string;
  lines: Stripe.InvoiceLineItem[];
  subtotal: number;
  total: number;
  created: number;
  periodStart: number;
  periodEnd: number;
  billingReason: Stripe.Invoice.BillingReason;
  discountIds: string[];
  totalDiscountAmounts: Stripe.Invoice.TotalDiscountAmount[];
}): Stripe.Invoice {
  const { id, customer, subscription, currency, lines, subtotal, total, created } = parts;
  const startingBalance = customer.balance;
  const invoice = makeInvoice({
    id,
    customer: customer.id,
    customerEmail: customer.email,
    customerName: customer.name ?? null,
    created,
    currency,
    status: 'draft',
    lines,
    subtotal,
    total,
    startingBalance,
    amountDue: Math.max(0, total + startingBalance),
    amountPaid: 0,
    subscription: subscription.id,
    periodStart: parts.periodStart,
    periodEnd: parts.periodEnd,
    nextPaymentAttempt: created,
    billingReason: parts.billingReason,
    collectionMethod: subscription.collection_method,
  });
  invoice.discounts = parts.discountIds;
  invoice.total_discount_amounts = parts.totalDiscountAmounts;
  invoice.total_excluding_tax = total;
  // Credit left over after this invoice stays on the customer (negative = credit).
  invoice.ending_balance = Math.min(0, total + startingBalance);
  invoice.lines.url = `/v1/invoices/${id}/lines`;
  return invoice;
}
