import type Stripe from 'stripe';

export interface CatalogPrice {
  price: Stripe.Price;
  product: Stripe.Product;
}

/**
 * Active recurring prices with their products. The catalogue changes rarely and every
 * visitor asks for it, so it is fetched once per TTL and shared (one in-flight load).
 */
export class PriceCatalog {
  private cached: { at: number; prices: CatalogPrice[] } | undefined;
  private loading: Promise<CatalogPrice[]> | undefined;

  constructor(
    private readonly stripe: Stripe,
    private readonly ttlMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  async prices(): Promise<CatalogPrice[]> {
    if (this.cached && this.now() - this.cached.at < this.ttlMs) return this.cached.prices;
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(): Promise<CatalogPrice[]> {
    const prices: CatalogPrice[] = [];
    for await (const price of this.stripe.prices.list({ active: true, type: 'recurring', limit: 100, expand: ['data.product'] })) {
      const product = price.product;
      if (typeof product === 'string' || product.deleted || !product.active) continue;
      prices.push({ price, product });
      if (prices.length >= 500) break;
    }
    this.cached = { at: this.now(), prices };
    return prices;
  }
}
