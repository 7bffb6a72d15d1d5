import { loadCustomerOverview, customerOverviewShape } from './lib/customer-overview.js';
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
    return [output.summary, ...output.attention.slice(0, 5).map((item) => `- ${item}`)].join('\n');
  },
});
