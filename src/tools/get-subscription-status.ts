import { z } from 'zod';
import { quoted } from '../format/untrusted-text.js';
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
    const lines = output.subscriptions.slice(0, 5).map((sub) => {
      const price = sub.items.map((item) => item.price).join(' + ');
      const discounts = sub.discounts.map((discount) => `; ${quoted(discount.name)}: ${discount.off} (${discount.lasts})`).join('');
      const next = sub.next_payment ? `; next payment ${sub.next_payment.amount.formatted} on ${sub.next_payment.date.slice(0, 10)}` : '';
      return `- ${quoted(sub.plan)} (${price}): ${sub.status}${discounts}${next}. ${sub.note}`;
    });
    return [output.summary, ...lines].join('\n');
  },
});
