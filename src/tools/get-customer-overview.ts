import { loadCustomerOverview, customerOverviewShape } from './lib/customer-overview.js';
import { defineTool } from './lib/define-tool.js';

export default defineTool({
  name: 'get_customer_overview',
  title: 'Customer billing overview',
  description:
    "One snapshot of the customer's billing: subscriptions, recent invoices, payment method (masked), credit, next invoice, failed payments and refunds, and what needs action now. Use first for a broad 'what's going on with my account' question. Read-only.",
  audience: 'customer',
  discloses: ['customer_record', 'subscription', 'subscription.price', 'discount', 'upcoming_invoice', 'invoices', 'payments', 'refunds', 'payment_method.brand', 'payment_method.last4', 'payment_method.expiry', 'credit_balance'],
  permissions: [
    'rak_customer_read',
    'rak_subscription_read',
    'rak_coupon_read',
    'rak_product_read',
    'rak_price_read',
    'rak_invoice_read',
    'rak_charge_read',
    'rak_payment_method_read',
    'rak_customer_balance_transaction_read',
  ],
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
