/**
 * Applying `discounts` to a subscription, with the promotion-code rules Stripe enforces.
 *
 * Stripe semantics: a non-empty array REPLACES the subscription's discounts (keep one by
 * re-sending `{discount: 'di_…'}`), `''` clears them, and a promotion code is refused when
 * inactive, expired, used up, restricted to another customer, first-time-only for a customer
 * who has paid before, or below its minimum amount. Redemption counters move only for new
 * discounts.
 */
import type Stripe from 'stripe';
import { invalidRequest, resourceMissing } from './errors.js';
import { makeDiscount } from './factories.js';
import type { FakeStripeStore } from './store.js';
import { formatMinor } from './money.js';

export type DiscountRequest = { coupon?: string | undefined; promotion_code?: string | undefined; discount?: string | undefined };

/** What a subscription bills per cycle, in its currency — the amount minimum_amount is checked against. */
export function recurringAmount(subscription: Stripe.Subscription): number {
  return subscription.items.data.reduce((sum, item) => sum + (item.price.unit_amount ?? 0) * (item.quantity ?? 1), 0);
}

function couponOf(discount: Stripe.Discount): string | null {
  const coupon = discount.source.coupon;
  return typeof coupon === 'string' ? coupon : (coupon?.id ?? null);
}

function hasPaidBefore(store: FakeStripeStore, customer: string): boolean {
  return (
    [...store.invoices.values()].some((i) => i.customer === customer && i.status === 'paid' && i.amount_paid > 0) ||
    [...store.charges.values()].some((c) => c.customer === customer && c.status === 'succeeded')
  );
}

function checkPromotionCode(
  store: FakeStripeStore,
  promo: Stripe.PromotionCode,
  subscription: Stripe.Subscription,
  customer: string,
  now: number,
  param: string,
): void {
  const refuse = (why: string) => invalidRequest(`The promotion code '${promo.code}' ${why}`, { param });
  if (!promo.active) throw refuse('is inactive and cannot be redeemed.');
  if (promo.expires_at !== null && promo.expires_at <= now) throw refuse('has expired.');
  if (promo.max_redemptions !== null && promo.times_redeemed >= promo.max_redemptions) {
    throw refuse('has reached its maximum number of redemptions.');
  }
  const restrictedTo = typeof promo.customer === 'string' ? promo.customer : (promo.customer?.id ?? null);
  if (restrictedTo !== null && restrictedTo !== customer) throw refuse('cannot be redeemed by this customer.');
  if (promo.restrictions.first_time_transaction && hasPaidBefore(store, customer)) {
    throw refuse('is only valid for customers who have never made a payment.');
  }
  const minimum = promo.restrictions.minimum_amount;
  if (minimum !== null) {
    const currency = promo.restrictions.minimum_amount_currency ?? subscription.currency;
    if (currency !== subscription.currency || recurringAmount(subscription) < minimum) {
      throw refuse(`requires a minimum amount of ${formatMinor(minimum, currency)}.`);
    }
  }
}

function requireValidCoupon(store: FakeStripeStore, id: string, param: string): Stripe.Coupon {
  const coupon = store.coupons.get(id);
  if (!coupon) throw resourceMissing('coupon', id, param);
  if (!coupon.valid) throw invalidRequest(`Coupon '${id}' is no longer valid.`, { param });
  return coupon;
}

/**
 * Validates every requested discount first, then commits: a refused code leaves the
 * subscription and all counters untouched, as at Stripe.
 */
export function replaceSubscriptionDiscounts(
  store: FakeStripeStore,
  subscription: Stripe.Subscription,
  requested: readonly DiscountRequest[] | '',
  now: number,
): void {
  const customer = typeof subscription.customer === 'string' ? subscription.customer : subscription.customer.id;
  const current = subscription.discounts.map((d) => (typeof d === 'string' ? d : d.id));

  type Planned = { keep: string } | { coupon: Stripe.Coupon; promo: Stripe.PromotionCode | null };
  const planned: Planned[] = [];
  const coupons = new Set<string>();
  const noteCoupon = (id: string | null, param: string) => {
    if (id === null) return;
    if (coupons.has(id)) throw invalidRequest(`The coupon '${id}' cannot be applied to the same subscription more than once.`, { param });
    coupons.add(id);
  };

  (requested === '' ? [] : requested).forEach((item, index) => {
    const param = `discounts[${index}]`;
    const given = (['coupon', 'promotion_code', 'discount'] as const).filter((k) => item[k] !== undefined);
    if (given.length !== 1) {
      throw invalidRequest('Each discount must specify exactly one of coupon, promotion_code or discount.', { param });
    }
    if (item.discount !== undefined) {
      const existing = store.discounts.get(item.discount);
      if (!existing || !current.includes(item.discount)) throw resourceMissing('discount', item.discount, `${param}[discount]`);
      noteCoupon(couponOf(existing), `${param}[discount]`);
      planned.push({ keep: item.discount });
    } else if (item.promotion_code !== undefined) {
      const promo = store.promotionCodes.get(item.promotion_code);
      if (!promo) throw resourceMissing('promotion code', item.promotion_code, `${param}[promotion_code]`);
      checkPromotionCode(store, promo, subscription, customer, now, `${param}[promotion_code]`);
      const couponId = typeof promo.promotion.coupon === 'string' ? promo.promotion.coupon : (promo.promotion.coupon?.id ?? '');
      const coupon = requireValidCoupon(store, couponId, `${param}[promotion_code]`);
      noteCoupon(coupon.id, `${param}[promotion_code]`);
      planned.push({ coupon, promo });
    } else if (item.coupon !== undefined) {
      const coupon = requireValidCoupon(store, item.coupon, `${param}[coupon]`);
      noteCoupon(coupon.id, `${param}[coupon]`);
      planned.push({ coupon, promo: null });
    }
  });

  const next: string[] = [];
  for (const plan of planned) {
    if ('keep' in plan) {
      next.push(plan.keep);
      continue;
    }
    const discount = makeDiscount({
      id: store.nextId('di'),
      start: now,
      coupon: plan.coupon,
      customer,
      subscription: subscription.id,
      promotionCode: plan.promo?.id ?? null,
    });
    store.discounts.set(discount.id, discount);
    plan.coupon.times_redeemed += 1;
    if (plan.promo) plan.promo.times_redeemed += 1;
    next.push(discount.id);
  }
  // Discounts not carried over are gone, as Stripe deletes them.
  for (const id of current) if (!next.includes(id)) store.discounts.delete(id);
  subscription.discounts = next;
}
