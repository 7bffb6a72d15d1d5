import type Stripe from 'stripe';
import type { SlimCustomer, SlimDiscount, SlimInvoice, SlimSubscription } from '../../cache/projections.js';
import { isoDate } from '../../format/dates.js';
import { money, type Money } from '../../format/money.js';
import type { ToolContext } from './context.js';
import { productNames } from './products.js';

/**
 * One record's subscriptions with the expansions asked for, less those the key may not read
 * when the tool can answer without them (optional sections): discounts need rak_coupon_read,
 * a subscription's own payment method rak_payment_method_read. Unexpanded, they stay ids.
 */
export function readSubscriptions(
  ctx: ToolContext,
  read: (expansions: { discounts: boolean; paymentMethod: boolean }) => Promise<SlimSubscription[]>,
  { discounts, paymentMethod }: { discounts: boolean; paymentMethod: boolean },
): Promise<SlimSubscription[]> {
  const withCoupons = (pm: boolean) =>
    discounts ? ctx.sections.read('rak_coupon_read', () => read({ discounts: true, paymentMethod: pm }), () => read({ discounts: false, paymentMethod: pm })) : read({ discounts: false, paymentMethod: pm });
  return paymentMethod ? ctx.sections.read('rak_payment_method_read', () => withCoupons(true), () => withCoupons(false)) : withCoupons(false);
}

/**
 * Every subscription of every record of the customer, canceled ones included, newest first.
 * `withPaymentMethod` also expands each subscription's own payment method, which needs
 * rak_payment_method_read, so only callers that show it ask for it. `live` reads Stripe, not
 * the cache: for actions and the checks before them.
 */
export async function listSubscriptions(
  ctx: ToolContext,
  customers: readonly SlimCustomer[],
  { withPaymentMethod = false, withDiscounts = true, live = false }: { withPaymentMethod?: boolean; withDiscounts?: boolean; live?: boolean } = {},
): Promise<SlimSubscription[]> {
  const wanted = { discounts: withDiscounts, paymentMethod: withPaymentMethod };
  const pages = await Promise.all(
    customers.map((customer) =>
      readSubscriptions(ctx, (expansions) => (live ? ctx.reads.subscriptionsFromStripe(customer.id, expansions) : ctx.reads.subscriptions(customer.id, expansions)), wanted),
    ),
  );
  return pages.flat().sort((a, b) => b.created - a.created);
}

export const LIVE_STATUSES: ReadonlySet<Stripe.Subscription.Status> = new Set(['active', 'trialing', 'past_due', 'unpaid', 'paused', 'incomplete']);

/** Will bill again: live, not paused, and not ending before its current period does. */
export function renews(sub: SlimSubscription): boolean {
  if (!LIVE_STATUSES.has(sub.status) || sub.status === 'paused' || sub.cancel_at_period_end || sub.items.data.length === 0) return false;
  const periodEnd = Math.max(...sub.items.data.map((item) => item.current_period_end));
  return sub.cancel_at === null || sub.cancel_at > periodEnd;
}

export interface SubscriptionItemView {
  product: string;
  quantity: number;
  unit_amount: Money;
  interval: string;
  /** "$49.00 per month". */
  price: string;
}

export interface DiscountView {
  name: string;
  /** "10% off" or "$5.00 off". */
  off: string;
  /** "until 2027-01-15", "no end date" or "one invoice only". */
  lasts: string;
}

/** How the next amount follows from Stripe's preview of the next invoice; the parts add up to amount_due. */
export interface NextPaymentBreakdown {
  lines: Array<{ description: string; amount: Money }>;
  discounts: Array<{ name: string; amount: Money }>;
  tax?: Money | undefined;
  credit_applied?: Money | undefined;
  balance_added?: Money | undefined;
  amount_due: Money;
  tax_note: string;
}

export interface SubscriptionView {
  id: string;
  status: Stripe.Subscription.Status;
  plan: string;
  items: SubscriptionItemView[];
  current_period_start?: string | undefined;
  current_period_end?: string | undefined;
  trial_end?: string | undefined;
  cancel_at_period_end: boolean;
  cancel_at?: string | undefined;
  canceled_at?: string | undefined;
  discounts: DiscountView[];
  next_payment?: { date: string; amount: Money; basis: string; breakdown?: NextPaymentBreakdown | undefined } | undefined;
  note: string;
}

function intervalLabel(recurring: { interval: string; interval_count: number } | null): string {
  if (!recurring) return 'one-time';
  return recurring.interval_count === 1 ? recurring.interval : `${recurring.interval_count} ${recurring.interval}s`;
}

function couponOf(discount: string | SlimDiscount) {
  if (typeof discount === 'string') return undefined;
  const coupon = discount.source.coupon;
  return coupon && typeof coupon !== 'string' ? coupon : undefined;
}

/** Plan price after the subscription's coupons; tax and account credit are the preview's job. */
function discountedAmount(subtotal: number, currency: string, discounts: Array<string | SlimDiscount>): number {
  let amount = subtotal;
  for (const coupon of discounts.map(couponOf)) {
    if (!coupon) continue;
    if (coupon.percent_off) amount -= Math.round((amount * coupon.percent_off) / 100);
    else if (coupon.amount_off && coupon.currency === currency) amount -= coupon.amount_off;
  }
  return Math.max(0, amount);
}

const STATUS_NOTES: Record<string, string> = {
  active: 'Active and renewing.',
  trialing: 'In a free trial.',
  past_due: 'Payment failed; Stripe is retrying. Updating the payment method in the billing portal fixes it.',
  unpaid: 'Unpaid: retries are exhausted and the subscription is on hold until the open invoice is paid.',
  paused: 'Paused: no invoices are being created.',
  incomplete: 'The first payment has not completed yet.',
  incomplete_expired: 'The first payment never completed, so the subscription did not start.',
  canceled: 'Ended; no further payments.',
};

export function describeDiscount(discount: string | SlimDiscount): DiscountView | undefined {
  const coupon = couponOf(discount);
  if (!coupon || typeof discount === 'string') return undefined;
  const off = coupon.percent_off ? `${coupon.percent_off}% off` : coupon.amount_off && coupon.currency ? `${money(coupon.amount_off, coupon.currency).formatted} off` : 'a discount';
  const lasts = discount.end ? `until ${isoDate(discount.end).slice(0, 10)}` : coupon.duration === 'once' ? 'one invoice only' : 'no end date';
  return { name: coupon.name ?? coupon.id, off, lasts };
}

/**
 * The next invoice as Stripe previews it: its lines, each discount by name, tax, account credit
 * and an earlier balance, which add up to what will be charged.
 */
function breakdownOf(preview: SlimInvoice, discounts: ReadonlyArray<string | SlimDiscount>): NextPaymentBreakdown {
  const currency = preview.currency;
  const nameOf = (id: string) => {
    const found = discounts.find((discount) => typeof discount !== 'string' && discount.id === id);
    return (found && describeDiscount(found)?.name) ?? 'Discount';
  };
  const tax = (preview.total_taxes ?? []).reduce((sum, entry) => sum + entry.amount, 0);
  // starting_balance < 0 is account credit; > 0 is an amount owed carried onto this invoice.
  const credit = preview.starting_balance < 0 ? Math.min(-preview.starting_balance, Math.max(0, preview.total)) : 0;
  const owed = Math.max(0, preview.starting_balance);
  return {
    lines: preview.lines.data.slice(0, 10).map((line) => ({ description: line.description ?? 'Item', amount: money(line.amount, line.currency) })),
    discounts: (preview.total_discount_amounts ?? []).filter((entry) => entry.amount > 0).map((entry) => ({ name: nameOf(entry.discount), amount: money(-entry.amount, currency) })),
    tax: tax > 0 ? money(tax, currency) : undefined,
    credit_applied: credit > 0 ? money(-credit, currency) : undefined,
    balance_added: owed > 0 ? money(owed, currency) : undefined,
    amount_due: money(preview.amount_due, currency),
    tax_note: tax > 0 ? 'Tax is included above.' : 'No tax is included in this amount.',
  };
}

/**
 * `previews`: Stripe's preview of each subscription's next invoice, where loaded; the next
 * payment then comes from it (with its breakdown), else it is estimated from the plan price.
 */
export async function describeSubscriptions(
  ctx: ToolContext,
  subscriptions: readonly SlimSubscription[],
  previews: ReadonlyMap<string, SlimInvoice | null> = new Map(),
): Promise<SubscriptionView[]> {
  const nameOf = await productNames(ctx, subscriptions.flatMap((sub) => sub.items.data.map((item) => item.price)));
  return subscriptions.map((sub) => {
    const items = sub.items.data.map((item) => ({
      product: nameOf(item.price),
      quantity: item.quantity ?? 1,
      unit_amount: money(item.price.unit_amount ?? 0, item.price.currency),
      interval: intervalLabel(item.price.recurring),
      price: `${money(item.price.unit_amount ?? 0, item.price.currency).formatted} per ${intervalLabel(item.price.recurring)}`,
    }));
    const preview = previews.get(sub.id);
    // Since the basil API version the billing period lives on the items; they share one cycle.
    const periodStart = Math.min(...sub.items.data.map((item) => item.current_period_start));
    const periodEnd = Math.max(...sub.items.data.map((item) => item.current_period_end));
    const hasPeriod = sub.items.data.length > 0;

    const nextDate = sub.status === 'trialing' && sub.trial_end ? sub.trial_end : periodEnd;
    const subtotal = sub.items.data.reduce((sum, item) => sum + (item.price.unit_amount ?? 0) * (item.quantity ?? 1), 0);
    // Discounts the key could not read (ids only): no honest estimate of the amount can be made.
    const discountsUnknown = sub.discounts.some((discount) => typeof discount === 'string');
    let note = STATUS_NOTES[sub.status] ?? sub.status;
    if (sub.cancel_at_period_end && hasPeriod) note = `Cancels at the end of the current period (${isoDate(periodEnd).slice(0, 10)}); no further payments.`;
    else if (sub.cancel_at) note = `Scheduled to cancel on ${isoDate(sub.cancel_at).slice(0, 10)}.`;
    return {
      id: sub.id,
      status: sub.status,
      plan: items.map((item) => (item.quantity > 1 ? `${item.product} × ${item.quantity}` : item.product)).join(' + ') || 'Subscription',
      items,
      current_period_start: hasPeriod ? isoDate(periodStart) : undefined,
      current_period_end: hasPeriod ? isoDate(periodEnd) : undefined,
      trial_end: sub.status === 'trialing' ? isoDate(sub.trial_end) : undefined,
      cancel_at_period_end: sub.cancel_at_period_end,
      cancel_at: isoDate(sub.cancel_at),
      canceled_at: isoDate(sub.canceled_at),
      discounts: sub.discounts.map(describeDiscount).filter((discount) => discount !== undefined),
      next_payment:
        renews(sub)
          ? preview
            ? {
                date: isoDate(preview.next_payment_attempt ?? preview.period_end),
                amount: money(preview.amount_due, preview.currency),
                basis: "Stripe's preview of the next invoice",
                breakdown: breakdownOf(preview, sub.discounts),
              }
            : discountsUnknown
              ? undefined
              : { date: isoDate(nextDate), amount: money(discountedAmount(subtotal, sub.currency, sub.discounts), sub.currency), basis: 'plan price after discounts, before tax and account credit' }
          : undefined,
      note,
    };
  });
}
