import type { CatalogPrice } from '../../cache/billing-reads.js';
import type { SlimPrice } from '../../cache/projections.js';
import { isStripeError } from '../../stripe/errors.js';
import type { ToolContext } from './context.js';

/**
 * The cached catalogue when the key may read it (prices with their products), else nothing:
 * callers that only want product names then fetch the products one by one.
 */
export async function catalogIfReadable(ctx: ToolContext): Promise<CatalogPrice[]> {
  if (ctx.availability?.lacks('rak_price_read') || ctx.availability?.lacks('rak_product_read')) return [];
  try {
    return await ctx.reads.catalogPrices();
  } catch (error) {
    if (isStripeError(error) && error.statusCode === 403) return [];
    throw error;
  }
}

/**
 * Plan names for prices: their product's name. `expand` stops at 4 levels, so a subscription's
 * `items.data.price.product` (5) cannot be expanded in a list call: names come from the cached
 * catalogue, and only products missing there (legacy prices) are fetched. Without products read
 * (an optional section) a plan is named by its price's nickname, else its id.
 */
export async function productNames(ctx: ToolContext, prices: Iterable<SlimPrice>): Promise<(price: SlimPrice) => string> {
  const names = new Map<string, string>();
  const all = [...prices];
  for (const { product } of await catalogIfReadable(ctx)) names.set(product.id, product.name);
  const missing = [...new Set(all.map((price) => price.product))].filter((id) => !names.has(id));
  if (missing.length > 0) {
    const fetched = await ctx.sections.read(
      'rak_product_read',
      () => Promise.all(missing.map(async (id) => [id, (await ctx.reads.product(id))?.name ?? 'Discontinued product'] as const)),
      [],
    );
    for (const [id, name] of fetched) names.set(id, name);
  }
  return (price) => names.get(price.product) ?? price.nickname ?? price.id;
}
