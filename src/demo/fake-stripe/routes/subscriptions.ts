import type Stripe from 'stripe';
import { z } from 'zod';
import { invalidRequest, resourceMissing } from '../errors.js';
import { replaceSubscriptionDiscounts } from '../discounts.js';
import { paginate } from '../paginate.js';
import { defineRoute, type RouteContext } from '../router.js';
import { updateSubscriptionItems } from '../subscription-item-update.js';
import { emptyable, expandParam, formBool, formEnum, formInt, matchesRange, paginationShape, rangeParam } from '../validate.js';

export const SUBSCRIPTION_STATUSES = [
  'active',
  'all',
  'canceled',
  'ended',
  'incomplete',
  'incomplete_expired',
  'past_due',
  'paused',
  'trialing',
  'unpaid',
] as const;

export function requireSubscription(ctx: RouteContext, id: string, param = 'id'): Stripe.Subscription {
  const subscription = ctx.store.subscriptions.get(id);
  if (!subscription) throw resourceMissing('subscription', id, param);
  return subscription;
}

const customerId = (s: Stripe.Subscription): string => (typeof s.customer === 'string' ? s.customer : s.customer.id);

function statusMatches(status: Stripe.Subscription.Status, filter: (typeof SUBSCRIPTION_STATUSES)[number] | undefined): boolean {
  // Without a status filter Stripe leaves canceled subscriptions out.
  if (filter === undefined) return status !== 'canceled';
  if (filter === 'all') return true;
  if (filter === 'ended') return status === 'canceled' || status === 'incomplete_expired';
  return status === filter;
}

export const listSubscriptions = defineRoute({
  key: 'GET /v1/subscriptions',
  params: z.strictObject({
    ...paginationShape,
    automatic_tax: z.strictObject({ enabled: z.string() }).optional(),
    collection_method: formEnum(['charge_automatically', 'send_invoice']).optional(),
    created: rangeParam,
    current_period_end: rangeParam,
    current_period_start: rangeParam,
    customer: z.string().optional(),
    customer_account: z.string().optional(),
    price: z.string().optional(),
    status: formEnum(SUBSCRIPTION_STATUSES).optional(),
    test_clock: z.string().optional(),
  }),
  handle(ctx, params) {
    const subscriptions = [...ctx.store.subscriptions.values()].filter(
      (s) =>
        statusMatches(s.status, params.status) &&
        (params.customer === undefined || customerId(s) === params.customer) &&
        (params.price === undefined || s.items.data.some((item) => item.price.id === params.price)) &&
        (params.collection_method === undefined || s.collection_method === params.collection_method) &&
        matchesRange(s.created, params.created) &&
        (params.current_period_end === undefined || s.items.data.some((i) => matchesRange(i.current_period_end, params.current_period_end))) &&
        (params.current_period_start === undefined || s.items.data.some((i) => matchesRange(i.current_period_start, params.current_period_start))),
    );
    return paginate(subscriptions, params, '/v1/subscriptions', 'subscription');
  },
});

export const retrieveSubscription = defineRoute({
  key: 'GET /v1/subscriptions/:id',
  params: z.strictObject({ expand: expandParam }),
  handle(ctx) {
    return requireSubscription(ctx, ctx.pathParams.id ?? '');
  },
});

const discountItem = z.strictObject({
  coupon: z.string().optional(),
  discount: z.string().optional(),
  promotion_code: z.string().optional(),
});

type PauseParam = '' | { behavior: 'keep_as_draft' | 'mark_uncollectible' | 'void'; resumes_at?: number | undefined };

/**
 * Pausing collection: invoices are still made but kept as drafts, marked uncollectible or
 * voided until `resumes_at` (none: until unset with ''). The status stays as it was; Stripe
 * does not switch it to `paused` (that is the trial-without-payment-method pause).
 */
function setPauseCollection(ctx: RouteContext, subscription: Stripe.Subscription, pause: PauseParam): void {
  if (subscription.status === 'canceled' || subscription.status === 'incomplete_expired') {
    throw invalidRequest('A canceled subscription can only update its cancellation_details and metadata.');
  }
  if (pause === '') {
    subscription.pause_collection = null;
    return;
  }
  if (pause.resumes_at !== undefined && pause.resumes_at <= ctx.now) {
    throw invalidRequest('pause_collection[resumes_at] must be in the future.', { param: 'pause_collection[resumes_at]' });
  }
  subscription.pause_collection = { behavior: pause.behavior, resumes_at: pause.resumes_at ?? null };
}

export const updateSubscription = defineRoute({
  key: 'POST /v1/subscriptions/:id',
  params: z.strictObject({
    discounts: emptyable(z.array(discountItem)).optional(),
    expand: expandParam,
    metadata: emptyable(z.record(z.string(), z.string())).optional(),
    pause_collection: emptyable(
      z.strictObject({ behavior: formEnum(['keep_as_draft', 'mark_uncollectible', 'void']), resumes_at: formInt().optional() }),
    ).optional(),
    items: z
      .array(z.strictObject({ id: z.string().optional(), price: z.string().optional(), quantity: formInt({ min: 0 }).optional(), deleted: formBool().optional() }))
      .optional(),
    proration_behavior: formEnum(['always_invoice', 'create_prorations', 'none']).optional(),
    proration_date: formInt().optional(),
  }),
  handle(ctx, params) {
    const subscription = requireSubscription(ctx, ctx.pathParams.id ?? '');
    if (params.items !== undefined) updateSubscriptionItems(ctx, subscription, { items: params.items, proration_behavior: params.proration_behavior, proration_date: params.proration_date });
    if (params.pause_collection !== undefined) setPauseCollection(ctx, subscription, params.pause_collection);
    if (params.discounts !== undefined) replaceSubscriptionDiscounts(ctx.store, subscription, params.discounts, ctx.now);
    if (params.metadata !== undefined) {
      // Stripe merges metadata keys; '' as a value deletes the key, '' as the whole hash clears it.
      const merged: Record<string, string> = params.metadata === '' ? {} : { ...subscription.metadata };
      for (const [k, v] of Object.entries(params.metadata === '' ? {} : params.metadata)) {
        if (v === '') delete merged[k];
        else merged[k] = v;
      }
      subscription.metadata = merged;
    }
    return subscription;
  },
});

export const subscriptionRoutes = [listSubscriptions, retrieveSubscription, updateSubscription];
