/**
 * Pieces several views share: the header with the test-mode badge, amounts, the next payment's
 * breakdown, an invoice row with its links, and a subscription's status chip.
 */
import type { Actions } from './actions.js';
import { el, row } from './dom.js';
import { formatDate, formatMoney, statusLabel, type Locale } from './format.js';
import type { Breakdown, CardMeta, ConfirmationMeta, Discount, InvoiceSummary, Money, NextPayment, PaymentMethod } from './types.js';

/** What every view renders with. */
export interface RenderContext {
  where: Locale;
  actions: Actions;
  card?: CardMeta | undefined;
  confirmation?: ConfirmationMeta | undefined;
}

/** The card's title and, on test data, the panel's "Test data" badge. */
export function header(title: string, context: RenderContext, subtitle?: string): HTMLElement {
  return el(
    'header',
    { class: 'head' },
    el('h1', {}, title),
    context.card?.test_mode === true && el('span', { class: 'badge test', 'data-testid': 'test-mode', title: 'Stripe test mode: no real money moves' }, 'Test data'),
    subtitle && el('p', { class: 'muted subtitle' }, subtitle),
  );
}

export function amount(money: Money | undefined, context: RenderContext, attributes: Record<string, string> = {}): HTMLElement | null {
  if (!money) return null;
  return el('span', { class: `amount${money.amount < 0 ? ' negative' : ''}`, ...attributes }, formatMoney(money, context.where));
}

/** Subscription, invoice and request states as a coloured chip; the raw status stays in data-status. */
const TONES: Record<string, string> = {
  active: 'ok',
  trialing: 'ok',
  paid: 'ok',
  done: 'ok',
  past_due: 'bad',
  unpaid: 'bad',
  uncollectible: 'bad',
  incomplete: 'warn',
  open: 'warn',
  paused: 'warn',
  failed: 'bad',
  denied: 'bad',
  awaiting_confirmation: 'warn',
  awaiting_approval: 'warn',
  executing: 'warn',
};

export function statusChip(status: string, attributes: Record<string, string> = {}): HTMLElement {
  return el('span', { class: `chip ${TONES[status] ?? 'muted'}`, 'data-status': status, ...attributes }, statusLabel(status));
}

/** "Next payment: $44.00 on Dec 26, 2026", then how that amount is made up. */
export function nextPayment(next: NextPayment | undefined, context: RenderContext): HTMLElement[] {
  if (!next) return [];
  const line = row('Next payment', el('span', {}, amount(next.amount, context), ' on ', formatDate(next.date, context.where)), { 'data-testid': 'next-payment' });
  return next.breakdown ? [line, breakdown(next.breakdown, context)] : [line];
}

/** The lines, discounts, tax and balance that add up to the amount due. */
export function breakdown(parts: Breakdown, context: RenderContext): HTMLElement {
  const list = el('div', { class: 'breakdown', 'data-testid': 'breakdown' });
  for (const line of parts.lines ?? []) list.append(row(line.description, amount(line.amount, context)));
  for (const discount of parts.discounts ?? []) list.append(row(discount.name, amount(discount.amount, context), { class: 'discount-line' }));
  if (parts.tax) list.append(row('Tax', amount(parts.tax, context)));
  if (parts.credit_applied) list.append(row('Account credit', amount(parts.credit_applied, context)));
  if (parts.balance_added) list.append(row('Earlier unpaid balance', amount(parts.balance_added, context)));
  if (parts.amount_due) list.append(row('Amount due', amount(parts.amount_due, context), { class: 'total' }));
  if (parts.tax_note) list.append(el('p', { class: 'muted' }, parts.tax_note));
  return list;
}

export function discounts(list: Discount[] | undefined): HTMLElement | null {
  if (!list || list.length === 0) return null;
  return el('ul', { class: 'plain discounts' }, ...list.map((discount) => el('li', { 'data-testid': 'discount' }, `${discount.name}: ${discount.off} (${discount.lasts})`)));
}

/** An invoice: number, status, date, amount, and buttons for its PDF and its pay or view page. */
export function invoiceItem(invoice: InvoiceSummary & { description?: string; status_note?: string; due_date?: string; links_note?: string }, context: RenderContext): HTMLElement {
  const label = invoice.number ?? (invoice.status === 'draft' ? 'Draft invoice' : 'Invoice');
  const owed = invoice.amount_remaining && invoice.amount_remaining.amount > 0 && invoice.amount_remaining.amount !== invoice.total.amount ? invoice.amount_remaining : undefined;
  const payable = invoice.status === 'open' || invoice.status === 'uncollectible';
  const links = el(
    'div',
    { class: 'actions', 'data-group': 'invoice-links' },
    payable
      ? context.actions.linkButton('pay', 'Pay', invoice.hosted_invoice_url, `Pay invoice ${label}`)
      : context.actions.linkButton('view', 'View', invoice.hosted_invoice_url, `View invoice ${label}`),
    context.actions.linkButton('pdf', 'PDF', invoice.invoice_pdf, `Download invoice ${label} as PDF`),
  );
  return el(
    'li',
    { class: 'invoice', 'data-testid': 'invoice', 'data-invoice-id': invoice.id },
    el('div', { class: 'invoice-head' }, el('span', { class: 'invoice-number' }, label), statusChip(invoice.status)),
    el(
      'div',
      { class: 'invoice-facts' },
      el('span', { 'data-testid': 'invoice-date' }, formatDate(invoice.created, context.where)),
      amount(invoice.total, context, { 'data-testid': 'invoice-amount' }),
    ),
    invoice.description && el('p', { class: 'muted' }, invoice.description),
    owed && el('p', {}, 'Still owed: ', amount(owed, context)),
    invoice.due_date && payable && el('p', { class: 'muted' }, `Due ${formatDate(invoice.due_date, context.where)}`),
    invoice.status_note && el('p', { class: 'muted' }, invoice.status_note),
    links.childElementCount > 0 ? links : invoice.links_note && el('p', { class: 'muted' }, invoice.links_note),
  );
}

/** A row of buttons that wraps on a narrow card; empty groups are left out. */
export function buttonRow(name: string, ...buttons: (HTMLElement | null)[]): HTMLElement | null {
  const group = el('div', { class: 'actions', 'data-group': name }, ...buttons);
  return group.childElementCount > 0 ? group : null;
}

/** "Visa •••• 4242": the brand and last four digits, never more of the card. */
export function paymentMethodText(method: PaymentMethod | undefined): string {
  if (!method || method.type === 'none') return 'None on file';
  // The server's masked description starts with the brand's name: "Visa ending in 4242, …".
  const name = method.description?.split(' ending in ')[0]?.trim() || method.brand || statusLabel(method.type);
  return method.last4 ? `${name} •••• ${method.last4}` : name;
}

const ENDED = new Set(['canceled', 'incomplete_expired']);
export const isLive = (subscription: { status: string }) => !ENDED.has(subscription.status);

/**
 * Server text written for the model, said to the person: pointers to tools ("(get_payment_problem
 * gives a link …)", "; get_request_status shows their decision") are left out.
 */
export function forPerson(text: string): string {
  return text
    .replace(/\s*\([^()]*\bget_[a-z_]+\b[^()]*\)/g, '')
    .replace(/[;,]\s*[^.;,]*\bget_[a-z_]+\b[^.;]*/g, '')
    .trim();
}
