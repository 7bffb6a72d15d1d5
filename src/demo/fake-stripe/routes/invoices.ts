import type Stripe from 'stripe';
import { z } from 'zod';
import { invalidRequest, parameterMissing, resourceMissing } from '../errors.js';
import { previewNextInvoice } from '../invoice-preview.js';
import { payInvoice, payInvoiceParams } from '../invoice-pay.js';
import { previewSubscriptionChange } from '../subscription-change-preview.js';
import { paginate } from '../paginate.js';
import { defineRoute, type RouteContext } from '../router.js';
import { expandParam, formBool, formEnum, formInt, matchesRange, paginationShape, rangeParam } from '../validate.js';

function requireInvoice(ctx: RouteContext, id: string): Stripe.Invoice {
  const invoice = ctx.store.invoices.get(id);
  if (!invoice) throw resourceMissing('invoice', id);
  return invoice;
}

/** Basil moved the subscription off the invoice into `parent.subscription_details`. */
const subscriptionOf = (invoice: Stripe.Invoice): string | null => {
  const sub = invoice.parent?.subscription_details?.subscription ?? null;
  return typeof sub === 'string' || sub === null ? sub : sub.id;
};

export const listInvoices = defineRoute({
  key: 'GET /v1/invoices',
  params: z.strictObject({
    ...paginationShape,
    collection_method: formEnum(['charge_automatically', 'send_invoice']).optional(),
    created: rangeParam,
    customer: z.string().optional(),
    customer_account: z.string().optional(),
    due_date: rangeParam,
    status: formEnum(['draft', 'open', 'paid', 'uncollectible', 'void']).optional(),
    subscription: z.string().optional(),
  }),
  handle(ctx, params) {
    const invoices = [...ctx.store.invoices.values()].filter(
      (i) =>
        (params.customer === undefined || i.customer === params.customer) &&
        (params.status === undefined || i.status === params.status) &&
        (params.subscription === undefined || subscriptionOf(i) === params.subscription) &&
        (params.collection_method === undefined || i.collection_method === params.collection_method) &&
        matchesRange(i.created, params.created) &&
        (params.due_date === undefined || (i.due_date !== null && matchesRange(i.due_date, params.due_date))),
    );
    return paginate(invoices, params, '/v1/invoices', 'invoice');
  },
});

export const retrieveInvoice = defineRoute({
  key: 'GET /v1/invoices/:id',
  params: z.strictObject({ expand: expandParam }),
  handle(ctx) {
    return requireInvoice(ctx, ctx.pathParams.id ?? '');
  },
});

export const sendInvoice = defineRoute({
  key: 'POST /v1/invoices/:id/send',
  params: z.strictObject({ expand: expandParam }),
  handle(ctx) {
    const invoice = requireInvoice(ctx, ctx.pathParams.id ?? '');
    if (invoice.collection_method !== 'send_invoice') {
      throw invalidRequest("You can only manually send an invoice if its collection method is 'send_invoice'.");
    }
    if (invoice.status !== 'open') {
      throw invalidRequest(`You can only send an invoice that is open; this invoice is ${invoice.status ?? 'unknown'}.`);
    }
    ctx.store.sentInvoices.push({ invoice: invoice.id, at: ctx.now });
    return invoice;
  },
});

export const createInvoicePreview = defineRoute({
  key: 'POST /v1/invoices/create_preview',
  params: z.strictObject({
    customer: z.string().optional(),
    subscription: z.string().optional(),
    expand: expandParam,
    preview_mode: formEnum(['next', 'recurring']).optional(),
    subscription_details: z
      .strictObject({
        items: z
          .array(
            z.strictObject({
              id: z.string().optional(),
              price: z.string().optional(),
              quantity: formInt({ min: 0 }).optional(),
              deleted: formBool().optional(),
            }),
          )
          .optional(),
        proration_behavior: formEnum(['always_invoice', 'create_prorations', 'none']).optional(),
        proration_date: formInt().optional(),
        billing_cycle_anchor: z.strictObject({ type: formEnum(['now', 'timestamp', 'unchanged']), timestamp: formInt().optional() }).optional(),
      })
      .optional(),
  }),
  handle(ctx, params) {
    if (params.subscription_details === undefined) return previewNextInvoice(ctx.store, params);
    // Previewing a new subscription (subscription_details without subscription) is not modelled.
    if (params.subscription === undefined) throw parameterMissing('subscription');
    const subscription = ctx.store.subscriptions.get(params.subscription);
    if (!subscription) throw resourceMissing('subscription', params.subscription, 'subscription');
    const owner = typeof subscription.customer === 'string' ? subscription.customer : subscription.customer.id;
    if (params.customer !== undefined && params.customer !== owner) {
      throw invalidRequest(`The subscription ${subscription.id} does not belong to customer ${params.customer}.`, { param: 'subscription' });
    }
    return previewSubscriptionChange(ctx.store, subscription, params.subscription_details, ctx.now);
  },
});

export const payInvoiceRoute = defineRoute({
  key: 'POST /v1/invoices/:id/pay',
  params: payInvoiceParams,
  handle(ctx, params) {
    return payInvoice(ctx, requireInvoice(ctx, ctx.pathParams.id ?? ''), params);
  },
});

export const invoiceRoutes = [listInvoices, retrieveInvoice, sendInvoice, createInvoicePreview, payInvoiceRoute];
