import type { SlimInvoice } from '../cache/projections.js';
import { z } from 'zod';
import { isoDate } from '../format/dates.js';
import { money } from '../format/money.js';
import { quoted } from '../format/untrusted-text.js';
import { listAcrossRecords } from './lib/across-records.js';
import { day } from './lib/answer-text.js';
import { defineTool } from './lib/define-tool.js';
import { boundedInteger, defaultedInput, isoDateSchema, moneySchema, optionalInput } from './lib/schemas.js';

const INVOICE_STATUSES = ['draft', 'open', 'paid', 'uncollectible', 'void'] as const;

const invoiceSchema = z.object({
  id: z.string(),
  number: z.string().optional(),
  status: z.string(),
  status_note: z.string().optional(),
  description: z.string(),
  total: moneySchema,
  amount_due: moneySchema,
  amount_paid: moneySchema,
  amount_remaining: moneySchema,
  created: isoDateSchema,
  due_date: isoDateSchema.optional(),
  paid_at: isoDateSchema.optional(),
  period: z.object({ start: isoDateSchema, end: isoDateSchema }).optional().describe('service period of the line items'),
  subscription_id: z.string().optional(),
  hosted_invoice_url: z.string().optional().describe('page where the customer can view and pay it'),
  invoice_pdf: z.string().optional(),
  links_note: z.string().optional(),
});

type InvoiceView = z.input<typeof invoiceSchema>;

const STATUS_NOTES: Partial<Record<string, string>> = {
  draft: 'Draft: not finalized yet; amounts may still change.',
  open: 'Awaiting payment.',
  uncollectible: 'Marked uncollectible after failed payments; it can still be paid from the invoice page.',
  void: 'Voided: nothing is owed on it.',
};

const MAX_DESCRIBED_LINES = 3;

function describeInvoice(invoice: SlimInvoice): string {
  if (invoice.description) return invoice.description;
  const lines = invoice.lines.data;
  const described = lines.slice(0, MAX_DESCRIBED_LINES).map((line) => line.description ?? 'Item');
  const extra = lines.length - described.length + (invoice.lines.has_more ? 1 : 0);
  if (described.length === 0) return 'Invoice';
  return extra > 0 ? `${described.join('; ')}; and more` : described.join('; ');
}

/** The service period the lines cover; Invoice.period_start/end is the item-collection window, which confuses people. */
function servicePeriod(invoice: SlimInvoice): InvoiceView['period'] {
  const lines = invoice.lines.data;
  if (lines.length === 0) return undefined;
  return {
    start: isoDate(Math.min(...lines.map((line) => line.period.start))),
    end: isoDate(Math.max(...lines.map((line) => line.period.end))),
  };
}

function linksOf(invoice: SlimInvoice): Pick<InvoiceView, 'hosted_invoice_url' | 'invoice_pdf' | 'links_note'> {
  const hosted = invoice.hosted_invoice_url ?? undefined;
  const pdf = invoice.invoice_pdf ?? undefined;
  if (invoice.status === 'draft') return { links_note: 'Draft: no link until the invoice is finalized.' };
  if (!hosted && !pdf) return { links_note: 'No invoice link is available.' };
  return { hosted_invoice_url: hosted, invoice_pdf: pdf };
}

function viewInvoice(invoice: SlimInvoice): InvoiceView {
  const currency = invoice.currency;
  const status = invoice.status ?? 'unknown';
  return {
    id: invoice.id,
    number: invoice.number ?? undefined,
    status,
    status_note: STATUS_NOTES[status],
    description: describeInvoice(invoice),
    total: money(invoice.total, currency),
    amount_due: money(invoice.amount_due, currency),
    amount_paid: money(invoice.amount_paid, currency),
    amount_remaining: money(invoice.amount_remaining, currency),
    created: isoDate(invoice.created),
    due_date: isoDate(invoice.due_date),
    paid_at: isoDate(invoice.status_transitions.paid_at),
    period: servicePeriod(invoice),
    subscription_id: invoice.subscription ?? undefined,
    ...linksOf(invoice),
  };
}

export default defineTool({
  name: 'get_invoice_history',
  title: 'Invoice history',
  description:
    "The customer's recent invoices, newest first: number, status, amounts, dates, and links to view, pay or download the PDF. Use for 'send me my invoice', 'what was I billed', 'is my invoice paid'. Read-only; for the next bill use get_upcoming_invoice.",
  audience: 'customer',
  card: 'invoices',
  discloses: ['invoices'],
  permissions: ['rak_customer_read', 'rak_invoice_read'],
  inputSchema: {
    limit: defaultedInput(boundedInteger(1, 24), 5).describe('How many invoices (1–24, default 5).'),
    status: optionalInput(z.enum(INVOICE_STATUSES)).describe('Only invoices with this status.'),
  },
  outputSchema: {
    invoices: z.array(invoiceSchema),
    more_available: z.boolean().describe('older invoices exist beyond this list'),
    summary: z.string(),
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
  async handler(input, ctx) {
    const { customers } = await ctx.customer();
    const { items, more } = await listAcrossRecords(customers, input.limit, (customer, limit) => ctx.reads.invoices(customer, { limit, status: input.status }));
    const invoices = items.map(viewInvoice);
    const kind = input.status ? `${input.status} invoice` : 'invoice';
    const unpaid = invoices.filter((invoice) => invoice.status === 'open');
    const summary =
      invoices.length === 0
        ? `No ${kind}s found.`
        : `${invoices.length} ${kind}${invoices.length === 1 ? '' : 's'}, newest first${unpaid.length > 0 && !input.status ? `; ${unpaid.length} awaiting payment` : ''}.`;
    return { invoices, more_available: more, summary };
  },
  summarize(output) {
    // Every invoice listed (the limit is the model's to raise), with one link each: the page to view
    // and pay it, else the PDF; the id is what resend_invoice takes.
    const lines = output.invoices.map((invoice) => {
      const label = invoice.number ? `${quoted(invoice.number)} ${invoice.id}` : `Draft ${invoice.id}`;
      const owed = invoice.amount_remaining.amount > 0 && invoice.status !== 'draft' && invoice.status !== 'void' ? `, ${invoice.amount_remaining.formatted} still owed` : '';
      const when = [invoice.due_date && owed ? `due ${day(invoice.due_date)}` : '', invoice.paid_at ? `paid ${day(invoice.paid_at)}` : ''].filter(Boolean).join(', ');
      const period = invoice.period && invoice.period.start !== invoice.period.end ? ` for ${day(invoice.period.start)} to ${day(invoice.period.end)}` : '';
      const link = invoice.hosted_invoice_url ?? invoice.invoice_pdf ?? invoice.links_note ?? '';
      return `- ${label}, ${day(invoice.created)}: ${invoice.total.formatted} ${invoice.status}${owed}${when ? ` (${when})` : ''}; ${quoted(invoice.description)}${period}.${invoice.status_note && invoice.status !== 'draft' ? ` ${invoice.status_note}` : ''} ${link}`.trimEnd();
    });
    const more = output.more_available ? ['Older invoices exist: ask again with a larger limit (up to 24).'] : [];
    return [output.summary, ...lines, ...more].join('\n');
  },
});
