import { z } from 'zod';
import { ToolError } from '../errors.js';
import { money } from '../format/money.js';
import { quoted } from '../format/untrusted-text.js';
import { proposeAndConfirm, requestViewSchema, summarizeRequest } from './lib/action-requests.js';
import { subscriptionIdSchema } from './lib/choose-subscription.js';
import { defineTool } from './lib/define-tool.js';
import { changeAmounts, planChange, previewChange } from './lib/plan-change.js';
import { boundedInteger, matching, optionalInput } from './lib/schemas.js';

export default defineTool({
  name: 'request_plan_change',
  title: 'Request a plan change',
  description:
    "Asks to switch the customer's subscription to another plan (a price_id from get_available_plans), charged exactly as preview_plan_change shows, within the merchant's policy; also for subscriptions with several items, which the billing portal cannot change. Nothing changes until the customer confirms it themselves outside this chat; some changes also need the merchant's approval. If a price changes before the confirmation, nothing is charged. The answer says what happens next.",
  audience: 'customer',
  card: 'request',
  action: 'plan_change',
  discloses: ['subscription', 'plans', 'upcoming_invoice'],
  permissions: [
    'rak_customer_read',
    'rak_subscription_read',
    'rak_subscription_write',
    'rak_invoice_read',
    'rak_price_read',
    'rak_product_read',
    'rak_billing_portal_configuration_read',
  ],
  optionalPermissions: { rak_coupon_read: 'discounts in the preview' },
  inputSchema: {
    price: matching(z.string().trim(), /^price_[A-Za-z0-9_]+$/, 'price looks like price_…').describe('The plan to switch to: a price_id from get_available_plans.'),
    quantity: optionalInput(boundedInteger(1, 10_000)).describe('New quantity, only where the plan allows changing it; else the current one.'),
    subscription: subscriptionIdSchema.describe('Needed only when the customer has several current subscriptions (sub_…).'),
  },
  outputSchema: { request: requestViewSchema, summary: z.string() },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  async handler(input, ctx) {
    const target = await ctx.customer();
    // Fixed now and kept in the request: the confirmation is charged on this same date (engine.ts).
    const prorationDate = Math.floor(Date.now() / 1000);
    const change = await planChange(ctx, input);
    const { subscription, chosen, item, quantity, behavior, currentName } = change;
    if (chosen.price.id === item.price.id && quantity === change.currentQuantity) {
      throw new ToolError('refused', `${quoted(currentName)} is already on this plan; nothing would change.`);
    }
    const invoice = await previewChange(ctx, change, prorationDate);
    const { billedNow, charged, credit, newRecurring } = changeAmounts(change, invoice);
    const currency = invoice.currency;
    const now = money(charged, currency);
    const credited = billedNow ? -Math.min(0, invoice.ending_balance ?? 0) : credit < 0 && behavior !== 'none' ? -credit : 0;
    const words = [
      `Switch ${quoted(currentName)} to ${quoted(chosen.product.name)}${quantity > 1 ? ` × ${quantity}` : ''}:`,
      billedNow ? (charged > 0 ? `${now.formatted} is charged now` : 'nothing is charged now') : `nothing is charged now; the change is settled on the next invoice (${money(invoice.amount_due, currency).formatted})`,
      ...(credited > 0 ? [`${money(credited, currency).formatted} of credit for the unused time is kept on the account`] : []),
      `then ${newRecurring.amount.formatted} per ${newRecurring.interval} (before discounts and tax)`,
    ];
    const request = await proposeAndConfirm(ctx, {
      kind: 'plan_change',
      customer_id: subscription.customer,
      email: target.email,
      check: { kind: 'plan_change', amount_due_now: charged, currency },
      params: {
        subscription: subscription.id,
        item: item.id,
        price: chosen.price.id,
        quantity,
        proration_date: prorationDate,
        proration_behavior: behavior,
        // The whole previewed invoice: the confirmation previews again and charges only if it is the same.
        expected_amount_due: invoice.amount_due,
        amount_due_now: charged,
        currency,
      },
      preview: {
        summary: `${words[0]} ${words.slice(1).join('; ')}`,
        when: `The new plan starts at once; the next renewal is on ${newRecurring.next_date.slice(0, 10)}`,
        amount: now,
        subject: `subscription ${subscription.id} (${quoted(change.view.plan)})`,
      },
    });
    return { request, summary: `Plan change to ${quoted(chosen.product.name)}, ${now.formatted} now: ${request.state}.` };
  },
  summarize(output) {
    return summarizeRequest(output.request);
  },
});
