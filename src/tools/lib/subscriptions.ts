import type Stripe from 'stripe';
import { projectSubscription, type SlimCustomer, type SlimDiscount, type SlimSubscription } from '../../cache/projections.js';
import { isoDate } from '../../format/dates.js';
import { money, type Money } from '../../format/money.js';
import type { ToolContext } from './context.js';
import { productNames } from './products.js';

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
  const readLive = async (customerId: string) => {
    const expand = [...(withDiscounts ? ['data.discounts.source.coupon'] : []), ...(withPaymentMethod ? ['data.default_payment_method'] : [])];
    const page = await ctx.stripe.subscriptions.list({ customer: customerId, status: 'all', limit: 100, ...(expand.length ? { expand } : {}) });
    return page.data.map(projectSubscription);
  };
  const pages = await Promise.all(
    customers.map((customer) => (live ? readLive(customer.id) : ctx.reads.subscriptions(customer.id, { discounts: withDiscounts, paymentMethod: withPaymentMethod }))),
  );
  return pages.flat().sort((a, b) => b.created - a.created);
}

export const LIVE_STATUSES: ReadonlySet<Stripe.Subscription.Status> = new Set(['active', 'trialing', 'past_due', 'unpaid', 'paused', 'incomplete']);

export interface SubscriptionItemView {
  product: string;
  quantity: number;
  unit_amount: Money;
  interval: string;
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
  next_payment?: { date: string; amount: Money; basis: string } | undefined;
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

export async function describeSubscriptions(ctx: ToolContext, subscriptions: readonly SlimSubscription[]): Promise<SubscriptionView[]> {
  const names = await productNames(ctx, subscriptions.flatMap((sub) => sub.items.data.map((item) => item.price.product)));
  return subscriptions.map((sub) => {
    const items = sub.items.data.map((item) => ({
      product: names.get(item.price.product) ?? 'Subscription',
      quantity: item.quantity ?? 1,
      unit_amount: money(item.price.unit_amount ?? 0, item.price.currency),
      interval: intervalLabel(item.price.recurring),
    }));
    // Since the basil API version the billing period lives on the items; they share one cycle.
    const periodStart = Math.min(...sub.items.data.map((item) => item.current_period_start));
    const periodEnd = Math.max(...sub.items.data.map((item) => item.current_period_end));
    const hasPeriod = sub.items.data.length > 0;
    const renews = LIVE_STATUSES.has(sub.status) && !sub.cancel_at_period_end && !sub.cancel_at && sub.status !== 'paused';
    const nextDate = sub.status === 'trialing' && sub.trial_end ? sub.trial_end : periodEnd;
    const subtotal = sub.items.data.reduce((sum, item) => sum + (item.price.unit_amount ?? 0) * (item.quantity ?? 1), 0);
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
      next_payment:
        renews && hasPeriod
          ? { date: isoDate(nextDate), amount: money(discountedAmount(subtotal, sub.currency, sub.discounts), sub.currency), basis: 'plan price after discounts, before tax and account credit' }
          : undefined,
      note,
    };
  });
}
