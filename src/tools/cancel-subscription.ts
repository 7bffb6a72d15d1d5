import { z } from 'zod';
import { quoted } from '../format/untrusted-text.js';
import { chooseSubscription, subscriptionIdSchema } from './lib/choose-subscription.js';
import { defineTool } from './lib/define-tool.js';
import { createPortalSession, PORTAL_LINK_NOTE } from './lib/portal.js';

const CANCEL_TIMING_NOTE =
  'Whether it ends immediately or at the end of the paid period is the merchant’s portal setting; the portal shows which before the customer confirms.';

export default defineTool({
  name: 'cancel_subscription',
  title: 'Cancel subscription (portal link)',
  description:
    "A personal billing-portal link that opens the cancellation page for the customer's subscription, where they confirm it themselves. Use when a customer asks to cancel. It never cancels anything directly.",
  audience: 'customer',
  discloses: ['subscription', 'billing_portal_link'],
  writes: 'portal_cancel_session',
  permissions: ['rak_customer_read', 'rak_subscription_read', 'rak_billing_portal_session_write'],
  optionalPermissions: { rak_product_read: 'product names (plans are named by their price)' },
  portal: 'cancel',
  inputSchema: {
    subscription_id: subscriptionIdSchema.describe('Needed only when the customer has several current subscriptions (sub_…).'),
  },
  outputSchema: {
    subscription: z.object({ id: z.string(), plan: z.string(), status: z.string() }),
    outcome: z.enum(['link_created', 'already_canceled', 'already_scheduled']),
    url: z.string().optional().describe('Present when outcome is link_created.'),
    note: z.string(),
    summary: z.string(),
  },
  // Only creates a portal session: the subscription changes only if the customer confirms in
  // the portal, so nothing here is destructive and billing state is untouched.
  annotations: { readOnlyHint: true, destructiveHint: false, openWorldHint: false },
  async handler(input, ctx) {
    const { customers } = await ctx.customer();
    const { subscription, view } = await chooseSubscription(ctx, customers, input.subscription_id, 'cancel', { withDiscounts: false });
    const about = { id: subscription.id, plan: view.plan, status: subscription.status };

    if (subscription.status === 'canceled' || subscription.status === 'incomplete_expired') {
      return { subscription: about, outcome: 'already_canceled' as const, note: 'This subscription has already ended; there is nothing to cancel.', summary: `${quoted(view.plan)} is already canceled.` };
    }
    if (subscription.cancel_at_period_end || subscription.cancel_at) {
      const end = view.cancel_at ?? view.current_period_end;
      const when = end ? ` on ${end.slice(0, 10)}` : '';
      return {
        subscription: about,
        outcome: 'already_scheduled' as const,
        note: `This subscription is already set to end${when}; no further payments will be taken. The customer can undo this in the billing portal if they change their mind.`,
        summary: `${quoted(view.plan)} is already scheduled to cancel${when}.`,
      };
    }

    const returnUrl = ctx.settings.portalReturnUrl;
    const customer = subscription.customer;
    const session = await createPortalSession(ctx, customer, {
      type: 'subscription_cancel',
      subscription_cancel: { subscription: subscription.id },
      ...(returnUrl ? { after_completion: { type: 'redirect', redirect: { return_url: returnUrl } } } : {}),
    });
    const renewal = subscription.status === 'trialing' ? '' : view.current_period_end ? ` The current period runs until ${view.current_period_end.slice(0, 10)}.` : '';
    return {
      subscription: about,
      outcome: 'link_created' as const,
      url: session.url,
      note: `Nothing has been canceled yet: the customer confirms on this page. ${CANCEL_TIMING_NOTE}${renewal} ${PORTAL_LINK_NOTE}`,
      summary: `Cancellation link created for ${quoted(view.plan)}.`,
    };
  },
  summarize(output) {
    return output.url ? `${output.summary} ${output.url}\n${output.note}` : `${output.summary} ${output.note}`;
  },
});
