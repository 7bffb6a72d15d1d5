/**
 * Customer portal sessions. The portal is where customers cancel or change plans themselves;
 * our server only mints links, so the fake enforces what makes Stripe refuse a link.
 */
import type Stripe from 'stripe';
import { z } from 'zod';
import { invalidRequest, resourceMissing } from '../errors.js';
import { makePortalSession } from '../factories.js';
import { paginate } from '../paginate.js';
import { buildPortalFlow, flowDataSchema, flowPath } from '../portal-flows.js';
import { defineRoute, type RouteContext } from '../router.js';
import { expandParam, formBool, formEnum, paginationShape } from '../validate.js';
import { requireCustomer } from './customers.js';

export const NO_DEFAULT_PORTAL_CONFIGURATION_MESSAGE =
  'No configuration provided and your test mode default configuration has not been created. Provide a configuration or create your default by saving your customer portal settings in test mode at https://dashboard.stripe.com/test/settings/billing/portal.';

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
    const flow = params.flow_data ? buildPortalFlow(ctx, params.flow_data, customer, configuration) : null;
    const id = ctx.store.nextId('bps');
    const secret = `test_${id.slice(4)}${ctx.now.toString(36)}`;
    // A flow session opens straight on its flow, so its URL differs from the portal home's.
    const url = `https://billing.stripe.com/p/session/${secret}${flow ? flowPath(flow) : ''}`;
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
