import { z } from 'zod';
import { resourceMissing } from '../errors.js';
import { paginate } from '../paginate.js';
import { defineRoute } from '../router.js';
import { expandParam, matchesRange, paginationShape, rangeParam } from '../validate.js';

export const listCharges = defineRoute({
  key: 'GET /v1/charges',
  params: z.strictObject({
    ...paginationShape,
    created: rangeParam,
    customer: z.string().optional(),
    payment_intent: z.string().optional(),
    transfer_group: z.string().optional(),
  }),
  handle(ctx, params) {
    const charges = [...ctx.store.charges.values()].filter(
      (c) =>
        (params.customer === undefined || c.customer === params.customer) &&
        (params.payment_intent === undefined || c.payment_intent === params.payment_intent) &&
        (params.transfer_group === undefined || c.transfer_group === params.transfer_group) &&
        matchesRange(c.created, params.created),
    );
    return paginate(charges, params, '/v1/charges', 'charge');
  },
});

/** One charge, e.g. to check whose it is and what is left to refund before refunding it. */
export const retrieveCharge = defineRoute({
  key: 'GET /v1/charges/:id',
  params: z.strictObject({ expand: expandParam }),
  handle(ctx) {
    const id = ctx.pathParams.id ?? '';
    const charge = ctx.store.charges.get(id);
    if (!charge) throw resourceMissing('charge', id);
    return charge;
  },
});

export const chargeRoutes = [listCharges, retrieveCharge];
