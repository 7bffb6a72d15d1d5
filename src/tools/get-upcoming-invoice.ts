import type { SlimInvoice, SlimSubscription } from '../cache/projections.js';
import { z } from 'zod';
import { isoDate } from '../format/dates.js';
import { money } from '../format/money.js';
import { quoted } from '../format/untrusted-text.js';
import { day, parts } from './lib/answer-text.js';
import { defineTool } from './lib/define-tool.js';
import { isoDateSchema, moneySchema } from './lib/schemas.js';
import { loadSubscriptionsWithPreviews } from './lib/previews.js';
import { LIVE_STATUSES } from './lib/subscriptions.js';

const MAX_LINES = 10;

const upcomingSchema = z.object({
  subscription_id: z.string(),
  date: isoDateSchema.describe('when it will be billed'),
  subtotal: moneySchema,
  discount: moneySchema.optional(),
  tax: moneySchema.optional(),
  total: moneySchema,
  credit_applied: moneySchema.optional().describe('account credit used toward this invoice'),
  balance_added: moneySchema.optional().describe('an earlier unpaid balance added to this invoice'),
  amount_due: moneySchema,
  lines: z.array(z.object({ description: z.string(), amount: moneySchema, period: z.object({ start: isoDateSchema, end: isoDateSchema }) })),
  more_lines: z.number().optional().describe('line items not shown'),
});

type UpcomingView = z.input<typeof upcomingSchema>;

function sum(amounts: ReadonlyArray<{ amount: number }> | null): number {
  return (amounts ?? []).reduce((total, entry) => total + entry.amount, 0);
}

function viewPreview(sub: SlimSubscription, invoice: SlimInvoice): UpcomingView {
  const currency = invoice.currency;
  const discount = sum(invoice.total_discount_amounts);
  const tax = sum(invoice.total_taxes);
  // starting_balance < 0 is account credit; > 0 is an amount owed carried onto this invoice.
  const credit = invoice.starting_balance < 0 ? Math.min(-invoice.starting_balance, Math.max(0, invoice.total)) : 0;
  const owed = Math.max(0, invoice.starting_balance);
  const lines = invoice.lines.data;
  const hidden = Math.max(0, lines.length - MAX_LINES) + (invoice.lines.has_more ? 1 : 0);
  return {
    subscription_id: sub.id,
    date: isoDate(invoice.next_payment_attempt ?? invoice.period_end),
    subtotal: money(invoice.subtotal, currency),
    discount: discount > 0 ? money(discount, currency) : undefined,
    tax: invoice.total_taxes && invoice.total_taxes.length > 0 ? money(tax, currency) : undefined,
    total: money(invoice.total, currency),
    credit_applied: credit > 0 ? money(credit, currency) : undefined,
    balance_added: owed > 0 ? money(owed, currency) : undefined,
    amount_due: money(invoice.amount_due, currency),
    lines: lines.slice(0, MAX_LINES).map((line) => ({
      description: line.description ?? 'Item',
      amount: money(line.amount, line.currency),
      period: { start: isoDate(line.period.start), end: isoDate(line.period.end) },
    })),
    more_lines: hidden > 0 ? hidden : undefined,
  };
}

export default defineTool({
  name: 'get_upcoming_invoice',
  title: 'Upcoming invoice',
  description:
    "A preview of the customer's next invoice per subscription: date, line items, discounts, tax, account credit and the amount that will be charged. Use for 'how much will I pay next', 'why is my next bill higher'. Read-only; creates nothing.",
  audience: 'customer',
  discloses: ['upcoming_invoice', 'discount'],
  permissions: ['rak_customer_read', 'rak_subscription_read', 'rak_invoice_read'],
  inputSchema: {},
  outputSchema: {
    upcoming: z.array(upcomingSchema),
    notes: z.array(z.string()).optional(),
    summary: z.string(),
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
  async handler(_input, ctx) {
    const { customers } = await ctx.customer();
    const { subscriptions, previews: previewOf } = await loadSubscriptionsWithPreviews(ctx, customers);
    const live = subscriptions.filter((sub) => LIVE_STATUSES.has(sub.status));
    const notes: string[] = [];
    const renewing = live.filter((sub) => {
      if (!sub.cancel_at_period_end) return true;
      notes.push(`Subscription ${sub.id} is set to cancel at the end of its current period, so no further invoice is expected.`);
      return false;
    });
    const upcoming: UpcomingView[] = [];
    for (const sub of renewing) {
      const invoice = previewOf.get(sub.id);
      if (invoice) upcoming.push(viewPreview(sub, invoice));
      else notes.push(`Subscription ${sub.id} has no upcoming invoice.`);
    }
    upcoming.sort((a, b) => a.date.localeCompare(b.date));
    const first = upcoming[0];
    const summary = !first
      ? live.length === 0
        ? 'No upcoming invoice: there is no current subscription.'
        : 'No upcoming invoice.'
      : `Next invoice: ${first.amount_due.formatted} on ${first.date.slice(0, 10)}${upcoming.length > 1 ? `; ${upcoming.length - 1} more subscription invoice${upcoming.length > 2 ? 's' : ''} upcoming` : ''}.`;
    return { upcoming, ...(notes.length > 0 ? { notes } : {}), summary };
  },
  summarize(output) {
    const lines = output.upcoming.map((invoice) => {
      const items = invoice.lines.map((line) => `${quoted(line.description)} ${line.amount.formatted} (${day(line.period.start)} to ${day(line.period.end)})`);
      const more = invoice.more_lines ? [`${invoice.more_lines} more lines`] : [];
      const adjustments = [
        invoice.discount ? `discount -${invoice.discount.formatted}` : '',
        invoice.tax ? `tax ${invoice.tax.formatted}` : '',
        invoice.credit_applied ? `account credit ${invoice.credit_applied.formatted}` : '',
        invoice.balance_added ? `earlier unpaid balance ${invoice.balance_added.formatted}` : '',
      ];
      const adjusted = parts(...adjustments);
      return `- ${invoice.subscription_id}, ${day(invoice.date)}: ${invoice.amount_due.formatted} due. ${parts(...items, ...more)}; subtotal ${invoice.subtotal.formatted}${adjusted ? `; ${adjusted}` : ''}; total ${invoice.total.formatted}.`;
    });
    return [output.summary, ...lines, ...(output.notes ?? [])].join('\n');
  },
});
