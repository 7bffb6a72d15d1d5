/** get_invoice_history: the invoices, newest first, each with its PDF and its pay or view page. */
import { el } from './dom.js';
import { buttonRow, header, invoiceItem, type RenderContext } from './render-common.js';
import type { InvoiceHistory } from './types.js';

export function renderInvoices(data: InvoiceHistory, context: RenderContext): HTMLElement[] {
  const invoices = data.invoices ?? [];
  const parts: (HTMLElement | null)[] = [header('Your invoices', context)];
  parts.push(invoices.length === 0 ? el('p', {}, 'No invoices found.') : el('ul', { class: 'plain invoices' }, ...invoices.map((invoice) => invoiceItem(invoice, context))));
  if (data.more_available) parts.push(el('p', { class: 'muted' }, 'Older invoices are in the billing portal.'));
  parts.push(buttonRow('portal', context.actions.portalButton('manage', 'Manage billing', null)));
  return parts.filter((part): part is HTMLElement => part !== null);
}
