import type { ToolContext } from './context.js';

/**
 * Product names for price ids' products. `expand` stops at 4 levels, so a subscription's
 * `items.data.price.product` (5) cannot be expanded in a list call: names come from the
 * cached catalogue, and only products missing there (legacy prices) are fetched.
 */
export async function productNames(ctx: ToolContext, productIds: Iterable<string>): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  const catalog = await ctx.reads.catalogPrices();
  for (const { product } of catalog) names.set(product.id, product.name);
  const missing = [...new Set(productIds)].filter((id) => !names.has(id));
  const fetched = await Promise.all(missing.map(async (id) => [id, (await ctx.reads.product(id))?.name ?? 'Discontinued product'] as const));
  for (const [id, name] of fetched) names.set(id, name);
  return names;
}
