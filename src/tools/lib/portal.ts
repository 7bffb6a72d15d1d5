import type Stripe from 'stripe';
import type { SlimCustomer, SlimSubscription } from '../../cache/projections.js';
import { ToolError } from '../../errors.js';
import { isStripeError } from '../../stripe/errors.js';
import type { ToolContext } from './context.js';
import { LIVE_STATUSES } from './subscriptions.js';

export const PORTAL_NOT_SET_UP_MESSAGE =
  'The billing portal is not set up for this account, so no self-service link can be created. The customer can contact the merchant’s support for billing changes; do not retry.';

export const PORTAL_FLOW_DISABLED_MESSAGE =
  'The billing portal is not set up to do this for this account. The customer can contact the merchant’s support instead; do not retry.';

export const PORTAL_LINK_NOTE =
  'This link is personal and short-lived: give it only to this customer, do not share or store it elsewhere, and create a new one if it has expired.';

/** The record a portal session is for: the one with a live subscription, else the newest (records are newest first). */
export function portalRecord(customers: readonly SlimCustomer[], subscriptions: readonly SlimSubscription[]): SlimCustomer {
  const live = subscriptions.find((sub) => LIVE_STATUSES.has(sub.status));
  const ownerId = live?.customer;
  return customers.find((customer) => customer.id === ownerId) ?? customers[0]!;
}

/**
 * Stripe answers 400 when the account has no saved portal configuration ("No configuration
 * provided…") or PORTAL_CONFIGURATION names a missing one; neither is the customer's doing, and
 * Stripe's text names dashboard URLs and ids, so it becomes one safe message.
 */
function isPortalConfigurationProblem(error: unknown): boolean {
  if (!isStripeError(error) || error.type !== 'StripeInvalidRequestError') return false;
  return error.param === 'configuration' || /configuration/i.test(error.message);
}

export async function createPortalSession(
  ctx: ToolContext,
  customer: string,
  flowData?: Stripe.BillingPortal.SessionCreateParams.FlowData,
): Promise<Stripe.BillingPortal.Session> {
  const { portalReturnUrl, portalConfiguration } = ctx.settings;
  try {
    return await ctx.stripe.billingPortal.sessions.create({
      customer,
      ...(portalReturnUrl ? { return_url: portalReturnUrl } : {}),
      ...(portalConfiguration ? { configuration: portalConfiguration } : {}),
      ...(flowData ? { flow_data: flowData } : {}),
    });
  } catch (error) {
    if (isPortalConfigurationProblem(error)) {
      const detail = isStripeError(error) ? { stripeMessage: error.message, requestId: error.requestId } : undefined;
      // A configuration that exists but has the flow's feature switched off names the feature
      // (and the flow's type as the parameter).
      const flowDisabled = flowData && isStripeError(error) && (error.param === 'flow_data[type]' || /features|disabled|subscription_cancel/i.test(error.message));
      throw new ToolError('configuration', flowDisabled ? PORTAL_FLOW_DISABLED_MESSAGE : PORTAL_NOT_SET_UP_MESSAGE, {
        operation: 'create billing portal session',
        ...detail,
      });
    }
    throw error;
  }
}
