import type { SlimPrice } from '../cache/projections.js';
import { z } from 'zod';
import { money } from '../format/money.js';
import { quoted } from '../format/untrusted-text.js';
import type { ToolContext } from './lib/context.js';
import { defineTool } from './lib/define-tool.js';
import { matching, moneySchema, optionalInput } from './lib/schemas.js';
import { LIVE_STATUSES } from './lib/subscriptions.js';
import { isOnOffer, isQuotable, plansOnOffer } from './lib/plans-on-offer.js';

const planSchema = z.object({
  price_id: z.string(),
  product: z.string(),
  description: z.string().optional(),
  amount: moneySchema,
  interval: z.string().describe("billing interval, e.g. 'month', 'year', '3 months'"),
  current: z.boolean().optional().describe("true on the customer's current plan"),
});

type PlanView = z.input<typeof planSchema>;

const DAYS_PER_INTERVAL: Partial<Record<string, number>> = { day: 1, week: 7, month: 30, year: 365 };

function intervalLabel(recurring: NonNullable<SlimPrice['recurring']>): string {
  return recurring.interval_count === 1 ? recurring.interval : `${recurring.interval_count} ${recurring.interval}s`;
}

function intervalDays(price: SlimPrice): number {
  const recurring = price.recurring!;
  return (DAYS_PER_INTERVAL[recurring.interval] ?? 30) * recurring.interval_count;
}

/** Cost per day, to order plans cheapest first whatever their interval. */
function dailyCost(price: SlimPrice): number {
  return (price.unit_amount ?? 0) / intervalDays(price);
}

interface CurrentPlans {
  priceIds: Set<string>;
  currencies: Set<string>;
}

/** Prices and currencies of the customer's live subscriptions; empty when nobody is known. */
async function currentPlans(ctx: ToolContext): Promise<CurrentPlans> {
  const target = await ctx.optionalCustomer();
  if (!target) return { priceIds: new Set(), currencies: new Set() };
  const pages = await Promise.all(target.customers.map((customer) => ctx.reads.subscriptions(customer.id)));
  const live = pages.flat().filter((sub) => LIVE_STATUSES.has(sub.status));
  return {
    priceIds: new Set(live.flatMap((sub) => sub.items.data.map((item) => item.price.id))),
    currencies: new Set([...live.map((sub) => sub.currency), ...target.customers.flatMap((customer) => (customer.currency ? [customer.currency] : []))]),
  };
}

export default defineTool({
  name: 'get_available_plans',
  title: 'Available plans',
  description:
    "The plans on offer (active recurring prices) with product name, price and billing interval, cheapest first; marks the customer's current plan when known. Use for 'what plans do you have', 'how much is the yearly plan'. Read-only; it cannot change a plan.",
  audience: 'account',
  discloses: ['plans', 'subscription'],
  permissions: ['rak_price_read', 'rak_product_read'],
  optionalPermissions: {
    rak_customer_read: "which plan is the customer's current one",
    rak_subscription_read: "which plan is the customer's current one",
  },
  inputSchema: {
    currency: optionalInput(matching(z.string(), /^[A-Za-z]{3}$/, 'a 3-letter currency code such as usd').transform((code) => code.toLowerCase())).describe(
      'Only prices in this currency (ISO code, e.g. usd).',
    ),
  },
  outputSchema: {
    plans: z.array(planSchema),
    note: z.string().optional(),
    summary: z.string(),
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
  async handler(input, ctx) {
    const noneKnown: CurrentPlans = { priceIds: new Set(), currencies: new Set() };
    const [catalog, current, onOffer] = await Promise.all([
      ctx.reads.catalogPrices(),
      ctx.sections.read(['rak_customer_read', 'rak_subscription_read'], () => currentPlans(ctx), noneKnown),
      plansOnOffer(ctx),
    ]);
    const offered = catalog.filter((entry) => isQuotable(entry) && isOnOffer(onOffer, entry));
    const inCurrency = input.currency ? offered.filter(({ price }) => price.currency === input.currency) : offered;
    // Group each product's prices together, products ordered by their cheapest price.
    const cheapestOfProduct = new Map<string, number>();
    for (const { price, product } of inCurrency) {
      cheapestOfProduct.set(product.id, Math.min(cheapestOfProduct.get(product.id) ?? Infinity, dailyCost(price)));
    }
    // The customer's own currency first, then the rest alphabetically.
    const currencyRank = (currency: string) => (current.currencies.has(currency) ? `0${currency}` : `1${currency}`);
    const sorted = [...inCurrency].sort(
      (a, b) =>
        currencyRank(a.price.currency).localeCompare(currencyRank(b.price.currency)) ||
        cheapestOfProduct.get(a.product.id)! - cheapestOfProduct.get(b.product.id)! ||
        a.product.name.localeCompare(b.product.name) ||
        intervalDays(a.price) - intervalDays(b.price) ||
        a.price.id.localeCompare(b.price.id),
    );
    const plans: PlanView[] = sorted.map(({ price, product }) => ({
      price_id: price.id,
      product: product.name,
      description: product.description ?? undefined,
      amount: money(price.unit_amount!, price.currency),
      interval: intervalLabel(price.recurring!),
      ...(current.priceIds.has(price.id) ? { current: true } : {}),
    }));
    const offeredIds = new Set(offered.map(({ price }) => price.id));
    const legacy = [...current.priceIds].some((id) => !offeredIds.has(id));
    const note = legacy ? "The customer's current plan is not among the plans on offer, so it is not in this list." : undefined;
    const currencies = [...new Set(offered.map(({ price }) => price.currency.toUpperCase()))].sort();
    const summary =
      plans.length > 0
        ? `${plans.length} plan price${plans.length === 1 ? '' : 's'} on offer.`
        : input.currency && currencies.length > 0
          ? `No plans are offered in ${input.currency.toUpperCase()}; prices exist in ${currencies.join(', ')}.`
          : 'No plans are currently offered.';
    return { plans, ...(note ? { note } : {}), summary };
  },
  summarize(output) {
    // The price id is what preview_plan_change and request_plan_change take.
    const lines = output.plans.map(
      (plan) => `- ${plan.price_id} ${quoted(plan.product)}: ${plan.amount.formatted} per ${plan.interval}${plan.current ? ' (current plan)' : ''}${plan.description ? `. ${quoted(plan.description)}` : ''}`,
    );
    return [output.summary, ...lines, ...(output.note ? [output.note] : [])].join('\n');
  },
});
