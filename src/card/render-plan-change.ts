/**
 * preview_plan_change: what the switch costs now and on the next invoice, line by line (the
 * proration lines marked), then the new recurring amount. Nothing changes until the person
 * confirms in the billing portal, which "Change plan" opens.
 */
import { el, row, section } from './dom.js';
import { formatDate, formatMoney } from './format.js';
import { amount, buttonRow, header, type RenderContext } from './render-common.js';
import type { PlanChangePreview, PlanChoice } from './types.js';

function planText(plan: PlanChoice, context: RenderContext): string {
  const quantity = plan.quantity > 1 ? `${plan.quantity} × ` : '';
  return `${quantity}${plan.product} · ${formatMoney(plan.amount, context.where)} per ${plan.interval}`;
}

export function renderPlanChange(data: PlanChangePreview, context: RenderContext): HTMLElement[] {
  const parts: (HTMLElement | null)[] = [header('Plan change preview', context)];
  const summary = el('section', { class: 'plan-change' });
  if (data.from) summary.append(row('Current plan', planText(data.from, context), { 'data-testid': 'plan-from' }));
  if (data.to) summary.append(row('New plan', planText(data.to, context), { 'data-testid': 'plan-to' }));
  parts.push(summary);

  const preview = data.preview;
  if (data.outcome === 'no_change' || !preview) {
    parts.push(el('p', {}, 'This is already your plan; nothing would change.'));
    return parts.filter((part): part is HTMLElement => part !== null);
  }

  const zero = { amount: 0, currency: preview.amount_due.currency, formatted: '' };
  const costs = el('section', { class: 'costs' });
  if (preview.billed === 'now') {
    costs.append(row('Due now', amount(preview.amount_due, context, { 'data-testid': 'preview-total' }), { class: 'total' }));
  } else {
    costs.append(row('Due now', amount(data.charged_now ?? zero, context), { 'data-testid': 'due-now' }));
    costs.append(row(`Next invoice, ${formatDate(preview.date, context.where)}`, amount(preview.amount_due, context, { 'data-testid': 'preview-total' }), { class: 'total' }));
  }
  if (data.credited_now) costs.append(row('Credit for unused time', amount(data.credited_now, context), { 'data-testid': 'credited-now' }));
  if (data.new_recurring) {
    const recurring = data.new_recurring;
    costs.append(
      el('p', { class: 'muted', 'data-testid': 'new-recurring' }, `Then ${formatMoney(recurring.amount, context.where)} per ${recurring.interval} from ${formatDate(recurring.next_date, context.where)}, before discounts and tax.`),
    );
  }
  parts.push(costs);

  const lines = el('div', { class: 'breakdown' });
  for (const line of preview.lines ?? []) {
    lines.append(row(el('span', {}, line.description, line.proration && el('span', { class: 'chip muted' }, 'prorated')), amount(line.amount, context), line.proration ? { 'data-testid': 'proration-line' } : {}));
  }
  if (preview.subtotal) lines.append(row('Subtotal', amount(preview.subtotal, context)));
  for (const discount of preview.discounts ?? []) lines.append(row(discount.name, amount(discount.amount, context), { class: 'discount-line' }));
  if (preview.tax) lines.append(row('Tax', amount(preview.tax, context)));
  if (preview.total) lines.append(row('Total', amount(preview.total, context)));
  if (preview.account_balance) lines.append(row(preview.account_balance.amount < 0 ? 'Account credit applied' : 'Earlier balance', amount(preview.account_balance, context)));
  if (preview.credit_kept) lines.append(row('Credit kept for later invoices', amount(preview.credit_kept, context)));
  lines.append(row('Amount due', amount(preview.amount_due, context), { class: 'total' }));
  parts.push(section(preview.billed === 'now' ? 'Invoice now' : 'Next invoice', lines));

  // The tool's note is written for the model (it talks about "the customer" and the link); the card says it to the person.
  if (data.outcome === 'link_created' && data.subscription) {
    parts.push(el('p', { class: 'muted' }, 'Nothing has changed yet: you confirm the change in the billing portal, which shows the same amounts.'));
    parts.push(buttonRow('plan', context.actions.portalButton('change_plan', 'Change plan', data.subscription.id)));
  } else if (data.outcome === 'made_by_merchant') {
    parts.push(el('p', { class: 'muted' }, 'The billing portal does not offer this change, so the merchant’s team makes it on request. Nothing has changed yet.'));
  }
  return parts.filter((part): part is HTMLElement => part !== null);
}
