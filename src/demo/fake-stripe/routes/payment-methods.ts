import { z } from 'zod';
import { resourceMissing } from '../errors.js';
import { defineRoute } from '../router.js';
import { expandParam } from '../validate.js';

export const retrievePaymentMethod = defineRoute({
  key: 'GET /v1/payment_methods/:id',
  params: z.strictObject({ expand: expandParam }),
  handle(ctx) {
    const id = ctx.pathParams.id ?? '';
    const paymentMethod = ctx.store.paymentMethods.get(id);
    if (!paymentMethod) throw resourceMissing('PaymentMethod', id);
    return paymentMethod;
  },
});

export const paymentMethodRoutes = [retrievePaymentMethod];
