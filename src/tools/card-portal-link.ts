import { z } from 'zod';
import { cardGrantFor } from '../apps/card-grant.js';
import { ToolError } from '../errors.js';
import { isoDate } from '../format/dates.js';
import getBillingPortalLink from './get-billing-portal-link.js';
import { subscriptionIdSchema } from './lib/choose-subscription.js';
import { defineTool } from './lib/define-tool.js';
import { isoDateSchema, matching } from './lib/schemas.js';

/** One answer for an unknown, expired or someone else's card: nothing to probe. */
export const CARD_EXPIRED_MESSAGE = 'This billing card has expired. Ask the assistant again to see a fresh one.';

/** The card's buttons, as the portal pages they open. */
const PAGES = { manage: undefined, update_card: 'update_payment_method', change_plan: 'change_plan' } as const;

/** A portal link lives five minutes on Stripe's side; the card opens it at once. */
const PORTAL_LINK_MINUTES = 5;

export default defineTool({
  name: 'card_portal_link',
  title: 'Billing card: open the billing portal',
  description: "Behind the billing card's Manage billing, Update card and Change plan buttons: a fresh billing-portal link for the card's customer, which the card opens through the host. Only the card calls it.",
  audience: 'customer',
  visibility: 'app',
  discloses: ['billing_portal_link'],
  writes: 'portal_session',
  permissions: getBillingPortalLink.permissions,
  optionalPermissions: getBillingPortalLink.optionalPermissions,
  portal: 'session',
  inputSchema: {
    purpose: z.enum(['manage', 'update_card', 'change_plan']).describe('The button pressed.'),
    card: matching(z.string(), /^[A-Za-z0-9_-]{32,128}$/, 'card is the token the card was given').describe("The card's token (its result's _meta)."),
    subscription_id: subscriptionIdSchema.describe('For change_plan, the subscription the card shows (sub_…).'),
  },
  outputSchema: { url: z.string(), expires_at: isoDateSchema, opens: z.string() },
  annotations: { readOnlyHint: true, openWorldHint: false },
  async handler(input, ctx) {
    const grant = await cardGrantFor(ctx, ctx.principal, ctx.conversation, input.card);
    if (!grant) throw new ToolError('not_found', CARD_EXPIRED_MESSAGE);
    // The card's customer must be the one this call is for (staff: the server chose it from the grant).
    const target = await ctx.customer();
    if (grant.customer_id !== null && !target.customers.some((customer) => customer.id === grant.customer_id)) throw new ToolError('not_found', CARD_EXPIRED_MESSAGE);
    const link = await getBillingPortalLink.handler({ purpose: PAGES[input.purpose], subscription_id: input.subscription_id }, ctx);
    return { url: link.url, expires_at: isoDate(Math.floor(Date.now() / 1000) + PORTAL_LINK_MINUTES * 60), opens: link.opens };
  },
  summarize(output) {
    return `Billing portal link created (${output.opens}).`;
  },
});
