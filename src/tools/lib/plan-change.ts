/**
 * What preview_plan_change and request_plan_change share: the checks of a wanted change (the
 * customer's live subscription, a plan on offer in its currency, a quantity the portal allows),
 * the item it changes, the proration behaviour the portal bills with, and Stripe's preview of
 * exactly that change. The request is carried out with the same items, behaviour and
 * proration_date (src/actions/engine.ts), so what was previewed is what is charged.
 */
import type Stripe from 'stripe';
import type { CatalogPrice } from '../../cache/billing-reads.js';
import type { SlimPrice, SlimSubscription } from '../../cache/projections.js';
import { ToolError, UserInputError } from '../../errors.js';
import { isoDate } from '../../format/dates.js';
import { money } from '../../format/money.js';
import { quoted } from '../../format/untrusted-text.js';
import { chooseSubscription, type ChosenSubscription } from './choose-subscription.js';
import type { ToolContext } from './context.js';
import { pickablePlan } from './plans-on-offer.js';
import { adjustableQuantity, portalPlanSwitching, type PortalPlanSwitching } from './portal-plan-switching.js';
import { LIVE_STATUSES } from './subscriptions.js';

export type Behavior = 'always_invoice' | 'create_prorations' | 'none';

export interface PlanChangeInput {
  price: string;
  quantity?: number | undefined;
  subscription?: string | undefined;
}

export interface PlannedChange extends ChosenSubscription {
  switching: PortalPlanSwitching;
  chosen: CatalogPrice;
  item: SlimSubscription['items']['data'][number];
  currentQuantity: number;
  quantity: number;
  behavior: Behavior;
  /** The changed item's product, as the customer knows it. */
  currentName: string;
}

export function intervalLabel(price: SlimPrice | Stripe.Price): string {
  const recurring = price.recurring!;
  return recurring.interval_count === 1 ? recurring.interval : `${recurring.interval_count} ${recurring.interval}s`;
}

function behaviorOf(switching: PortalPlanSwitching): Behavior {
  const behavior = switching.prorationBehavior;
  if (behavior === 'always_invoice') return 'always_invoice';
  return behavior === 'none' ? 'none' : 'create_prorations';
}

/** The item the change is about: the only one, else the one of the new price's product, else the first. */
function itemToChange(subscription: SlimSubscription, product: string) {
  const items = subscription.items.data;
  return items.find((item) => item.price.product === product) ?? items[0]!;
}

export const isProration = (line: Stripe.InvoiceLineItem) => line.parent?.subscription_item_details?.proration === true;

/** The customer's own live subscription, a plan they may pick in its currency, and the quantity: or the input error that says why not. */
export async function planChange(ctx: ToolContext, input: PlanChangeInput): Promise<PlannedChange> {
  const { customers } = await ctx.customer();
  const { subscription, view } = await chooseSubscription(ctx, customers, input.subscription, 'change', { withDiscounts: true });
  if (!LIVE_STATUSES.has(subscription.status)) {
    throw new UserInputError(`Subscription ${subscription.id} has ended, so its plan cannot be changed; a new plan needs a new subscription.`);
  }
  const [switching, chosen] = await Promise.all([portalPlanSwitching(ctx), pickablePlan(ctx, input.price)]);
  if (!switching.enabled) {
    throw new ToolError(
      'refused',
      'The merchant’s billing portal does not offer plan changes (switching plans is turned off, or no plans are set up to switch to), so a plan change cannot be previewed or confirmed here. The customer can ask the merchant’s support.',
    );
  }
  if (!chosen) {
    throw new UserInputError('That price is not one of the plans this customer may choose. Call get_available_plans and pass one of its price_id values.');
  }
  if (chosen.price.currency !== subscription.currency) {
    throw new UserInputError(
      `That plan is priced in ${chosen.price.currency.toUpperCase()} but this subscription is billed in ${subscription.currency.toUpperCase()}; choose a plan in ${subscription.currency.toUpperCase()} from get_available_plans.`,
    );
  }
  const item = itemToChange(subscription, chosen.product.id);
  const currentQuantity = item.quantity ?? 1;
  const rule = adjustableQuantity(switching, chosen.product.id);
  if (input.quantity !== undefined && input.quantity !== currentQuantity) {
    if (!rule) throw new UserInputError(`The quantity of ${quoted(chosen.product.name)} cannot be changed by the customer; leave quantity out to keep ${currentQuantity}.`);
    if (input.quantity < rule.minimum || (rule.maximum !== null && input.quantity > rule.maximum)) {
      throw new UserInputError(`The quantity must be between ${rule.minimum} and ${rule.maximum ?? 'any number'}.`);
    }
  }
  const currentName = view.items[subscription.items.data.indexOf(item)]?.product ?? view.plan;
  return { subscription, view, switching, chosen, item, currentQuantity, quantity: input.quantity ?? currentQuantity, behavior: behaviorOf(switching), currentName };
}

/** The change's items and billing as Stripe takes them, for the preview and (engine.ts) the update. */
export function changeDetails(change: PlannedChange, prorationDate: number) {
  return {
    items: [{ id: change.item.id, price: change.chosen.price.id, quantity: change.quantity }],
    proration_behavior: change.behavior,
    // Stripe takes a proration_date only with prorations; with none the date changes nothing.
    ...(change.behavior === 'none' ? {} : { proration_date: prorationDate }),
  };
}

/** Stripe's own preview of the change at a fixed proration date. */
export function previewChange(ctx: ToolContext, change: PlannedChange, prorationDate: number): Promise<Stripe.Invoice> {
  return ctx.stripe.invoices.createPreview({
    customer: change.subscription.customer,
    subscription: change.subscription.id,
    subscription_details: changeDetails(change, prorationDate),
  });
}

/**
 * What a previewed change means for the customer: billed now (an invoice made at the change) or
 * on the next invoice; charged now (minor units); the net of the proration lines (negative: a
 * credit for unused time); the recurring amount after it (all items, before discounts and tax).
 */
export function changeAmounts(change: PlannedChange, invoice: Stripe.Invoice) {
  const { subscription, item, chosen, quantity } = change;
  const currency = invoice.currency;
  const billedNow = invoice.billing_reason !== 'upcoming';
  const charged = billedNow ? invoice.amount_due : 0;
  const credit = invoice.lines.data.filter(isProration).reduce((sum, line) => sum + line.amount, 0);
  const newPeriodLine = invoice.lines.data.find((line) => !isProration(line) && line.pricing?.price_details?.price === chosen.price.id);
  const nextDate = billedNow && newPeriodLine ? newPeriodLine.period.end : billedNow ? item.current_period_end : (invoice.next_payment_attempt ?? invoice.created);
  const otherItems = subscription.items.data.filter((other) => other.id !== item.id).reduce((sum, other) => sum + (other.price.unit_amount ?? 0) * (other.quantity ?? 1), 0);
  const newRecurring = { amount: money(chosen.price.unit_amount! * quantity + otherItems, currency), interval: intervalLabel(chosen.price), next_date: isoDate(nextDate) };
  return { billedNow, charged, credit, newRecurring };
}
