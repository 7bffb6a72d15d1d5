import { z } from 'zod';
import { quoted } from '../format/untrusted-text.js';
import { breakdownText, day, parts } from './lib/answer-text.js';
import { defineTool } from './lib/define-tool.js';
import { loadSubscriptionsWithPreviews } from './lib/previews.js';
import { catalogIfReadable } from './lib/products.js';
import { discountSchema, isoDateSchema, moneySchema, nextPaymentBreakdownSchema } from './lib/schemas.js';
import { describeSubscriptions } from './lib/subscriptions.js';

const subscriptionSchema = z.object({
  id: z.string(),
  status: z.string().describe('trialing, active, past_due, unpaid, paused, incomplete, incomplete_expired or canceled'),
  plan: z.string(),
  items: z.array(z.object({ product: z.string(), quantity: z.number(), unit_amount: moneySchema, interval: z.string(), price: z.string() })),
  current_period_start: isoDateSchema.optional(),
  current_period_end: isoDateSchema.optional(),
  trial_end: isoDateSchema.optional(),
  cancel_at_period_end: z.boolean(),
  cancel_at: isoDateSchema.optional(),
  canceled_at: isoDateSchema.optional(),
  discounts: z.array(discountSchema),
  next_payment: z.object({ date: isoDateSchema, amount: moneySchema, basis: z.string(), breakdown: nextPaymentBreakdownSchema.optional() }).optional(),
  note: z.string(),
});

export default defineTool({
  name: 'get_subscription_status',
  title: 'Subscription status',
  description:
    "The customer's subscriptions: plan, price per interval, discounts, status, billing period, next payment date and amount (and how it follows from price, discounts, credit and tax), trial end, scheduled cancellation. Use for 'what plan am I on', 'when do I pay next', 'why am I charged this much'. Read-only.",
  audience: 'customer',
  card: 'subscription',
  discloses: ['subscription', 'subscription.price', 'discount', 'upcoming_invoice'],
  permissions: ['rak_customer_read', 'rak_subscription_read'],
  optionalPermissions: {
    rak_invoice_read: "the next payment's amount and breakdown from Stripe's preview of the next invoice",
    rak_coupon_read: 'discounts',
    rak_product_read: 'product names (plans are named by their price)',
  },
  inputSchema: {},
  outputSchema: {
    subscriptions: z.array(subscriptionSchema),
    summary: z.string(),
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
  async handler(_input, ctx) {
    const { customers } = await ctx.customer();
    // The catalogue (product names) loads in the same round as the subscriptions and previews.
    const [loaded] = await Promise.all([loadSubscriptionsWithPreviews(ctx, customers, { discounts: true }), catalogIfReadable(ctx)]);
    const subscriptions = await describeSubscriptions(ctx, loaded.subscriptions, loaded.previews);
    const live = subscriptions.filter((sub) => sub.status !== 'canceled' && sub.status !== 'incomplete_expired');
    const summary =
      subscriptions.length === 0
        ? 'No subscriptions.'
        : live.length === 0
          ? 'No current subscription; only canceled ones.'
          : `${live.length} current subscription${live.length === 1 ? '' : 's'}.`;
    return { subscriptions, summary };
  },
  summarize(output) {
    const lines = output.subscriptions.map((sub) => {
      const named = sub.items.length > 1 || sub.items.some((item) => item.product !== sub.plan || item.quantity > 1);
      const items = sub.items.map((item) => (named ? `${item.quantity > 1 ? `${item.quantity} × ` : ''}${quoted(item.product)} ${item.price}` : item.price)).join(' + ');
      const discounts = sub.discounts.map((discount) => `${quoted(discount.name)}: ${discount.off} (${discount.lasts})`);
      const period = sub.current_period_start && sub.current_period_end && !sub.canceled_at ? `period ${day(sub.current_period_start)} to ${day(sub.current_period_end)}` : '';
      const ending = [
        sub.trial_end && sub.status === 'trialing' ? `trial ends ${day(sub.trial_end)}` : '',
        sub.cancel_at ? `cancels on ${day(sub.cancel_at)}` : sub.cancel_at_period_end && sub.current_period_end ? `cancels at period end ${day(sub.current_period_end)}` : '',
        sub.canceled_at ? `canceled ${day(sub.canceled_at)}` : '',
      ];
      const next = sub.next_payment
        ? `next payment ${sub.next_payment.amount.formatted} on ${day(sub.next_payment.date)}${sub.next_payment.breakdown ? `: ${breakdownText(sub.next_payment.breakdown)}` : ` (${sub.next_payment.basis})`}`
        : '';
      const extra = parts(...discounts, period, ...ending, next);
      return `- ${sub.id} ${quoted(sub.plan)} (${items}): ${sub.status}${extra ? `; ${extra}` : ''}. ${sub.note}`;
    });
    return [output.summary, ...lines].join('\n');
  },
});
