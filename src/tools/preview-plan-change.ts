import type Stripe from 'stripe';
import { z } from 'zod';
import { projectInvoice } from '../cache/projections.js';
import { isoDate } from '../format/dates.js';
import { money } from '../format/money.js';
import { quoted } from '../format/untrusted-text.js';
import { day } from './lib/answer-text.js';
import { subscriptionIdSchema } from './lib/choose-subscription.js';
import { defineTool } from './lib/define-tool.js';
import { changeAmounts, intervalLabel, isProration, planChange, previewChange } from './lib/plan-change.js';
import { createPortalSession, PORTAL_LINK_NOTE } from './lib/portal.js';
import { portalOffers } from './lib/portal-plan-switching.js';
import { boundedInteger, isoDateSchema, matching, moneySchema, optionalInput } from './lib/schemas.js';
import { describeDiscount } from './lib/subscriptions.js';

// amount: per interval, all units.
const planSchema = z.object({ price_id: z.string(), product: z.string(), quantity: z.number(), amount: moneySchema, interval: z.string() }).meta({ id: 'PlanChoice' });

const previewSchema = z.object({
  billed: z.enum(['now', 'next_invoice']).describe('now: an invoice made at the change; next_invoice: the change is added to the next renewal'),
  date: isoDateSchema,
  lines: z.array(z.object({ description: z.string(), amount: moneySchema, proration: z.boolean() })),
  subtotal: moneySchema,
  discounts: z.array(z.object({ name: z.string(), amount: moneySchema.describe('negative') })),
  tax: moneySchema.optional(),
  total: moneySchema.describe('subtotal + discounts + tax (added on top)'),
  account_balance: moneySchema.optional().describe('balance on the account applied to this invoice: negative is credit, positive is owed'),
  credit_kept: moneySchema.optional().describe('credit left on the account for later invoices; total + account_balance + credit_kept = amount_due'),
  amount_due: moneySchema,
});

type PreviewView = z.input<typeof previewSchema>;

/** Stripe's preview, as lines, discounts, tax and balance that add up to amount_due. */
function viewPreview(invoice: Stripe.Invoice, nameOf: (discountId: string) => string): PreviewView {
  const currency = invoice.currency;
  const safe = projectInvoice(invoice);
  const taxes = invoice.total_taxes ?? [];
  const exclusiveTax = taxes.filter((tax) => tax.tax_behavior === 'exclusive').reduce((sum, tax) => sum + tax.amount, 0);
  const starting = invoice.starting_balance;
  // total + starting_balance = amount_due + ending_balance (ending ≤ 0: credit left over).
  const kept = -Math.min(0, invoice.ending_balance ?? 0);
  return {
    billed: invoice.billing_reason === 'upcoming' ? 'next_invoice' : 'now',
    date: isoDate(invoice.next_payment_attempt ?? invoice.created),
    lines: invoice.lines.data.map((line, i) => ({
      description: safe.lines.data[i]?.description ?? 'Item',
      amount: money(line.amount, currency),
      proration: isProration(line),
    })),
    subtotal: money(invoice.subtotal, currency),
    discounts: (invoice.total_discount_amounts ?? [])
      .filter((entry) => entry.amount !== 0)
      .map((entry) => ({ name: nameOf(typeof entry.discount === 'string' ? entry.discount : entry.discount.id), amount: money(-entry.amount, currency) })),
    tax: exclusiveTax !== 0 ? money(exclusiveTax, currency) : undefined,
    total: money(invoice.total, currency),
    account_balance: starting !== 0 ? money(starting, currency) : undefined,
    credit_kept: kept > 0 ? money(kept, currency) : undefined,
    amount_due: money(invoice.amount_due, currency),
  };
}

export default defineTool({
  name: 'preview_plan_change',
  title: 'Preview a plan change',
  description:
    "What switching the customer's subscription to another plan (a price_id from get_available_plans) would cost: charged or credited now, the new recurring amount and date, discounts and tax, from Stripe's own preview; with a portal link to confirm exactly that change. Changes nothing.",
  audience: 'customer',
  card: 'plan_change',
  discloses: ['subscription', 'plans', 'upcoming_invoice', 'discount', 'billing_portal_link'],
  writes: 'portal_session',
  permissions: [
    'rak_customer_read',
    'rak_subscription_read',
    'rak_invoice_read',
    'rak_price_read',
    'rak_product_read',
    'rak_billing_portal_configuration_read',
    'rak_billing_portal_session_write',
  ],
  optionalPermissions: { rak_coupon_read: 'discount names' },
  portal: 'session',
  inputSchema: {
    price: matching(z.string().trim(), /^price_[A-Za-z0-9_]+$/, 'price looks like price_…').describe('The plan to switch to: a price_id from get_available_plans.'),
    quantity: optionalInput(boundedInteger(1, 10_000)).describe('New quantity, only where the plan allows changing it; else the current one.'),
    subscription: subscriptionIdSchema.describe('Needed only when the customer has several current subscriptions (sub_…).'),
  },
  outputSchema: {
    subscription: z.object({ id: z.string(), plan: z.string(), status: z.string() }),
    outcome: z.enum(['link_created', 'no_change', 'made_by_merchant']),
    proration_date: z.number().describe('Unix seconds the proration is computed at; fixed for this preview'),
    proration_behavior: z.enum(['always_invoice', 'create_prorations', 'none']),
    from: planSchema.optional(),
    to: planSchema.optional(),
    charged_now: moneySchema.optional(),
    credited_now: moneySchema.optional().describe('credit for unused time, kept on the account'),
    new_recurring: z.object({ amount: moneySchema.describe('before discounts and tax'), interval: z.string(), next_date: isoDateSchema }).optional(),
    preview: previewSchema.optional(),
    url: z.string().optional().describe('Present when outcome is link_created.'),
    note: z.string(),
    summary: z.string(),
  },
  // Reads a preview and creates a portal session: the plan changes only if the customer confirms it in the portal.
  annotations: { readOnlyHint: true, destructiveHint: false, openWorldHint: false },
  async handler(input, ctx) {
    const prorationDate = Math.floor(Date.now() / 1000);
    const change = await planChange(ctx, input);
    const { subscription, view, switching, chosen, item, currentQuantity, quantity, behavior, currentName } = change;
    const about = { id: subscription.id, plan: view.plan, status: subscription.status };
    const from = {
      price_id: item.price.id,
      product: currentName,
      quantity: currentQuantity,
      amount: money((item.price.unit_amount ?? 0) * currentQuantity, subscription.currency),
      interval: intervalLabel(item.price),
    };
    const to = {
      price_id: chosen.price.id,
      product: chosen.product.name,
      quantity,
      amount: money(chosen.price.unit_amount! * quantity, chosen.price.currency),
      interval: intervalLabel(chosen.price),
    };
    const common = { subscription: about, proration_date: prorationDate, proration_behavior: behavior, from, to };

    if (chosen.price.id === item.price.id && quantity === currentQuantity) {
      return { ...common, outcome: 'no_change' as const, note: 'This is the customer’s current plan; nothing would change.', summary: `${quoted(view.plan)} is already on this plan; nothing changes.` };
    }

    const invoice = await previewChange(ctx, change, prorationDate);
    const nameOf = (discountId: string) => {
      const found = subscription.discounts.find((discount) => typeof discount !== 'string' && discount.id === discountId);
      return (found && describeDiscount(found)?.name) ?? 'Discount';
    };
    const preview = viewPreview(invoice, nameOf);
    const currency = invoice.currency;
    const { billedNow, charged, credit, newRecurring } = changeAmounts(change, invoice);

    const words: string[] = [];
    if (billedNow) {
      words.push(charged > 0 ? `${money(charged, currency).formatted} is charged now.` : 'Nothing is charged now.');
      if (preview.credit_kept) words.push(`${preview.credit_kept.formatted} of credit for the unused time is kept on the account and used on the next invoices.`);
      if (behavior === 'none') words.push('No credit is given for the unused time of the current period (the merchant does not prorate plan changes).');
    } else if (behavior === 'none') {
      words.push(`Nothing is charged or credited for the current period (the merchant does not prorate plan changes); the new price applies from ${newRecurring.next_date.slice(0, 10)}.`);
    } else {
      const net = money(credit, currency);
      words.push(
        credit < 0
          ? `Nothing is charged now; a credit of ${money(-credit, currency).formatted} for the unused time comes off the next invoice on ${preview.date.slice(0, 10)}, which will be ${preview.amount_due.formatted}.`
          : `Nothing is charged now; ${net.formatted} for the rest of the current period is added to the next invoice on ${preview.date.slice(0, 10)}, which will be ${preview.amount_due.formatted}.`,
      );
      if (preview.credit_kept) words.push(`The remaining ${preview.credit_kept.formatted} of credit stays on the account for later invoices.`);
    }
    words.push(`Then ${newRecurring.amount.formatted} per ${newRecurring.interval} (before discounts and tax) from ${newRecurring.next_date.slice(0, 10)}.`);
    if (preview.discounts.length > 0) words.push(`Discounts applied: ${preview.discounts.map((d) => `${quoted(d.name)} ${d.amount.formatted}`).join(', ')}.`);
    words.push(preview.tax ? `Tax of ${preview.tax.formatted} is included.` : 'No tax is added in this preview.');
    const multiple = subscription.items.data.length > 1;
    if (multiple) {
      words.push(
        `This subscription has ${subscription.items.data.length} items; the preview changes the ${quoted(currentName)} item only. The billing portal cannot change a subscription with several items, so the merchant’s team makes this change on request.`,
      );
    }
    const onPortal = portalOffers(switching, chosen.product.id, chosen.price.id);
    if (!multiple && !onPortal) words.push('The billing portal does not offer this plan, so the merchant’s team makes this change on request.');
    const credited = billedNow ? preview.credit_kept : credit < 0 && behavior !== 'none' ? money(-credit, currency) : undefined;
    const answer = {
      ...common,
      ...(charged > 0 ? { charged_now: money(charged, currency) } : {}),
      ...(credited ? { credited_now: credited } : {}),
      new_recurring: newRecurring,
      preview,
    };
    const headline = `Switching ${quoted(currentName)} to ${quoted(chosen.product.name)} (${to.amount.formatted} per ${to.interval})`;
    if (multiple || !onPortal) {
      // Where the merchant's policy allows plan changes in the chat, the customer need not wait for the team.
      if (ctx.actions?.enabled('plan_change')) words.push('The customer can also ask for it here: request_plan_change makes exactly this change once they confirm it.');
      return { ...answer, outcome: 'made_by_merchant' as const, note: words.join(' '), summary: `${headline}: ${billedNow ? `${money(charged, currency).formatted} now` : 'nothing now'}; made by the merchant’s team.` };
    }

    const returnUrl = ctx.settings.portalReturnUrl;
    const session = await createPortalSession(ctx, subscription.customer, {
      type: 'subscription_update_confirm',
      subscription_update_confirm: { subscription: subscription.id, items: [{ id: item.id, price: chosen.price.id, quantity }] },
      ...(returnUrl ? { after_completion: { type: 'redirect', redirect: { return_url: returnUrl } } } : {}),
    });
    words.push(`Nothing has changed yet: the customer confirms on this page, which shows the same amounts. ${PORTAL_LINK_NOTE}`);
    return {
      ...answer,
      outcome: 'link_created' as const,
      url: session.url,
      note: words.join(' '),
      summary: `${headline}: ${billedNow ? `${money(charged, currency).formatted} now` : 'nothing now'}. Confirmation link created.`,
    };
  },
  summarize(output) {
    // The amounts the note does not already say: what is due now and on which invoice, per price id.
    const plans = output.from && output.to ? `From ${output.from.price_id} (${output.from.amount.formatted} per ${output.from.interval}) to ${output.to.price_id} (${output.to.amount.formatted} per ${output.to.interval}), subscription ${output.subscription.id}.` : `Subscription ${output.subscription.id}.`;
    const preview = output.preview;
    const due = preview
      ? `${preview.billed === 'now' ? 'Invoiced now' : `Next invoice ${day(preview.date)}`}: ${preview.amount_due.formatted} due (subtotal ${preview.subtotal.formatted}, total ${preview.total.formatted}${preview.account_balance ? `, account balance ${preview.account_balance.formatted}` : ''}${preview.credit_kept ? `, credit kept ${preview.credit_kept.formatted}` : ''}).${output.charged_now ? ` Charged now: ${output.charged_now.formatted}.` : ''}${output.credited_now ? ` Credited now: ${output.credited_now.formatted}.` : ''}`
      : '';
    return [output.summary, plans, ...(due ? [due] : []), output.note, ...(output.url ? [output.url] : [])].join('\n');
  },
});

