import { z } from 'zod';
import { quoted } from '../format/untrusted-text.js';
import { subscriptionIdSchema } from './lib/choose-subscription.js';
import { defineTool } from './lib/define-tool.js';
import { cancelLinkNote, createCancelLink, subscriptionForFlow } from './lib/portal-flows.js';

export default defineTool({
  name: 'cancel_subscription',
  title: 'Cancel subscription (portal link)',
  description:
    "A personal billing-portal link that opens the cancellation page for the customer's subscription, where they confirm it themselves; it shows the merchant's offer to stay when there is one, and the answer says the offer and what cancelling does (when it ends, refund or credit). Use when a customer asks to cancel. It never cancels anything directly.",
  audience: 'customer',
  discloses: ['subscription', 'billing_portal_link'],
  writes: 'portal_cancel_session',
  permissions: ['rak_customer_read', 'rak_subscription_read', 'rak_billing_portal_session_write'],
  optionalPermissions: {
    rak_product_read: 'product names (plans are named by their price)',
    rak_billing_portal_configuration_read: 'what cancelling does (when it ends, refund or credit)',
  },
  portal: 'cancel',
  inputSchema: {
    subscription_id: subscriptionIdSchema.describe('Needed only when the customer has several current subscriptions (sub_…).'),
  },
  outputSchema: {
    subscription: z.object({ id: z.string(), plan: z.string(), status: z.string() }),
    outcome: z.enum(['link_created', 'already_canceled', 'already_scheduled']),
    url: z.string().optional().describe('Present when outcome is link_created.'),
    retention_offer: z.string().optional().describe("The merchant's offer to stay, shown in the portal before the customer confirms."),
    note: z.string(),
    summary: z.string(),
  },
  // Only creates a portal session: the subscription changes only if the customer confirms in
  // the portal, so nothing here is destructive and billing state is untouched.
  annotations: { readOnlyHint: true, destructiveHint: false, openWorldHint: false },
  async handler(input, ctx) {
    const { customers } = await ctx.customer();
    const chosen = await subscriptionForFlow(ctx, customers, input.subscription_id, 'cancel');
    const { subscription, plan } = chosen;
    const about = { id: subscription.id, plan, status: subscription.status };

    if (chosen.kind === 'ended') {
      return { subscription: about, outcome: 'already_canceled' as const, note: chosen.note, summary: `${quoted(plan)} is already canceled.` };
    }
    if (chosen.kind === 'scheduled') {
      return { subscription: about, outcome: 'already_scheduled' as const, note: chosen.note, summary: `${quoted(plan)} is already scheduled to cancel${chosen.when ?? ''}.` };
    }

    const link = await createCancelLink(ctx, subscription);
    return {
      subscription: about,
      outcome: 'link_created' as const,
      url: link.session.url,
      ...(link.offer ? { retention_offer: link.offer.description } : {}),
      note: cancelLinkNote(link),
      summary: `Cancellation link created for ${quoted(plan)}${link.offer ? ', with the merchant’s offer to stay' : ''}.`,
    };
  },
  summarize(output) {
    const subscription = `Subscription ${output.subscription.id} (${output.subscription.status}).`;
    return output.url ? `${output.summary} ${output.url}\n${subscription} ${output.note}` : `${output.summary} ${subscription} ${output.note}`;
  },
});
