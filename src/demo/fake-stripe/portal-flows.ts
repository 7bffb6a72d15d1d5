/**
 * `flow_data` of `POST /v1/billing_portal/sessions`: the portal deep links. Stripe checks a flow
 * when the session is created, not when the customer opens it, so a link our tools mint for the
 * wrong subscription, a price the portal does not offer, or a flow the merchant switched off
 * fails here with a 400, as it would at Stripe.
 *
 * Shapes follow the pinned SDK: `customer_update` (API 2026-08-26) takes no hash of its own in
 * the request and answers `flow.customer_update: {}`; `subscription_update_confirm` takes exactly
 * one item, of a subscription that has exactly one item ("subscriptions with multiple items are
 * not updatable" in the portal), with a price from `features.subscription_update.products`.
 */
import type Stripe from 'stripe';
import { z } from 'zod';
import { invalidRequest, parameterMissing, resourceMissing } from './errors.js';
import type { RouteContext } from './router.js';
import { formEnum, formInt } from './validate.js';

const FLOW_TYPES = [
  'customer_update',
  'payment_method_update',
  'subscription_cancel',
  'subscription_pause',
  'subscription_update',
  'subscription_update_confirm',
] as const;
type FlowType = (typeof FLOW_TYPES)[number];

const subscriptionRef = z.strictObject({ subscription: z.string() });

export const flowDataSchema = z.strictObject({
  type: formEnum(FLOW_TYPES),
  after_completion: z
    .strictObject({
      type: formEnum(['hosted_confirmation', 'portal_homepage', 'redirect']),
      hosted_confirmation: z.strictObject({ custom_message: z.string().optional() }).optional(),
      redirect: z.strictObject({ return_url: z.string() }).optional(),
    })
    .optional(),
  subscription_cancel: z
    .strictObject({
      subscription: z.string(),
      retention: z.strictObject({ type: formEnum(['coupon_offer']), coupon_offer: z.strictObject({ coupon: z.string() }) }).optional(),
    })
    .optional(),
  subscription_pause: subscriptionRef.optional(),
  subscription_update: subscriptionRef.optional(),
  subscription_update_confirm: z
    .strictObject({
      subscription: z.string(),
      items: z.array(z.strictObject({ id: z.string(), price: z.string().optional(), quantity: formInt({ min: 0 }).optional() })),
      discounts: z.array(z.strictObject({ coupon: z.string().optional(), promotion_code: z.string().optional() })).optional(),
    })
    .optional(),
});
export type FlowData = z.output<typeof flowDataSchema>;

/** The sub-hash each flow type requires (none for the two customer-level flows). */
const SUB_HASH: Record<FlowType, keyof FlowData | null> = {
  customer_update: null,
  payment_method_update: null,
  subscription_cancel: 'subscription_cancel',
  subscription_pause: 'subscription_pause',
  subscription_update: 'subscription_update',
  subscription_update_confirm: 'subscription_update_confirm',
};

const disabled = (type: FlowType, what: string, configuration: Stripe.BillingPortal.Configuration) =>
  invalidRequest(`The ${type} flow cannot be used because ${what} is disabled in the portal configuration '${configuration.id}'.`, {
    param: 'flow_data[type]',
  });

/** The customer's own, still-live subscription, or Stripe's refusal naming the parameter. */
function ownSubscription(ctx: RouteContext, id: string, customer: Stripe.Customer, param: string): Stripe.Subscription {
  const subscription = ctx.store.subscriptions.get(id);
  if (!subscription) throw resourceMissing('subscription', id, param);
  const owner = typeof subscription.customer === 'string' ? subscription.customer : subscription.customer.id;
  if (owner !== customer.id) {
    throw invalidRequest(`The subscription '${subscription.id}' does not belong to the customer '${customer.id}'.`, { param });
  }
  if (subscription.status === 'canceled' || subscription.status === 'incomplete_expired') {
    throw invalidRequest(`The subscription '${subscription.id}' has already been canceled and cannot be changed in the portal.`, { param });
  }
  return subscription;
}

function checkAfterCompletion(after: FlowData['after_completion']): Stripe.BillingPortal.Session.Flow.AfterCompletion {
  const base = 'flow_data[after_completion]';
  if (!after) return { type: 'portal_homepage', hosted_confirmation: null, redirect: null };
  if (after.type === 'redirect' && !after.redirect) throw parameterMissing(`${base}[redirect]`);
  if (after.redirect && after.type !== 'redirect') {
    throw invalidRequest(`${base}[redirect] can only be set when ${base}[type] is redirect.`, { param: `${base}[redirect]` });
  }
  if (after.hosted_confirmation && after.type !== 'hosted_confirmation') {
    throw invalidRequest(`${base}[hosted_confirmation] can only be set when ${base}[type] is hosted_confirmation.`, {
      param: `${base}[hosted_confirmation]`,
    });
  }
  return {
    type: after.type,
    hosted_confirmation: after.type === 'hosted_confirmation' ? { custom_message: after.hosted_confirmation?.custom_message ?? null } : null,
    redirect: after.redirect ? { return_url: after.redirect.return_url } : null,
  };
}

function checkSubHashes(flowData: FlowData): void {
  const required = SUB_HASH[flowData.type];
  if (required && flowData[required] === undefined) throw parameterMissing(`flow_data[${required}]`);
  for (const key of Object.values(SUB_HASH)) {
    if (key && key !== required && flowData[key] !== undefined) {
      throw invalidRequest(`flow_data[${key}] can only be set when flow_data[type] is ${key}.`, { param: `flow_data[${key}]` });
    }
  }
}

function offeredPrices(configuration: Stripe.BillingPortal.Configuration): Set<string> {
  const products = configuration.features.subscription_update.products ?? [];
  return new Set(products.flatMap((p) => p.prices));
}

function buildUpdateConfirm(
  ctx: RouteContext,
  request: NonNullable<FlowData['subscription_update_confirm']>,
  customer: Stripe.Customer,
  configuration: Stripe.BillingPortal.Configuration,
): Stripe.BillingPortal.Session.Flow.SubscriptionUpdateConfirm {
  const base = 'flow_data[subscription_update_confirm]';
  const subscription = ownSubscription(ctx, request.subscription, customer, `${base}[subscription]`);
  const update = configuration.features.subscription_update;
  if (!update.enabled || offeredPrices(configuration).size === 0) throw disabled('subscription_update_confirm', 'subscription update', configuration);
  if (subscription.items.data.length !== 1) {
    throw invalidRequest(`The subscription '${subscription.id}' has multiple items and cannot be updated in the portal.`, { param: `${base}[subscription]` });
  }
  if (request.items.length !== 1) {
    throw invalidRequest(`${base}[items] must contain exactly one item.`, { param: `${base}[items]` });
  }
  const item = request.items[0]!;
  const itemParam = `${base}[items][0]`;
  if (!subscription.items.data.some((i) => i.id === item.id)) {
    throw invalidRequest(`The subscription item '${item.id}' does not belong to the subscription '${subscription.id}'.`, { param: `${itemParam}[id]` });
  }
  if (item.price === undefined && item.quantity === undefined) {
    throw invalidRequest(`You must specify a price or a quantity for ${itemParam}.`, { param: itemParam });
  }
  if (item.price !== undefined) {
    const price = ctx.store.prices.get(item.price);
    if (!price) throw resourceMissing('price', item.price, `${itemParam}[price]`);
    if (!offeredPrices(configuration).has(price.id)) {
      throw invalidRequest(`The price '${price.id}' is not one of the prices in the portal configuration's features.subscription_update.products.`, {
        param: `${itemParam}[price]`,
      });
    }
  }
  if (item.quantity !== undefined) {
    const productId = (() => {
      const price = ctx.store.prices.get(item.price ?? subscription.items.data[0]!.price.id);
      return price ? (typeof price.product === 'string' ? price.product : price.product.id) : undefined;
    })();
    const quantity = update.products?.find((p) => p.product === productId)?.adjustable_quantity;
    const current = subscription.items.data[0]!.quantity ?? 1;
    if (item.quantity !== current && !quantity?.enabled) {
      throw invalidRequest(`Quantity changes are not enabled for this product in the portal configuration '${configuration.id}'.`, {
        param: `${itemParam}[quantity]`,
      });
    }
    if (quantity?.enabled && (item.quantity < quantity.minimum || (quantity.maximum !== null && item.quantity > quantity.maximum))) {
      throw invalidRequest(`${itemParam}[quantity] must be between ${quantity.minimum} and ${quantity.maximum ?? 'any'}.`, { param: `${itemParam}[quantity]` });
    }
  }
  const discounts = (request.discounts ?? []).map((d, i) => {
    const param = `${base}[discounts][${i}]`;
    if ((d.coupon === undefined) === (d.promotion_code === undefined)) {
      throw invalidRequest(`You must specify exactly one of coupon or promotion_code in ${param}.`, { param });
    }
    if (d.coupon !== undefined && !ctx.store.coupons.has(d.coupon)) throw resourceMissing('coupon', d.coupon, `${param}[coupon]`);
    if (d.promotion_code !== undefined && !ctx.store.promotionCodes.has(d.promotion_code)) {
      throw resourceMissing('promotion code', d.promotion_code, `${param}[promotion_code]`);
    }
    return { coupon: d.coupon ?? null, promotion_code: d.promotion_code ?? null };
  });
  return {
    subscription: subscription.id,
    items: [{ id: item.id, price: item.price ?? null, ...(item.quantity !== undefined ? { quantity: item.quantity } : {}) }],
    discounts: request.discounts ? discounts : null,
  };
}

/** Checks a `flow_data` hash as Stripe does and returns the session's `flow` for it. */
export function buildPortalFlow(
  ctx: RouteContext,
  flowData: FlowData,
  customer: Stripe.Customer,
  configuration: Stripe.BillingPortal.Configuration,
): Stripe.BillingPortal.Session.Flow {
  checkSubHashes(flowData);
  const afterCompletion = checkAfterCompletion(flowData.after_completion);
  const features = configuration.features;
  const flow: Stripe.BillingPortal.Session.Flow = {
    type: flowData.type,
    after_completion: afterCompletion,
    customer_update: null,
    subscription_cancel: null,
    subscription_pause: null,
    subscription_update: null,
    subscription_update_confirm: null,
  };
  switch (flowData.type) {
    case 'customer_update':
      if (!features.customer_update.enabled) throw disabled('customer_update', 'customer information update', configuration);
      flow.customer_update = {};
      break;
    case 'payment_method_update':
      if (!features.payment_method_update.enabled) throw disabled('payment_method_update', 'payment method update', configuration);
      break;
    case 'subscription_cancel': {
      const request = flowData.subscription_cancel!;
      const base = 'flow_data[subscription_cancel]';
      const subscription = ownSubscription(ctx, request.subscription, customer, `${base}[subscription]`);
      if (!features.subscription_cancel.enabled) throw disabled('subscription_cancel', 'subscription cancellation', configuration);
      if (request.retention && !ctx.store.coupons.has(request.retention.coupon_offer.coupon)) {
        throw resourceMissing('coupon', request.retention.coupon_offer.coupon, `${base}[retention][coupon_offer][coupon]`);
      }
      flow.subscription_cancel = {
        subscription: subscription.id,
        retention: request.retention ? { type: 'coupon_offer', coupon_offer: { coupon: request.retention.coupon_offer.coupon } } : null,
      };
      break;
    }
    case 'subscription_pause': {
      const subscription = ownSubscription(ctx, flowData.subscription_pause!.subscription, customer, 'flow_data[subscription_pause][subscription]');
      if (!features.subscription_pause.enabled) throw disabled('subscription_pause', 'subscription pause', configuration);
      flow.subscription_pause = { subscription: subscription.id };
      break;
    }
    case 'subscription_update': {
      const subscription = ownSubscription(ctx, flowData.subscription_update!.subscription, customer, 'flow_data[subscription_update][subscription]');
      if (!features.subscription_update.enabled || offeredPrices(configuration).size === 0) {
        throw disabled('subscription_update', 'subscription update', configuration);
      }
      flow.subscription_update = { subscription: subscription.id };
      break;
    }
    case 'subscription_update_confirm':
      flow.subscription_update_confirm = buildUpdateConfirm(ctx, flowData.subscription_update_confirm!, customer, configuration);
      break;
  }
  return flow;
}

/** A flow session opens straight on its flow, so its URL differs from the portal home's. */
export function flowPath(flow: Stripe.BillingPortal.Session.Flow): string {
  const subscription =
    flow.subscription_cancel?.subscription ??
    flow.subscription_update?.subscription ??
    flow.subscription_update_confirm?.subscription ??
    flow.subscription_pause?.subscription;
  return subscription ? `/flow/${flow.type}/${subscription}` : `/flow/${flow.type}`;
}
