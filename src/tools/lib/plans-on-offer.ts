import type { CatalogPrice } from '../../cache/billing-reads.js';
import type { ToolContext } from './context.js';

/** Product id → the prices offered for it; null allows every price of the product. */
export type PlansOnOffer = Map<string, Set<string> | null>;

/**
 * Which products (and prices) customers may be shown or pick: PLAN_PRODUCTS, else the plans the
 * billing portal lets them switch to, else everything (doctor warns: a product made for one
 * customer would be shown to all). get_available_plans lists by this rule and preview_plan_change
 * accepts by it, so a customer is never offered a plan they could not then preview.
 */
export async function plansOnOffer(ctx: ToolContext): Promise<PlansOnOffer | undefined> {
  if (ctx.settings.planProducts) return new Map(ctx.settings.planProducts.map((product) => [product, null]));
  const switchable = await ctx.reads.switchablePlans(ctx.settings.portalConfiguration);
  if (!switchable) return undefined;
  return new Map(switchable.products.map(({ product, prices }) => [product, prices.length > 0 ? new Set(prices) : null]));
}

export function isOnOffer(onOffer: PlansOnOffer | undefined, { price, product }: CatalogPrice): boolean {
  if (!onOffer) return true;
  if (!onOffer.has(product.id)) return false;
  const prices = onOffer.get(product.id);
  return !prices || prices.has(price.id);
}

/** Active, recurring, with a fixed per-unit amount: tiered and metered prices have no single price to quote. */
export function isQuotable({ price, product }: CatalogPrice): boolean {
  return (
    price.active &&
    product.active &&
    price.type === 'recurring' &&
    price.recurring?.usage_type === 'licensed' &&
    price.billing_scheme === 'per_unit' &&
    price.unit_amount !== null
  );
}

/** The catalogue entry of a price the customer may pick, or undefined when it is not on offer. */
export async function pickablePlan(ctx: ToolContext, priceId: string): Promise<CatalogPrice | undefined> {
  const [catalog, onOffer] = await Promise.all([ctx.reads.catalogPrices(), plansOnOffer(ctx)]);
  return catalog.find((entry) => entry.price.id === priceId && isQuotable(entry) && isOnOffer(onOffer, entry));
}
