/**
 * get_customer_overview: what needs action, the plan and its next payment, the card on file,
 * the latest invoices and recent payment trouble, with the portal buttons.
 */
import { el, row, section } from './dom.js';
import { formatDate, statusLabel } from './format.js';
import { amount, buttonRow, discounts, forPerson, header, invoiceItem, isLive, nextPayment, paymentMethodText, statusChip, type RenderContext } from './render-common.js';
import type { Overview } from './types.js';

const URL_PATTERN = /https:\/\/[^\s"'<>]+/g;

/**
 * An attention item as the person reads it: its links (an invoice's payment page) become
 * buttons that open through the host, and the pointer meant for the model ("(get_payment_problem
 * gives a link …)") is left out.
 */
function withLinks(text: string, context: RenderContext): (string | HTMLElement)[] {
  const said = forPerson(text);
  const parts: (string | HTMLElement)[] = [];
  let at = 0;
  for (const match of said.matchAll(URL_PATTERN)) {
    const url = match[0].replace(/[.,;:!?]+$/, '');
    const start = match.index ?? 0;
    parts.push(said.slice(at, start));
    let host = 'link';
    try {
      host = new URL(url).hostname;
    } catch {
      // not a URL after all: the text stays as it is
    }
    parts.push(context.actions.linkButton('attention', host, url, `Open ${url}`) ?? url);
    at = start + url.length;
  }
  parts.push(said.slice(at));
  return parts.filter((part) => part !== '');
}

export function renderOverview(data: Overview, context: RenderContext): HTMLElement[] {
  const subscriptions = data.subscriptions ?? [];
  const live = subscriptions.filter(isLive);
  const ended = subscriptions.filter((subscription) => !isLive(subscription));
  const parts: (HTMLElement | null)[] = [header('Your billing', context, data.customer?.name)];

  const attention = data.attention ?? [];
  if (attention.length > 0) {
    parts.push(el('section', { class: 'callout warn' }, el('h2', {}, 'Needs attention'), el('ul', { class: 'plain' }, ...attention.map((item) => el('li', { 'data-testid': 'problem' }, ...withLinks(item, context))))));
  }

  const plans = section(live.length > 1 ? 'Plans' : 'Plan');
  if (live.length === 0) plans.append(el('p', {}, 'No current subscription.'));
  for (const subscription of live) {
    plans.append(
      el(
        'div',
        { class: 'subscription', 'data-subscription-id': subscription.id },
        el('div', { class: 'title-row' }, el('span', { class: 'plan', 'data-testid': 'plan' }, subscription.plan), statusChip(subscription.status, { 'data-testid': 'status' })),
        subscription.price && el('p', { class: 'muted' }, subscription.price),
        discounts(subscription.discounts),
        ...nextPayment(subscription.next_payment, context),
        subscription.note && el('p', { class: 'muted' }, subscription.note),
      ),
    );
  }
  // Nothing renews, but an invoice is still coming (a one-off, or a subscription's without a preview).
  if (!live.some((subscription) => subscription.next_payment) && data.upcoming_invoice) {
    plans.append(row('Next invoice', el('span', {}, amount(data.upcoming_invoice.amount_due, context), ' on ', formatDate(data.upcoming_invoice.date, context.where)), { 'data-testid': 'next-payment' }));
  }
  if (ended.length > 0) plans.append(el('p', { class: 'muted' }, `Ended: ${ended.map((subscription) => subscription.plan).join(', ')}`));
  parts.push(plans);

  const payment = section('Payment');
  payment.append(row('Card on file', paymentMethodText(data.payment_method), { 'data-testid': 'card-on-file' }));
  for (const balance of data.balances ?? []) {
    payment.append(row(balance.kind === 'credit' ? 'Account credit' : 'Amount owed', amount(balance.amount, context), { 'data-testid': 'balance' }));
  }
  const changeable = live.find((subscription) => subscription.status !== 'paused') ?? live[0];
  payment.append(
    buttonRow(
      'portal',
      context.actions.portalButton('update_card', data.payment_method?.type === 'none' ? 'Add a card' : 'Update card', null),
      changeable ? context.actions.portalButton('change_plan', 'Change plan', changeable.id) : null,
      context.actions.portalButton('manage', 'Manage billing', null),
    ) ?? '',
  );
  parts.push(payment);

  const invoices = data.recent_invoices ?? [];
  if (invoices.length > 0) parts.push(section('Latest invoices', el('ul', { class: 'plain invoices' }, ...invoices.map((invoice) => invoiceItem(invoice, context)))));

  const problems = data.payment_problems ?? [];
  if (problems.length > 0) {
    parts.push(
      section(
        'Recent payment issues',
        el(
          'ul',
          { class: 'plain events' },
          ...problems.map((problem) =>
            el(
              'li',
              { 'data-testid': 'payment-event', 'data-kind': problem.kind },
              el('div', { class: 'invoice-facts' }, el('span', {}, `${statusLabel(problem.kind)} · ${formatDate(problem.date, context.where)}`), amount(problem.amount, context)),
              el('p', { class: 'muted' }, problem.detail),
            ),
          ),
        ),
      ),
    );
  }
  return parts.filter((part): part is HTMLElement => part !== null);
}
