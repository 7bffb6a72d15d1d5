/**
 * Customer portal sessions. The portal is where customers cancel or change plans themselves;
 * our server only mints links, so the fake enforces what makes Stripe refuse a link.
 */
import type Stripe from 'stripe';
import { z } from 'zod';
import { invalidRequest, parameterMissing, resourceMissing } from '../errors.js';
import { makePortalSession } from '../factories.js';
import { paginate } from '../paginate.js';
import { defineRoute, type RouteContext } from '../router.js';
import { expandParam, formBool, formEnum, paginationShape } from '../validate.js';
import { requireCustomer } from './customers.js';

export const NO_DEFAULT_PORTAL_CONFIGURATION_MESSAGE =
  'No configuration provided and your test mode default configuration has not been created. Provide a configuration or create your default by saving your customer portal settings in test mode at https://dashboard.stripe.com/test/settings/billing/portal.';

const subscriptionRef = z.strictObject({ subscription: z.string() });

const flowDataSchema = z.strictObject({
  type: formEnum([
    'customer_update',
    'payment_method_update',
    'subscription_cancel',
    'subscription_pause',
    'subscription_update',
    'subscription_update_confirm',
  ]),
  after_completion: z
    .strictObject({
      type: formEnum(['hosted_confirmation', 'portal_homepage', 'redirect']),
      hosted_confirmation: z.strictObject({ custom_message: z.string().optional() }).optional(),
      redirect: z.strictObject({ return_url: z.string() }).optional(),
    })
    .optional(),
  subscription_cancel: z
    .strictObject({
      subscription: z.string(),
      retention: z
        .strictObject({ type: formEnum(['coupon_offer']), coupon_offer: z.strictObject({ coupon: z.string() }) })
        .optional(),
    })
    .optional(),
  subscription_pause: subscriptionRef.optional(),
  subscription_update: subscriptionRef.optional(),
});
type FlowData = z.output<typeof flowDataSchema>;

function resolveConfiguration(ctx: RouteContext, id: string | undefined): Stripe.BillingPortal.Configuration {
  if (id !== undefined) {
    const configuration = ctx.store.portalConfigurations.get(id);
    if (!configuration) throw resourceMissing('configuration', id, 'configuration');
    return configuration;
  }
  const fallback = ctx.store.defaultPortalConfiguration();
  if (!fallback) throw invalidRequest(NO_DEFAULT_PORTAL_CONFIGURATION_MESSAGE);
  return fallback;
}

function buildFlow(
  ctx: RouteContext,
  flowData: FlowData,
  customer: Stripe.Customer,
  configuration: Stripe.BillingPortal.Configuration,
): Stripe.BillingPortal.Session.Flow {
  const after = flowData.after_completion;
  if (after?.type === 'redirect' && !after.redirect) throw parameterMissing('flow_data[after_completion][redirect]');
  let subscriptionCancel: Stripe.BillingPortal.Session.Flow.SubscriptionCancel | null = null;
  if (flowData.type === 'subscription_cancel') {
    const request = flowData.subscription_cancel;
    if (!request) throw parameterMissing('flow_data[subscription_cancel]');
    const param = 'flow_data[subscription_cancel][subscription]';
    const subscription = ctx.store.subscriptions.get(request.subscription);
    if (!subscription) throw resourceMissing('subscription', request.subscription, param);
    if (subscription.customer !== customer.id) {
      throw invalidRequest(`The subscription '${subscription.id}' does not belong to the customer '${customer.id}'.`, { param });
    }
    if (subscription.status === 'canceled' || subscription.status === 'incomplete_expired') {
      throw invalidRequest(`You can't cancel the subscription '${subscription.id}' because it has already been canceled.`, { param });
    }
    if (!configuration.features.subscription_cancel.enabled) {
      throw invalidRequest(
        `The subscription_cancel flow cannot be used because subscription cancellation is disabled in the portal configuration '${configuration.id}'.`,
        { param: 'flow_data[type]' },
      );
    }
    subscriptionCancel = {
      retention: request.retention ? { type: 'coupon_offer', coupon_offer: { coupon: request.retention.coupon_offer.coupon } } : null,
      subscription: subscription.id,
    };
  }
  return {
    type: flowData.type,
    after_completion: {
      type: after?.type ?? 'portal_homepage',
      hosted_confirmation: after?.type === 'hosted_confirmation' ? { custom_message: after.hosted_confirmation?.custom_message ?? null } : null,
      redirect: after?.redirect ? { return_url: after.redirect.return_url } : null,
    },
    customer_update: null,
    subscription_cancel: subscriptionCancel,
    subscription_pause: flowData.subscription_pause ? { subscription: flowData.subscription_pause.subscription } : null,
    subscription_update: flowData.subscription_update ? { subscription: flowData.subscription_update.subscription } : null,
    subscription_update_confirm: null,
  };
}

export const createPortalSession = defineRoute({
  key: 'POST /v1/billing_portal/sessions',
  params: z.strictObject({
    customer: z.string(),
    after_expiration: z.strictObject({ type: formEnum(['customer_login']), customer_login: z.strictObject({ expires_at: z.string().optional() }).optional() }).optional(),
    configuration: z.string().optional(),
    expand: expandParam,
    flow_data: flowDataSchema.optional(),
    locale: z.string().optional(),
    on_behalf_of: z.string().optional(),
    return_url: z.string().optional(),
  }),
  handle(ctx, params) {
    const customer = requireCustomer(ctx, params.customer, 'customer');
    const configuration = resolveConfiguration(ctx, params.configuration);
    const flow = params.flow_data ? buildFlow(ctx, params.flow_data, customer, configuration) : null;
    const id = ctx.store.nextId('bps');
    const secret = `test_${id.slice(4)}${ctx.now.toString(36)}`;
    // A flow session opens straight on its flow, so its URL differs from the portal home's.
    const url =
      flow?.type === 'subscription_cancel' && flow.subscription_cancel
        ? `https://billing.stripe.com/p/session/${secret}/flow/subscription_cancel/${flow.subscription_cancel.subscription}`
        : flow
          ? `https://billing.stripe.com/p/session/${secret}/flow/${flow.type}`
          : `https://billing.stripe.com/p/session/${secret}`;
    const session = makePortalSession({
      id,
      created: ctx.now,
      customer: customer.id,
      configuration: configuration.id,
      returnUrl: params.return_url ?? configuration.default_return_url,
      flow,
      url,
    });
    ctx.store.portalSessions.set(session.id, session);
    return session;
  },
});

export const listPortalConfigurations = defineRoute({
  key: 'GET /v1/billing_portal/configurations',
  params: z.strictObject({ ...paginationShape, active: formBool().optional(), is_default: formBool().optional() }),
  handle(ctx, params) {
    const configurations = [...ctx.store.portalConfigurations.values()].filter(
      (c) => (params.active === undefined || c.active === params.active) && (params.is_default === undefined || c.is_default === params.is_default),
    );
    return paginate(configurations, params, '/v1/billing_portal/configurations', 'configuration');
  },
});

export const retrievePortalConfiguration = defineRoute({
  key: 'GET /v1/billing_portal/configurations/:id',
  params: z.strictObject({ expand: expandParam }),
  handle(ctx) {
    const id = ctx.pathParams.id ?? '';
    const configuration = ctx.store.portalConfigurations.get(id);
    if (!configuration) throw resourceMissing('configuration', id, 'configuration');
    return configuration;
  },
});

export const billingPortalRoutes = [createPortalSession, listPortalConfigurations, retrievePortalConfiguration];
