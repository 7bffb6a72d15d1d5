/**
 * `POST /v1/invoices/create_preview` with `subscription_details`: what a plan change would bill.
 *
 * Prorations are computed as Stripe does, to the second, on `proration_date` (default: now)
 * over each item's current period: the unused time on the old price is credited (a negative
 * line), the remaining time on the new price is charged (a positive line), each rounded to the
 * currency's minor unit (a whole yen for JPY). A change of billing interval (month → year), or
 * `billing_cycle_anchor: {type: 'now'}`, resets the cycle: the new price is charged in full from
 * `proration_date` minus the credit, on an invoice made now.
 *
 * Which invoice is previewed follows `proration_behavior`: `always_invoice` — the invoice made
 * now (prorations only); `create_prorations` (default) — the next renewal invoice, prorations
 * plus the next period at the new prices; `none` — the next renewal without prorations.
 *
 * Discounts: a percent_off coupon discounts every line (credits included, so a credit shrinks
 * too); an amount_off coupon comes off the invoice's positive subtotal. The fake computes no
 * tax. The amounts always add up: sum(lines.amount) = subtotal; subtotal − total_discount_amounts
 * = total; amount_due = max(0, total + starting_balance); a negative rest is `ending_balance`.
 */
import type Stripe from 'stripe';
import { invalidRequest, resourceMissing } from './errors.js';
import { makeInvoiceLineItem } from './factories.js';
import { addInterval, discountCoupon, lineDescription, makePreviewInvoice } from './invoice-preview.js';
import type { FakeStripeStore } from './store.js';

export interface ItemChange {
  id?: string | undefined;
  price?: string | undefined;
  quantity?: number | undefined;
  deleted?: boolean | undefined;
}

export interface SubscriptionChangeDetails {
  items?: ItemChange[] | undefined;
  proration_behavior?: 'always_invoice' | 'create_prorations' | 'none' | undefined;
  proration_date?: number | undefined;
  billing_cycle_anchor?: { type: 'now' | 'timestamp' | 'unchanged'; timestamp?: number | undefined } | undefined;
}

interface PlannedItem {
  /** The existing item, absent for an added one. */
  current?: Stripe.SubscriptionItem;
  price: Stripe.Price;
  quantity: number;
  deleted: boolean;
}

const itemParam = (i: number, field?: string) => `subscription_details[items][${i}]${field ? `[${field}]` : ''}`;

function requirePrice(store: FakeStripeStore, id: string, subscription: Stripe.Subscription, param: string): Stripe.Price {
  const price = store.prices.get(id);
  if (!price) throw resourceMissing('price', id, param);
  if (!price.active) throw invalidRequest(`The price specified (${id}) is inactive. This field only accepts active prices.`, { param });
  if (!price.recurring) {
    throw invalidRequest(`The price specified (${id}) is a one-time price. Subscription items only accept recurring prices.`, { param });
  }
  if (price.currency !== subscription.currency) {
    throw invalidRequest(`The price specified (${id}) is in ${price.currency}, but the subscription is in ${subscription.currency}.`, { param });
  }
  return price;
}

function planItems(store: FakeStripeStore, subscription: Stripe.Subscription, changes: ItemChange[]): PlannedItem[] {
  const planned: PlannedItem[] = subscription.items.data.map((item) => ({ current: item, price: item.price, quantity: item.quantity ?? 1, deleted: false }));
  changes.forEach((change, i) => {
    if (change.id === undefined) {
      if (change.price === undefined) throw invalidRequest(`You must specify an id or a price for ${itemParam(i)}.`, { param: itemParam(i) });
      planned.push({ price: requirePrice(store, change.price, subscription, itemParam(i, 'price')), quantity: change.quantity ?? 1, deleted: false });
      return;
    }
    const entry = planned.find((p) => p.current?.id === change.id);
    if (!entry) {
      throw invalidRequest(`No such subscription item: '${change.id}' on the subscription '${subscription.id}'.`, {
        code: 'resource_missing',
        param: itemParam(i, 'id'),
      });
    }
    if (change.deleted) {
      entry.deleted = true;
      return;
    }
    if (change.price !== undefined) entry.price = requirePrice(store, change.price, subscription, itemParam(i, 'price'));
    if (change.quantity !== undefined) entry.quantity = change.quantity;
  });
  if (planned.every((p) => p.deleted)) throw invalidRequest('A subscription must keep at least one item.', { param: 'subscription_details[items]' });
  return planned;
}

const cadence = (price: Stripe.Price): string => `${price.recurring?.interval ?? 'month'}/${price.recurring?.interval_count ?? 1}`;

const dateWords = (unix: number): string =>
  new Date(unix * 1000).toLocaleDateString('en-GB', { day: '2-digit', month: 'short', year: 'numeric', timeZone: 'UTC' });

export function previewSubscriptionChange(
  store: FakeStripeStore,
  subscription: Stripe.Subscription,
  details: SubscriptionChangeDetails,
  now: number,
): Stripe.Invoice {
  const customerId = typeof subscription.customer === 'string' ? subscription.customer : subscription.customer.id;
  const customer = store.liveCustomer(customerId);
  if (!customer) throw resourceMissing('customer', customerId, 'customer');
  if (subscription.status === 'canceled' || subscription.status === 'incomplete_expired') {
    throw invalidRequest('A canceled subscription can only update its cancellation_details and metadata.', { param: 'subscription' });
  }
  const prorationDate = details.proration_date ?? now;
  const behavior = details.proration_behavior ?? 'create_prorations';
  const planned = planItems(store, subscription, details.items ?? []);
  const oldCadence = subscription.items.data[0] ? cadence(subscription.items.data[0].price) : undefined;
  const reset = details.billing_cycle_anchor?.type === 'now' || planned.some((p) => !p.deleted && cadence(p.price) !== oldCadence);
  const currency = subscription.currency;
  const periodStart = Math.min(...subscription.items.data.map((i) => i.current_period_start));
  const periodEnd = Math.min(...subscription.items.data.map((i) => i.current_period_end));

  let sequence = 0;
  const line = (spec: { amount: number; description: string; price: Stripe.Price; quantity: number; start: number; end: number; item: string; proration: boolean }) => {
    const made = makeInvoiceLineItem({
      id: `il_tmp_${subscription.id.slice(4)}_${++sequence}`,
      invoice: null,
      amount: spec.amount,
      currency,
      description: spec.description,
      quantity: spec.quantity,
      periodStart: spec.start,
      periodEnd: spec.end,
      price: spec.price,
      subscription: subscription.id,
      subscriptionItem: spec.item,
    });
    if (made.parent?.subscription_item_details) made.parent.subscription_item_details.proration = spec.proration;
    return made;
  };
  const productName = (price: Stripe.Price): string => {
    const productId = typeof price.product === 'string' ? price.product : price.product.id;
    return store.products.get(productId)?.name ?? price.nickname ?? price.id;
  };
  const factorOf = (item: Stripe.SubscriptionItem | undefined): number => {
    const start = item?.current_period_start ?? periodStart;
    const end = item?.current_period_end ?? periodEnd;
    if (end <= start) return 0;
    return Math.min(1, Math.max(0, (end - prorationDate) / (end - start)));
  };

  const prorations: Stripe.InvoiceLineItem[] = [];
  const fullCharges: Stripe.InvoiceLineItem[] = [];
  const after = dateWords(prorationDate);
  for (const p of planned) {
    const changed = reset || p.deleted || !p.current || p.price.id !== p.current.price.id || p.quantity !== (p.current.quantity ?? 1);
    if (!changed) continue;
    const itemId = p.current?.id ?? `si_tmp_${subscription.id.slice(4)}_${planned.indexOf(p)}`;
    const factor = factorOf(p.current);
    const end = p.current?.current_period_end ?? periodEnd;
    if (p.current && behavior !== 'none') {
      const oldQuantity = p.current.quantity ?? 1;
      const amount = -Math.round((p.current.price.unit_amount ?? 0) * oldQuantity * factor);
      const description = `Unused time on ${oldQuantity > 1 ? `${oldQuantity} × ` : ''}${productName(p.current.price)} after ${after}`;
      prorations.push(line({ amount, description, price: p.current.price, quantity: oldQuantity, start: prorationDate, end, item: itemId, proration: true }));
    }
    if (p.deleted) continue;
    const full = (p.price.unit_amount ?? 0) * p.quantity;
    if (reset) {
      const next = addInterval(prorationDate, p.price.recurring?.interval ?? 'month', p.price.recurring?.interval_count ?? 1);
      fullCharges.push(line({ amount: full, description: lineDescription(store, p.price, p.quantity), price: p.price, quantity: p.quantity, start: prorationDate, end: next, item: itemId, proration: false }));
    } else if (behavior !== 'none') {
      const description = `Remaining time on ${p.quantity > 1 ? `${p.quantity} × ` : ''}${productName(p.price)} after ${after}`;
      prorations.push(line({ amount: Math.round(full * factor), description, price: p.price, quantity: p.quantity, start: prorationDate, end, item: itemId, proration: true }));
    }
  }

  // Which invoice the preview is: made now (reset, always_invoice) or the next renewal.
  const immediate = reset || behavior === 'always_invoice';
  const lines = [...prorations, ...fullCharges];
  if (!immediate) {
    for (const p of planned) {
      if (p.deleted) continue;
      const start = p.current?.current_period_end ?? periodEnd;
      const end = addInterval(start, p.price.recurring?.interval ?? 'month', p.price.recurring?.interval_count ?? 1);
      const itemId = p.current?.id ?? `si_tmp_${subscription.id.slice(4)}_${planned.indexOf(p)}`;
      lines.push(line({ amount: (p.price.unit_amount ?? 0) * p.quantity, description: lineDescription(store, p.price, p.quantity), price: p.price, quantity: p.quantity, start, end, item: itemId, proration: false }));
    }
  }

  const subtotal = lines.reduce((sum, l) => sum + l.amount, 0);
  const discountIds = subscription.discounts.map((d) => (typeof d === 'string' ? d : d.id));
  const totalDiscountAmounts: Stripe.Invoice.TotalDiscountAmount[] = [];
  let total = subtotal;
  for (const discount of discountIds) {
    const coupon = discountCoupon(store, discount);
    if (!coupon) continue;
    let amount = 0;
    if (coupon.percent_off !== null) {
      for (const l of lines) {
        const off = Math.round((l.amount * coupon.percent_off) / 100);
        l.discount_amounts = [...(l.discount_amounts ?? []), { amount: off, discount }];
        l.discounts = [...l.discounts, discount];
        amount += off;
      }
    } else if (coupon.amount_off !== null && coupon.currency === currency) {
      amount = Math.min(Math.max(0, total), coupon.amount_off);
    }
    total -= amount;
    totalDiscountAmounts.push({ amount, discount });
  }

  const created = immediate ? prorationDate : periodEnd;
  const invoice = makePreviewInvoice({
    id: store.nextId('upcoming_in'),
    customer,
    subscription,
    currency,
    lines,
    subtotal,
    total,
    created,
    periodStart: immediate ? prorationDate : periodEnd,
    periodEnd: immediate ? prorationDate : (lines.find((l) => !l.parent?.subscription_item_details?.proration)?.period.end ?? periodEnd),
    billingReason: immediate ? 'subscription_update' : 'upcoming',
    discountIds,
    totalDiscountAmounts,
  });
  if (invoice.parent?.subscription_details) invoice.parent.subscription_details.subscription_proration_date = prorationDate;
  return invoice;
}
