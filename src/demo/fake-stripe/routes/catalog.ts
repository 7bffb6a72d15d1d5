/** Prices, products, coupons and promotion codes: what a customer can buy and redeem. */
import { z } from 'zod';
import { resourceMissing } from '../errors.js';
import { paginate } from '../paginate.js';
import { defineRoute } from '../router.js';
import { expandParam, formBool, formEnum, matchesRange, paginationShape, rangeParam } from '../validate.js';

export const listPrices = defineRoute({
  key: 'GET /v1/prices',
  params: z.strictObject({
    ...paginationShape,
    active: formBool().optional(),
    created: rangeParam,
    currency: z.string().optional(),
    lookup_keys: z.array(z.string()).optional(),
    product: z.string().optional(),
    recurring: z
      .strictObject({
        interval: formEnum(['day', 'month', 'week', 'year']).optional(),
        meter: z.string().optional(),
        usage_type: formEnum(['licensed', 'metered']).optional(),
      })
      .optional(),
    type: formEnum(['one_time', 'recurring']).optional(),
  }),
  handle(ctx, params) {
    const prices = [...ctx.store.prices.values()].filter(
      (p) =>
        (params.active === undefined || p.active === params.active) &&
        (params.type === undefined || p.type === params.type) &&
        (params.currency === undefined || p.currency === params.currency) &&
        (params.product === undefined || p.product === params.product) &&
        (params.lookup_keys === undefined || (p.lookup_key !== null && params.lookup_keys.includes(p.lookup_key))) &&
        (params.recurring?.interval === undefined || p.recurring?.interval === params.recurring.interval) &&
        (params.recurring?.usage_type === undefined || p.recurring?.usage_type === params.recurring.usage_type) &&
        matchesRange(p.created, params.created),
    );
    return paginate(prices, params, '/v1/prices', 'price');
  },
});

export const retrieveProduct = defineRoute({
  key: 'GET /v1/products/:id',
  params: z.strictObject({ expand: expandParam }),
  handle(ctx) {
    const id = ctx.pathParams.id ?? '';
    const product = ctx.store.products.get(id);
    if (!product) throw resourceMissing('product', id);
    return product;
  },
});

export const retrieveCoupon = defineRoute({
  key: 'GET /v1/coupons/:id',
  params: z.strictObject({ expand: expandParam }),
  handle(ctx) {
    const id = ctx.pathParams.id ?? '';
    const coupon = ctx.store.coupons.get(id);
    if (!coupon) throw resourceMissing('coupon', id);
    return coupon;
  },
});

export const listPromotionCodes = defineRoute({
  key: 'GET /v1/promotion_codes',
  params: z.strictObject({
    ...paginationShape,
    active: formBool().optional(),
    code: z.string().optional(),
    coupon: z.string().optional(),
    created: rangeParam,
    customer: z.string().optional(),
    customer_account: z.string().optional(),
  }),
  handle(ctx, params) {
    const codes = [...ctx.store.promotionCodes.values()].filter((p) => {
      const coupon = typeof p.promotion.coupon === 'string' ? p.promotion.coupon : (p.promotion.coupon?.id ?? null);
      const customer = typeof p.customer === 'string' ? p.customer : (p.customer?.id ?? null);
      return (
        // Customers type codes in any case; Stripe's code filter is case-insensitive.
        (params.code === undefined || p.code.toLowerCase() === params.code.toLowerCase()) &&
        (params.active === undefined || p.active === params.active) &&
        (params.coupon === undefined || coupon === params.coupon) &&
        (params.customer === undefined || customer === params.customer) &&
        matchesRange(p.created, params.created)
      );
    });
    return paginate(codes, params, '/v1/promotion_codes', 'promotion code');
  },
});

export const catalogRoutes = [listPrices, retrieveProduct, retrieveCoupon, listPromotionCodes];
