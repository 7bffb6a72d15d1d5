import { z } from 'zod';
import { ToolError } from '../errors.js';
import { isoDay } from '../format/dates.js';
import { quoted } from '../format/untrusted-text.js';
import { actionsOf, proposeAndConfirm, requestViewSchema, summarizeRequest } from './lib/action-requests.js';
import { chooseSubscription, subscriptionIdSchema } from './lib/choose-subscription.js';
import { defineTool } from './lib/define-tool.js';
import { pausedCollection } from './lib/paused-collection.js';
import { boundedInteger } from './lib/schemas.js';

const DAY_SECONDS = 86_400;

/** What Stripe does with the invoices it makes while collection is paused (the policy's `behavior`). */
export const PAUSE_EFFECT: Record<string, string> = {
  void: 'invoices made during the pause are voided, so nothing is charged for it',
  keep_as_draft: 'invoices made during the pause are kept as drafts and not charged while it lasts',
  mark_uncollectible: 'invoices made during the pause are marked uncollectible, so they are not charged',
};

export default defineTool({
  name: 'pause_subscription',
  title: 'Pause a subscription',
  description:
    "Asks to pause billing of the customer's subscription for a number of days, within the merchant's policy; billing resumes by itself after that. Nothing changes until the customer confirms it themselves outside this chat; long pauses also need the merchant's approval. The answer says what happens next.",
  audience: 'customer',
  card: 'request',
  action: 'pause',
  discloses: ['subscription'],
  permissions: ['rak_customer_read', 'rak_subscription_read', 'rak_subscription_write'],
  optionalPermissions: { rak_product_read: 'product names (plans are named by their price)' },
  inputSchema: {
    subscription_id: subscriptionIdSchema.describe('Needed only when the customer has several current subscriptions (sub_…).'),
    days: boundedInteger(1, 365).describe('How many days to pause billing from today; the merchant’s policy sets the longest pause.'),
  },
  outputSchema: { request: requestViewSchema, summary: z.string() },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  async handler(input, ctx) {
    const engine = actionsOf(ctx);
    const target = await ctx.customer();
    const { subscription, view } = await chooseSubscription(ctx, target.customers, input.subscription_id, 'pause', { withDiscounts: false });
    const plan = quoted(view.plan);
    if (subscription.status !== 'active' && subscription.status !== 'trialing') {
      throw new ToolError('refused', `Only an active subscription can be paused; ${plan} is ${subscription.status.replace(/_/g, ' ')}.`);
    }
    const paused = await pausedCollection(ctx, subscription.id);
    if (paused) {
      const until = paused.resumes_at ? ` until ${isoDay(paused.resumes_at)}` : '';
      throw new ToolError('refused', `Billing of ${plan} is already paused${until}; resume_subscription ends the pause early.`);
    }
    const behavior = engine.policy()?.pause?.behavior ?? 'void';
    const resumesAt = Math.floor(engine.requests.now() / 1000) + input.days * DAY_SECONDS;
    const resumes = isoDay(resumesAt);
    const request = await proposeAndConfirm(ctx, {
      kind: 'pause',
      customer_id: subscription.customer,
      email: target.email,
      check: { kind: 'pause', days: input.days },
      params: { subscription: subscription.id, behavior, resumes_at: resumesAt, days: input.days },
      preview: {
        summary: `Pause billing of ${plan} for ${input.days} day${input.days === 1 ? '' : 's'}: ${PAUSE_EFFECT[behavior] ?? 'invoices are not charged during the pause'}`,
        when: `Billing resumes by itself on ${resumes}`,
        subject: `subscription ${subscription.id} (${plan})`,
      },
    });
    return { request, summary: `Pause of ${plan} until ${resumes}: ${request.state}.` };
  },
  summarize(output) {
    return summarizeRequest(output.request);
  },
});
