import type Stripe from 'stripe';
import { ToolError } from '../../errors.js';
import type { ToolContext } from './context.js';

export type ProrationBehavior = Stripe.BillingPortal.Configuration.Features.SubscriptionUpdate.ProrationBehavior;

/** What the billing portal lets a customer do when switching plans, read from Stripe now. */
export interface PortalPlanSwitching {
  configuration: string;
  /** Off, or on with no products to switch to: the portal cannot confirm a plan change. */
  enabled: boolean;
  /** How the portal bills the change: the preview must bill it the same way. */
  prorationBehavior: ProrationBehavior;
  products: Stripe.BillingPortal.Configuration.Features.SubscriptionUpdate.Product[];
}

/**
 * PORTAL_CONFIGURATION, else the account's default configuration, read live (not cached): the
 * preview's proration behaviour must be the one the portal will use at the moment of the link.
 */
export async function portalPlanSwitching(ctx: ToolContext): Promise<PortalPlanSwitching> {
  const id = ctx.settings.portalConfiguration;
  const expand = ['features.subscription_update.products'];
  const configuration = id
    ? await ctx.stripe.billingPortal.configurations.retrieve(id, { expand })
    : (await ctx.stripe.billingPortal.configurations.list({ is_default: true, limit: 1, expand: expand.map((path) => `data.${path}`) })).data[0];
  if (!configuration) {
    throw new ToolError('configuration', 'The billing portal is not set up for this account, so plan changes cannot be previewed or offered here. The customer can contact the merchant’s support; do not retry.');
  }
  const update = configuration.features.subscription_update;
  const products = update.products ?? [];
  return {
    configuration: configuration.id,
    enabled: configuration.active && update.enabled && products.length > 0,
    prorationBehavior: update.proration_behavior,
    products,
  };
}

/** Whether the portal's confirm page can show this price (Stripe refuses any other). */
export function portalOffers(switching: PortalPlanSwitching, product: string, price: string): boolean {
  const entry = switching.products.find((candidate) => candidate.product === product);
  return entry !== undefined && (entry.prices.length === 0 || entry.prices.includes(price));
}

/** The portal's quantity rule for a product: undefined when the customer may not change the quantity. */
export function adjustableQuantity(switching: PortalPlanSwitching, product: string): { minimum: number; maximum: number | null } | undefined {
  const rule = switching.products.find((candidate) => candidate.product === product)?.adjustable_quantity;
  return rule?.enabled ? { minimum: rule.minimum, maximum: rule.maximum } : undefined;
}
