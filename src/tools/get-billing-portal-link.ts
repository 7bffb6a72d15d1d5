import type { SlimCustomer } from '../cache/projections.js';
import { z } from 'zod';
import { isoDateSchema } from './lib/schemas.js';
import type { ToolContext } from './lib/context.js';
import { defineTool } from './lib/define-tool.js';
import { createPortalSession, PORTAL_LINK_NOTE, portalRecord } from './lib/portal.js';
import { isoDate } from '../format/dates.js';
import { listSubscriptions } from './lib/subscriptions.js';

/** Statuses only, to pick a record: no expansions, so no permissions beyond subscription read. Live: a link is an action. */
function subscriptionsOf(ctx: ToolContext, customers: readonly SlimCustomer[]) {
  return listSubscriptions(ctx, customers, { withDiscounts: false, live: true });
}

export default defineTool({
  name: 'get_billing_portal_link',
  title: 'Billing portal link',
  description:
    "A personal, short-lived link to the self-service billing portal, where the customer updates their card, downloads invoices or changes their plan. Use when they want to change something themselves. Changes nothing by itself.",
  audience: 'customer',
  discloses: ['billing_portal_link'],
  writes: 'portal_session',
  permissions: ['rak_customer_read', 'rak_subscription_read', 'rak_billing_portal_session_write'],
  portal: 'session',
  inputSchema: {},
  outputSchema: {
    url: z.string(),
    created: isoDateSchema,
    note: z.string(),
    summary: z.string(),
  },
  // readOnlyHint: the call creates a portal session (a login link), but changes no billing
  // state; anything the customer then does happens in the portal, by the customer's own hand.
  annotations: { readOnlyHint: true, openWorldHint: false },
  async handler(_input, ctx) {
    const { customers } = await ctx.customer();
    // Staff choosing by customer_id get exactly that record; otherwise the one with a live subscription.
    const record = customers.length === 1 ? customers[0]! : portalRecord(customers, await subscriptionsOf(ctx, customers));
    const session = await createPortalSession(ctx, record.id);
    return {
      url: session.url,
      created: isoDate(session.created),
      note: PORTAL_LINK_NOTE,
      summary: 'Billing portal link created.',
    };
  },
  summarize(output) {
    return `Billing portal: ${output.url}\n${output.note}`;
  },
});
