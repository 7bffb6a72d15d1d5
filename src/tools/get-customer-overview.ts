import { loadCustomerOverview, customerOverviewShape } from './lib/customer-overview.js';
import { quoted } from '../format/untrusted-text.js';
import { day, parts } from './lib/answer-text.js';
import { defineTool } from './lib/define-tool.js';

export default defineTool({
  name: 'get_customer_overview',
  title: 'Customer billing overview',
  description:
    "One snapshot of the customer's billing: subscriptions, recent invoices, payment method (masked), credit, next invoice, failed payments and refunds, and what needs action now. Use first for a broad 'what's going on with my account' question. Read-only.",
  audience: 'customer',
  card: 'overview',
  discloses: ['customer_record', 'subscription', 'subscription.price', 'discount', 'upcoming_invoice', 'invoices', 'payments', 'refunds', 'payment_method.brand', 'payment_method.last4', 'payment_method.expiry', 'credit_balance'],
  permissions: ['rak_customer_read', 'rak_subscription_read'],
  optionalPermissions: {
    rak_coupon_read: 'discounts',
    rak_product_read: 'product names (plans are named by their price)',
    rak_invoice_read: 'invoices, unpaid invoices and the next invoice',
    rak_charge_read: 'failed payments and refunds',
    rak_payment_method_read: 'payment method details (brand, last four digits, expiry)',
    rak_customer_balance_transaction_read: 'account credit and amounts owed',
  },
  inputSchema: {},
  outputSchema: customerOverviewShape,
  annotations: { readOnlyHint: true, openWorldHint: false },
  async handler(_input, ctx) {
    return loadCustomerOverview(ctx, await ctx.customer());
  },
  summarize(output) {
    const { customer } = output;
    const who = [customer.name ? quoted(customer.name) : '', customer.email ? quoted(customer.email) : ''].filter(Boolean).join(' ');
    const subscriptions = output.subscriptions.map((sub) => {
      const discounts = sub.discounts.map((discount) => `${quoted(discount.name)}: ${discount.off} (${discount.lasts})`);
      const next = sub.next_payment ? `next payment ${sub.next_payment.amount.formatted} on ${day(sub.next_payment.date)}` : '';
      const extra = parts(...discounts, next);
      return `- ${sub.id} ${quoted(sub.plan)}, ${sub.price}, ${sub.status}${extra ? `; ${extra}` : ''}. ${sub.note}`;
    });
    const balances = output.balances.map((balance) => `${balance.kind === 'credit' ? 'account credit' : 'owed'} ${balance.amount.formatted}`);
    const invoices = output.recent_invoices.map((invoice) => {
      const owed = invoice.amount_remaining ? `, ${invoice.amount_remaining.formatted} still owed` : '';
      return `- ${invoice.number ? quoted(invoice.number) : 'Draft'} ${invoice.id}, ${day(invoice.created)}: ${invoice.total.formatted} ${invoice.status}${owed}. ${invoice.hosted_invoice_url ?? invoice.invoice_pdf ?? ''}`.trimEnd();
    });
    const problems = output.payment_problems.map((problem) => `- ${day(problem.date)}: ${problem.amount.formatted} ${problem.kind}. ${problem.detail}`);
    return [
      output.summary,
      `Customer: ${who || 'no name on file'} (${customer.customer_ids.join(', ')}), since ${day(customer.customer_since)}.`,
      ...(subscriptions.length > 0 ? ['Subscriptions:', ...subscriptions] : ['No subscriptions.']),
      ...(output.upcoming_invoice ? [`Next invoice: ${output.upcoming_invoice.amount_due.formatted} on ${day(output.upcoming_invoice.date)}.`] : []),
      `Payment method: ${output.payment_method.description}. Balance: ${balances.length > 0 ? balances.join(', ') : 'no credit, nothing owed'}.`,
      ...(invoices.length > 0 ? ['Recent invoices:', ...invoices] : []),
      ...(problems.length > 0 ? ['Recent payment issues:', ...problems] : []),
      ...(output.attention.length > 0 ? ['Needs attention:', ...output.attention.map((item) => `- ${item}`)] : []),
    ].join('\n');
  },
});
