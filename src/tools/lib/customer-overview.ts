/**
 * Everything a support agent's panel shows about one customer, loaded in one round of parallel
 * Stripe requests. Shared by the get_customer_overview tool and the web insight panel.
 */
import type { SlimCustomer, SlimInvoice } from '../../cache/projections.js';
import type { ToolError } from '../../errors.js';
import { mapStripeError } from '../../stripe/errors.js';
import { z } from 'zod';
import { isoDate } from '../../format/dates.js';
import { money } from '../../format/money.js';
import { quoted } from '../../format/untrusted-text.js';
import { listAcrossRecords } from './across-records.js';
import { balanceTotals, loadBalanceHistories } from './balances.js';
import type { CustomerTarget, ToolContext } from './context.js';
import { accountDefaultPaymentMethod, NO_PAYMENT_METHOD, subscriptionOwnPaymentMethod } from './default-payment-method.js';
import { discountSchema, isoDateSchema, maskedPaymentMethodSchema, moneySchema, nextPaymentBreakdownSchema } from './schemas.js';
import { catalogIfReadable } from './products.js';
import { chargeDeclineCode, explainDecline } from '../../stripe/decline-reasons.js';
import { findPaymentProblems, paymentProblemSchema, recordCharges, type RecordCharge } from './payment-problems.js';
import { describeSubscriptions, LIVE_STATUSES, listSubscriptions } from './subscriptions.js';

const RECENT_INVOICES = 5;
const RECENT_CHARGES = 10;
const OPEN_INVOICES = 5;
/** Only the newest transaction per currency matters here: it holds that currency's balance. */
const BALANCE_TRANSACTIONS = 10;

export const customerOverviewShape = {
  customer: z.object({
    name: z.string().optional(),
    email: z.string().optional(),
    customer_ids: z.array(z.string()).describe('every Stripe record of this person, newest first'),
    customer_since: isoDateSchema,
  }),
  subscriptions: z.array(
    z.object({
      id: z.string(),
      plan: z.string(),
      price: z.string().describe('e.g. "$49.00 per month"'),
      status: z.string(),
      discounts: z.array(discountSchema),
      next_payment: z.object({ date: isoDateSchema, amount: moneySchema, breakdown: nextPaymentBreakdownSchema.optional() }).optional(),
      note: z.string(),
    }),
  ),
  recent_invoices: z.array(
    z.object({
      id: z.string(),
      number: z.string().optional(),
      status: z.string(),
      total: moneySchema,
      amount_remaining: moneySchema.optional().describe('still owed, for open invoices'),
      created: isoDateSchema,
      hosted_invoice_url: z.string().optional(),
      invoice_pdf: z.string().optional(),
    }),
  ),
  payment_method: maskedPaymentMethodSchema.describe("what the next payment is charged to; type 'none' when nothing is on file"),
  balances: z.array(z.object({ kind: z.enum(['credit', 'owed']), amount: moneySchema })).describe('account credit or amount owed per currency; empty when none'),
  upcoming_invoice: z.object({ date: isoDateSchema, amount_due: moneySchema }).optional().describe('absent when nothing is upcoming'),
  payment_problems: z.array(
    z.object({ date: isoDateSchema, amount: moneySchema, kind: z.enum(['failed', 'refunded', 'partly refunded']), detail: z.string() }),
  ),
  attention: z.array(z.string()).describe('what needs action now, with links; empty when all is well'),
  summary: z.string(),
};

/**
 * What the loader returns: the tool's answer plus the open invoices as data, which the panel
 * lays out with their payment links. The model reads them in `attention` already, so the tool's
 * output schema leaves them out (and its parse drops them).
 */
export const insightOverviewShape = {
  ...customerOverviewShape,
  unpaid_invoices: z
    .array(
      z.object({
        id: z.string(),
        number: z.string().optional(),
        amount_remaining: moneySchema,
        due_date: isoDateSchema.optional(),
        past_due: z.boolean(),
        hosted_invoice_url: z.string().optional().describe('where the customer pays it'),
      }),
    )
    .describe('open invoices with money still owed, oldest first'),
  /** The same problems get_payment_problem answers with (one function finds them), for the "Needs attention" box. */
  payment_failures: z.array(paymentProblemSchema).describe('failed payments still to fix, most urgent first'),
};

export type CustomerOverview = z.input<z.ZodObject<typeof insightOverviewShape>>;

/** The parts of the overview, each from its own Stripe reads (and permissions). */
export type OverviewSection = 'subscriptions' | 'invoices' | 'payment_method' | 'payments' | 'upcoming' | 'balance';

/** A part that could not be loaded (partial mode): why, for the caller to word. */
export interface SectionFailure {
  section: OverviewSection;
  error: ToolError;
}

export type PartialOverview = CustomerOverview & { unavailable: SectionFailure[] };

/**
 * Strict (the tool): any failed read fails the answer, so the model never mistakes a missing part
 * for "nothing there"; only a part whose permission the tool declares optional is left out, with
 * a notice (ctx.sections). Partial (the panel, /v1/insight): a part whose read failed (a missing
 * permission, a Stripe error) is left empty and named in `unavailable`; the rest still shows.
 */
export async function loadCustomerOverview(ctx: ToolContext, target: CustomerTarget): Promise<CustomerOverview>;
export async function loadCustomerOverview(ctx: ToolContext, target: CustomerTarget, options: { partial: true }): Promise<PartialOverview>;
export async function loadCustomerOverview(ctx: ToolContext, target: CustomerTarget, options: { partial?: boolean } = {}): Promise<CustomerOverview | PartialOverview> {
  const { customers } = target;
  const now = Math.floor(Date.now() / 1000);
  const audience = ctx.principal.kind === 'staff' ? 'staff' : 'customer';
  const unavailable: SectionFailure[] = [];
  const section = async <T>(name: OverviewSection, load: () => Promise<T>, empty: T, permission?: string): Promise<T> => {
    if (!options.partial) return permission ? ctx.sections.read(permission, load, empty) : load();
    try {
      return await load();
    } catch (error) {
      unavailable.push({ section: name, error: mapStripeError(error, `overview ${name}`) });
      return empty;
    }
  };
  // One round: every request below is independent of the others.
  const [subscriptions, [invoices, openPages], fullCustomers, [charges, taggedCharges], previews, balanceHistories] = await Promise.all([
    section(
      'subscriptions',
      async () => {
        // The catalogue (product names) loads in the same round.
        const [listed] = await Promise.all([listSubscriptions(ctx, customers, { withPaymentMethod: true }), catalogIfReadable(ctx)]);
        return { listed };
      },
      { listed: [] },
    ),
    section(
      'invoices',
      () =>
        Promise.all([
          listAcrossRecords(customers, RECENT_INVOICES, (customer, limit) => ctx.reads.invoices(customer, { limit })),
          Promise.all(customers.map((customer) => ctx.reads.invoices(customer.id, { status: 'open', limit: OPEN_INVOICES }))),
        ]),
      [{ items: [], more: false }, []],
      'rak_invoice_read',
    ),
    // Without payment methods read (tool), the records as found: a saved method shows without its details.
    section('payment_method', () => ctx.sections.read('rak_payment_method_read', () => Promise.all(customers.map((customer) => ctx.reads.customerWithPaymentMethod(customer))), [...customers]), []),
    section(
      'payments',
      // The same cached page twice: the merged list shown, and each record's charges for the payment problems.
      () => Promise.all([listAcrossRecords(customers, RECENT_CHARGES, (customer, limit) => ctx.reads.charges(customer, limit)), recordCharges(ctx, customers)]),
      [{ items: [], more: false }, [] as RecordCharge[]] as const,
      'rak_charge_read',
    ),
    section('upcoming', () => Promise.all(customers.map((customer) => ctx.reads.invoicePreview(customer.id))), [], 'rak_invoice_read'),
    section('balance', () => loadBalanceHistories(ctx, customers, BALANCE_TRANSACTIONS), [], 'rak_customer_balance_transaction_read'),
  ]);
  // Each record's preview is of one of its subscriptions: that one's next payment comes from it.
  const previewOf = new Map(previews.flatMap((preview) => (preview?.subscription ? [[preview.subscription, preview] as const] : [])));
  const views = await section('subscriptions', () => describeSubscriptions(ctx, subscriptions.listed, previewOf), []);
  const records: SlimCustomer[] = fullCustomers.filter((customer) => customer !== null);
  const live = subscriptions.listed.find((sub) => LIVE_STATUSES.has(sub.status));
  const liveOwner = live?.customer;
  const primary = records.find((record) => record.id === liveOwner) ?? records[0] ?? customers[0]!;

  const paymentMethod = (live && subscriptionOwnPaymentMethod(live, primary)) ?? accountDefaultPaymentMethod(primary);

  const upcoming = previews
    .filter((preview): preview is SlimInvoice => preview !== null)
    .map((preview) => ({ date: preview.next_payment_attempt ?? preview.period_end, amount_due: money(preview.amount_due, preview.currency) }))
    .sort((a, b) => a.date - b.date)[0];

  const payment_failures = findPaymentProblems({
    subscriptions: subscriptions.listed,
    openInvoices: openPages.flatMap((page) => page.data),
    charges: taggedCharges,
    planOf: (sub) => views.find((view) => view.id === sub.id)?.plan ?? 'Subscription',
    audience,
    now,
  }).map(({ customer_id: _record, ...problem }) => problem);

  const attention: string[] = [];
  const openInvoices = openPages.flatMap((page) => page.data).filter((invoice) => invoice.amount_remaining > 0);
  const unpaid_invoices = openInvoices
    .sort((a, b) => (a.due_date ?? a.created) - (b.due_date ?? b.created))
    .map((invoice) => ({
      id: invoice.id,
      number: invoice.number ?? undefined,
      amount_remaining: money(invoice.amount_remaining, invoice.currency),
      due_date: invoice.due_date ? isoDate(invoice.due_date) : undefined,
      past_due: (invoice.due_date !== null && invoice.due_date < now) || invoice.attempt_count > 0,
      hosted_invoice_url: invoice.hosted_invoice_url ?? undefined,
    }));
  // Failed payments in the shared words (get_payment_problem's), then invoices merely unpaid.
  const explained = new Set(payment_failures.flatMap((problem) => (problem.invoice ? [problem.invoice.id] : [])));
  for (const problem of payment_failures) {
    const pay = problem.pay_url ? ` Pay it at ${problem.pay_url}.` : '';
    attention.push(`${problem.what} ${problem.reason} ${problem.what_to_do}${pay} (get_payment_problem gives a link to update the card.)`);
  }
  for (const invoice of unpaid_invoices.filter((candidate) => !explained.has(candidate.id))) {
    const due = invoice.due_date ? ` due ${invoice.due_date.slice(0, 10)}` : '';
    const link = invoice.hosted_invoice_url ? `: pay it at ${invoice.hosted_invoice_url}` : '';
    attention.push(`Invoice ${invoice.number ? quoted(invoice.number) : invoice.id} for ${invoice.amount_remaining.formatted} is ${invoice.past_due ? 'past due' : 'unpaid'}${due}${link}.`);
  }
  const paymentMethodKnown = !unavailable.some((failure) => failure.section === 'payment_method');
  if (live && !paymentMethod && paymentMethodKnown && live.status !== 'canceled') {
    const trial = live.status === 'trialing' && live.trial_end ? ` before the trial ends on ${isoDate(live.trial_end).slice(0, 10)}` : '';
    attention.push(`No payment method on file: the customer should add one in the billing portal${trial}.`);
  }

  const payment_problems = charges.items.flatMap((charge): CustomerOverview['payment_problems'] => {
    const amount = money(charge.amount, charge.currency);
    const date = isoDate(charge.created);
    if (charge.status === 'failed') {
      return [{ date, amount, kind: 'failed' as const, detail: explainDecline(chargeDeclineCode(charge), audience).reason }];
    }
    if (charge.amount_refunded > 0) {
      const refunded = money(charge.amount_refunded, charge.currency).formatted;
      return [{ date, amount, kind: charge.refunded ? ('refunded' as const) : ('partly refunded' as const), detail: `${refunded} refunded to the original payment method.` }];
    }
    return [];
  });

  const nameSource = records.find((record) => record.name) ?? primary;
  const liveViews = views.filter((view) => LIVE_STATUSES.has(view.status));
  const summaryParts = [
    liveViews.length === 0 ? 'No current subscription' : liveViews.map((view) => `${quoted(view.plan)} (${view.status.replace('_', ' ')})`).join(', '),
    upcoming ? `next invoice ${upcoming.amount_due.formatted} on ${isoDate(upcoming.date).slice(0, 10)}` : 'nothing upcoming',
    attention.length > 0 ? `${attention.length} item${attention.length === 1 ? ' needs' : 's need'} attention` : 'nothing needs attention',
  ];
  return {
    customer: {
      name: nameSource.name ?? undefined,
      email: primary.email ?? target.email ?? undefined,
      customer_ids: customers.map((customer) => customer.id),
      customer_since: isoDate(Math.min(...customers.map((customer) => customer.created))),
    },
    subscriptions: views.map((view) => ({
      id: view.id,
      plan: view.plan,
      price: view.items.map((item) => (item.quantity > 1 ? `${item.quantity} × ${item.price}` : item.price)).join(' + '),
      status: view.status,
      discounts: view.discounts,
      next_payment: view.next_payment ? { date: view.next_payment.date, amount: view.next_payment.amount, breakdown: view.next_payment.breakdown } : undefined,
      note: view.note,
    })),
    recent_invoices: invoices.items.map((invoice) => ({
      id: invoice.id,
      number: invoice.number ?? undefined,
      status: invoice.status ?? 'unknown',
      total: money(invoice.total, invoice.currency),
      amount_remaining: invoice.status === 'open' ? money(invoice.amount_remaining, invoice.currency) : undefined,
      created: isoDate(invoice.created),
      hosted_invoice_url: invoice.hosted_invoice_url ?? undefined,
      invoice_pdf: invoice.invoice_pdf ?? undefined,
    })),
    payment_method: paymentMethod ?? NO_PAYMENT_METHOD,
    balances: balanceTotals(balanceHistories).map(({ kind, currency, amount }) => ({ kind, amount: money(amount, currency) })),
    upcoming_invoice: upcoming ? { date: isoDate(upcoming.date), amount_due: upcoming.amount_due } : undefined,
    payment_problems,
    unpaid_invoices,
    payment_failures,
    attention,
    summary: `${summaryParts.join('; ')}.`,
    ...(options.partial ? { unavailable } : {}),
  };
}
