/**
 * Failed payments that still need the customer: a `past_due`, `unpaid` or `incomplete`
 * subscription, an open invoice Stripe tried and failed to collect, a recent failed charge
 * nothing has paid since. One function finds them for every surface — the get_payment_problem
 * tool, get_customer_overview's loader, the panel's "Needs attention" box and /v1/insight —
 * from data each has already read, so they cannot disagree.
 */
import type { SlimCharge, SlimCustomer, SlimInvoice, SlimPrice, SlimSubscription } from '../../cache/projections.js';
import { z } from 'zod';
import { isoDate } from '../../format/dates.js';
import { money } from '../../format/money.js';
import { quoted } from '../../format/untrusted-text.js';
import { chargeDeclineCode, explainDecline } from '../../stripe/decline-reasons.js';
import type { ToolContext } from './context.js';
import { productNames } from './products.js';
import { isoDateSchema, moneySchema } from './schemas.js';

/** A failed charge older than this is history (get_payment_history), not a problem. */
export const RECENT_FAILURE_DAYS = 30;
/** Enough charges to see a month of retries and what paid them. */
export const PROBLEM_CHARGES = 20;
const PROBLEM_INVOICES = 10;

const PROBLEM_STATUSES: ReadonlySet<string> = new Set(['past_due', 'unpaid', 'incomplete']);

export const paymentProblemSchema = z.object({
  kind: z.enum(['subscription', 'invoice', 'payment']),
  what: z.string(),
  subscription: z.object({ id: z.string(), plan: z.string(), status: z.string() }).optional(),
  invoice: z.object({ id: z.string(), number: z.string().optional() }).optional(),
  failed_at: isoDateSchema.optional(),
  attempts: z.number().optional(),
  amount_due: moneySchema.optional(),
  next_retry_at: isoDateSchema.optional().describe('absent: no automatic retry'),
  retry_note: z.string(),
  reason_code: z.string().describe("Stripe decline code or 'unknown'"),
  reason: z.string(),
  what_to_do: z.string(),
  pay_url: z.string().optional().describe('invoice payment page'),
  portal_url: z.string().optional().describe('update the card here'),
  seller_message: z.string().optional().describe('staff only'),
  risk_level: z.string().optional().describe('staff only'),
});

export type PaymentProblem = z.input<typeof paymentProblemSchema> & {
  /** The record the problem is on (a portal session is per record); not in the tool's output. */
  customer_id?: string | undefined;
};

/** A charge with the record it was read for (charges do not carry one in our projection). */
export interface RecordCharge {
  customer: string | undefined;
  charge: SlimCharge;
}

export interface PaymentProblemInputs {
  subscriptions: readonly SlimSubscription[];
  /** Open invoices (any order). */
  openInvoices: readonly SlimInvoice[];
  /** Recent charges, any order. */
  charges: readonly RecordCharge[];
  planOf(subscription: SlimSubscription): string;
  audience: 'customer' | 'staff';
  now: number;
}

/** "Pro", "Pro × 3 + Support": as describeSubscriptions names plans. */
export function planName(sub: SlimSubscription, nameOf: (price: SlimPrice) => string): string {
  return sub.items.data.map((item) => ((item.quantity ?? 1) > 1 ? `${nameOf(item.price)} × ${item.quantity}` : nameOf(item.price))).join(' + ') || 'Subscription';
}

const day = (seconds: number) => isoDate(seconds).slice(0, 10);

function sameRecord(a: string | undefined | null, b: string | undefined | null): boolean {
  return a === undefined || b === undefined || a === null || b === null || a === b;
}

/**
 * The invoice's last failed attempt. Since API version 2025-03-31 neither object names the
 * other without invoice payments (another permission and a request per invoice), so the match
 * is the newest failed charge of the same record and currency, for the amount due, made after
 * the invoice: what Stripe's retries of that invoice look like.
 */
function lastFailureOf(invoice: SlimInvoice, failed: readonly RecordCharge[]): RecordCharge | undefined {
  return failed
    .filter(({ customer, charge }) =>
      sameRecord(customer, invoice.customer) && charge.currency === invoice.currency && (charge.amount === invoice.amount_due || charge.amount === invoice.amount_remaining) && charge.created >= invoice.created,
    )
    .sort((a, b) => b.charge.created - a.charge.created)[0];
}

/** A failed charge some later successful one paid: the same record, currency and amount. */
function paidSince(failed: RecordCharge, all: readonly RecordCharge[]): boolean {
  return all.some(({ customer, charge }) => charge.status === 'succeeded' && sameRecord(customer, failed.customer) && charge.currency === failed.charge.currency && charge.amount === failed.charge.amount && charge.created > failed.charge.created);
}

function explain(failure: RecordCharge | undefined, audience: 'customer' | 'staff') {
  const decline = explainDecline(failure ? chargeDeclineCode(failure.charge) : null, audience);
  const staffOnly =
    audience === 'staff' && failure
      ? {
          ...(failure.charge.outcome?.seller_message ? { seller_message: quoted(failure.charge.outcome.seller_message) } : {}),
          ...(failure.charge.outcome?.risk_level ? { risk_level: failure.charge.outcome.risk_level } : {}),
        }
      : {};
  return { reason_code: decline.code, reason: decline.reason, what_to_do: decline.whatToDo, ...staffOnly };
}

function retryOf(invoice: SlimInvoice | undefined, status: string | undefined): Pick<PaymentProblem, 'next_retry_at' | 'retry_note'> {
  if (invoice?.next_payment_attempt) return { next_retry_at: isoDate(invoice.next_payment_attempt), retry_note: `Stripe will try the card again on ${day(invoice.next_payment_attempt)}.` };
  if (status === 'incomplete') return { retry_note: 'Stripe does not retry a first payment: it must be paid from the payment page (or with a new card) within 23 hours of signing up, or the subscription expires.' };
  if (invoice && invoice.collection_method === 'send_invoice') return { retry_note: 'This invoice is paid by the customer from its payment page; Stripe does not charge it automatically.' };
  if (invoice || status) return { retry_note: 'Stripe will not try again automatically: the invoice must be paid from its payment page, or after updating the card.' };
  return { retry_note: 'Stripe does not retry a one-off payment: it must be made again.' };
}

/** Every problem, most urgent first: subscriptions (service at risk), then invoices, then one-off payments. */
export function findPaymentProblems(inputs: PaymentProblemInputs): PaymentProblem[] {
  const { audience, now } = inputs;
  const failed = inputs.charges.filter(({ charge }) => charge.status === 'failed');
  const used = new Set<string>();
  const open = inputs.openInvoices.filter((invoice) => invoice.status === 'open' && invoice.amount_remaining > 0);
  const problems: PaymentProblem[] = [];

  const invoiceProblem = (invoice: SlimInvoice, subscription: SlimSubscription | undefined): PaymentProblem => {
    const failure = lastFailureOf(invoice, failed);
    if (failure) used.add(failure.charge.id);
    const amount = money(invoice.amount_remaining, invoice.currency);
    const label = invoice.number ? `Invoice ${quoted(invoice.number)}` : 'An invoice';
    const attempts = invoice.attempt_count > 0 ? `${invoice.attempt_count} payment attempt${invoice.attempt_count === 1 ? '' : 's'} failed` : 'it has not been paid';
    const last = failure ? `, the last on ${day(failure.charge.created)}` : '';
    const plan = subscription ? ` (${quoted(inputs.planOf(subscription))}, ${subscription.status.replace('_', ' ')})` : '';
    const pastDue = invoice.attempt_count > 0 || (invoice.due_date !== null && invoice.due_date < now) || subscription !== undefined;
    return {
      kind: subscription ? 'subscription' : 'invoice',
      what: `${label} for ${amount.formatted}${plan} is ${pastDue ? 'past due' : 'unpaid'}: ${attempts}${last}.`,
      ...(subscription ? { subscription: { id: subscription.id, plan: inputs.planOf(subscription), status: subscription.status } } : {}),
      invoice: { id: invoice.id, number: invoice.number ?? undefined },
      failed_at: failure ? isoDate(failure.charge.created) : undefined,
      attempts: invoice.attempt_count,
      amount_due: amount,
      ...retryOf(invoice, subscription?.status),
      ...explain(failure, audience),
      pay_url: invoice.hosted_invoice_url ?? undefined,
      customer_id: invoice.customer ?? subscription?.customer,
    };
  };

  // Subscriptions behind on payment, each with its open invoice when one is readable.
  const covered = new Set<string>();
  for (const subscription of inputs.subscriptions.filter((sub) => PROBLEM_STATUSES.has(sub.status))) {
    const invoice = open.filter((candidate) => candidate.subscription === subscription.id).sort((a, b) => a.created - b.created)[0];
    if (invoice) {
      covered.add(invoice.id);
      problems.push(invoiceProblem(invoice, subscription));
      continue;
    }
    const failure = failed.filter((candidate) => sameRecord(candidate.customer, subscription.customer) && !paidSince(candidate, inputs.charges)).sort((a, b) => b.charge.created - a.charge.created)[0];
    if (failure) used.add(failure.charge.id);
    const plan = inputs.planOf(subscription);
    problems.push({
      kind: 'subscription',
      what: `${quoted(plan)} is ${subscription.status.replace('_', ' ')}: its latest payment did not go through${failure ? ` (last tried ${day(failure.charge.created)})` : ''}.`,
      subscription: { id: subscription.id, plan, status: subscription.status },
      failed_at: failure ? isoDate(failure.charge.created) : undefined,
      amount_due: failure ? money(failure.charge.amount, failure.charge.currency) : undefined,
      ...retryOf(undefined, subscription.status),
      ...explain(failure, audience),
      customer_id: subscription.customer,
    });
  }

  // Other open invoices Stripe tried to charge and could not (a send_invoice invoice not yet due is not a failure).
  for (const invoice of open.filter((candidate) => !covered.has(candidate.id) && candidate.attempt_count > 0).sort((a, b) => a.created - b.created)) {
    problems.push(invoiceProblem(invoice, undefined));
  }

  // Recent failed charges that no invoice above explains and nothing has paid since.
  const since = now - RECENT_FAILURE_DAYS * 86_400;
  for (const failure of failed.filter(({ charge }) => !used.has(charge.id) && charge.created >= since).sort((a, b) => b.charge.created - a.charge.created)) {
    if (paidSince(failure, inputs.charges)) continue;
    const amount = money(failure.charge.amount, failure.charge.currency);
    problems.push({
      kind: 'payment',
      what: `A payment of ${amount.formatted} on ${day(failure.charge.created)} failed.`,
      failed_at: isoDate(failure.charge.created),
      amount_due: amount,
      ...retryOf(undefined, undefined),
      ...explain(failure, audience),
      customer_id: failure.customer,
    });
  }
  return problems;
}

/** One line for the answer and the summaries: "Nothing is wrong…" or "2 payment problems: …". */
export function describePaymentProblems(problems: readonly PaymentProblem[]): string {
  if (problems.length === 0) return 'No failed payments: nothing is overdue and no recent payment failed.';
  const first = problems[0]!;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return `${problems.length} payment problem${problems.length === 1 ? '' : 's'}: ${first.what}${more}`;
}

/** Each record's recent charges, tagged with it (the overview reads the same cached page). */
export async function recordCharges(ctx: ToolContext, customers: readonly SlimCustomer[]): Promise<RecordCharge[]> {
  const pages = await Promise.all(customers.map(async (customer) => (await ctx.reads.charges(customer.id, PROBLEM_CHARGES)).data.map((charge) => ({ customer: customer.id, charge }))));
  return pages.flat();
}

/** What the tool reads: subscriptions, open invoices and recent charges of every record, in one round. */
export async function loadPaymentProblems(ctx: ToolContext, customers: readonly SlimCustomer[]): Promise<PaymentProblem[]> {
  const [subscriptionPages, invoicePages, chargePages] = await Promise.all([
    Promise.all(customers.map((customer) => ctx.reads.subscriptions(customer.id, { discounts: false, paymentMethod: false }))),
    Promise.all(customers.map((customer) => ctx.reads.invoices(customer.id, { status: 'open', limit: PROBLEM_INVOICES }))),
    ctx.sections.read('rak_charge_read', () => recordCharges(ctx, customers), []),
  ]);
  const subscriptions = subscriptionPages.flat();
  // Names only for the subscriptions that are a problem: usually none, so no catalogue read.
  const troubled = subscriptions.filter((sub) => PROBLEM_STATUSES.has(sub.status));
  const nameOf = troubled.length > 0 ? await productNames(ctx, troubled.flatMap((sub) => sub.items.data.map((item) => item.price))) : (price: SlimPrice) => price.nickname ?? price.id;
  return findPaymentProblems({
    subscriptions,
    openInvoices: invoicePages.flatMap((page) => page.data),
    charges: chargePages,
    planOf: (sub) => planName(sub, nameOf),
    audience: ctx.principal.kind === 'staff' ? 'staff' : 'customer',
    now: Math.floor(Date.now() / 1000),
  });
}
