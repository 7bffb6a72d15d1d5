import { z } from 'zod';
import { ToolError } from '../errors.js';
import { isoDay } from '../format/dates.js';
import { quoted } from '../format/untrusted-text.js';
import { proposeAndConfirm, requestViewSchema, summarizeRequest } from './lib/action-requests.js';
import { chooseSubscription, subscriptionIdSchema } from './lib/choose-subscription.js';
import { defineTool } from './lib/define-tool.js';
import { pausedCollection } from './lib/paused-collection.js';

export default defineTool({
  name: 'resume_subscription',
  title: 'Resume a paused subscription',
  description:
    "Asks to end the pause of the customer's subscription now, so billing resumes. Nothing changes until the customer confirms it themselves outside this chat. The answer says what happens next.",
  audience: 'customer',
  card: 'request',
  action: 'resume',
  discloses: ['subscription'],
  permissions: ['rak_customer_read', 'rak_subscription_read', 'rak_subscription_write'],
  optionalPermissions: { rak_product_read: 'product names (plans are named by their price)' },
  inputSchema: {
    subscription_id: subscriptionIdSchema.describe('Needed only when the customer has several current subscriptions (sub_…).'),
  },
  outputSchema: { request: requestViewSchema, summary: z.string() },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async handler(input, ctx) {
    const target = await ctx.customer();
    const { subscription, view } = await chooseSubscription(ctx, target.customers, input.subscription_id, 'resume', { withDiscounts: false });
    const plan = quoted(view.plan);
    const paused = await pausedCollection(ctx, subscription.id);
    if (!paused) throw new ToolError('refused', `Billing of ${plan} is not paused, so there is nothing to resume.`);
    const until = paused.resumes_at ? ` (it would resume by itself on ${isoDay(paused.resumes_at)})` : '';
    const request = await proposeAndConfirm(ctx, {
      kind: 'resume',
      customer_id: subscription.customer,
      email: target.email,
      params: { subscription: subscription.id },
      preview: {
        summary: `End the pause of ${plan} now${until}: its invoices are charged again from the next one`,
        when: 'Billing resumes as soon as it is carried out',
        subject: `subscription ${subscription.id} (${plan})`,
      },
    });
    return { request, summary: `Resume of ${plan}: ${request.state}.` };
  },
  summarize(output) {
    return summarizeRequest(output.request);
  },
});
