import type Stripe from 'stripe';
import type { ToolContext } from './context.js';

/**
 * Product names for price ids' products. `expand` stops at 4 levels, so a subscription's
 * `items.data.price.product` (5) cannot be expanded in a list call: names come from the
 * cached catalogue, and only products missing there (legacy prices) are fetched.
 */
export async function productNames(ctx: ToolContext, productIds: Iterable<string>): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  const catalog = await ctx.catalog.prices();
  for (const { product } of catalog) names.set(product.id, product.name);
  const missing = [...new Set(productIds)].filter((id) => !names.has(id));
  const fetched = await Promise.all(missing.map((id) => ctx.stripe.products.retrieve(id)));
  for (const product of fetched) names.set(product.id, product.deleted ? 'Discontinued product' : product.name);
  return names;
}

export function productIdOf(price: Stripe.Price): string {
  return typeof price.product === 'string' ? price.product : price.product.id;
}
