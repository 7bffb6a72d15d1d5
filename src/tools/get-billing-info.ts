import type { SlimCustomer, SlimSubscription } from '../cache/projections.js';
import { z } from 'zod';
import { quoted } from '../format/untrusted-text.js';
import type { ToolContext } from './lib/context.js';
import { accountDefaultPaymentMethod, NO_PAYMENT_METHOD, subscriptionOwnPaymentMethod } from './lib/default-payment-method.js';
import { defineTool } from './lib/define-tool.js';
import { catalogIfReadable, productNames } from './lib/products.js';
import { maskedPaymentMethodSchema } from './lib/schemas.js';
import { LIVE_STATUSES, readSubscriptions } from './lib/subscriptions.js';

const billingAccountSchema = z.object({
  customer_id: z.string(),
  name: z.string().optional(),
  email: z.string().optional(),
  country: z.string().optional().describe('billing address country (ISO code)'),
  tax_status: z.string().optional(),
  default_payment_method: maskedPaymentMethodSchema.describe("used for invoices unless a subscription sets its own; type 'none' when there is none"),
  subscriptions: z.array(
    z.object({
      id: z.string(),
      plan: z.string(),
      status: z.string(),
      payment_method: maskedPaymentMethodSchema,
      payment_method_source: z.enum(['subscription', 'account default']).describe('set on the subscription itself, or inherited from the account default'),
    }),
  ),
});

type BillingAccountView = z.input<typeof billingAccountSchema>;

const TAX_STATUS: Partial<Record<string, string>> = {
  exempt: 'Tax exempt.',
  reverse: 'Reverse charge applies (the customer accounts for tax).',
};

async function loadAccount(ctx: ToolContext, record: SlimCustomer): Promise<{ customer: SlimCustomer; subscriptions: SlimSubscription[] } | undefined> {
  const [customer, subscriptions] = await Promise.all([
    // Without payment methods read: the record as found, whose saved method shows without its details.
    ctx.sections.read('rak_payment_method_read', () => ctx.reads.customerWithPaymentMethod(record), record),
    readSubscriptions(ctx, (expansions) => ctx.reads.subscriptions(record.id, expansions), { discounts: false, paymentMethod: true }),
  ]);
  if (!customer) return undefined;
  return { customer, subscriptions: subscriptions.filter((sub) => LIVE_STATUSES.has(sub.status)) };
}

export default defineTool({
  name: 'get_billing_info',
  title: 'Billing details',
  description:
    "The customer's billing name, email, country and the (masked) card or payment method each subscription is charged to. Use for 'which card is on file', 'what email do invoices go to'. Read-only: changing them needs get_billing_portal_link.",
  audience: 'customer',
  discloses: ['customer_record', 'billing_address', 'payment_method.brand', 'payment_method.last4', 'payment_method.expiry', 'subscription'],
  permissions: ['rak_customer_read', 'rak_subscription_read'],
  optionalPermissions: {
    rak_payment_method_read: 'payment method details (brand, last four digits, expiry)',
    rak_product_read: 'product names (plans are named by their price)',
  },
  inputSchema: {},
  outputSchema: {
    billing_accounts: z.array(billingAccountSchema),
    summary: z.string(),
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
  async handler(_input, ctx) {
    const { customers } = await ctx.customer();
    // The catalogue (product names) loads in the same round as the accounts.
    const [accounts] = await Promise.all([Promise.all(customers.map((record) => loadAccount(ctx, record))), catalogIfReadable(ctx)]);
    const loaded = accounts.filter((account) => account !== undefined);
    const nameOf = await productNames(
      ctx,
      loaded.flatMap(({ subscriptions }) => subscriptions.flatMap((sub) => sub.items.data.map((item) => item.price))),
    );
    const billing_accounts: BillingAccountView[] = loaded.map(({ customer, subscriptions }) => {
      const fallback = accountDefaultPaymentMethod(customer);
      return {
        customer_id: customer.id,
        name: customer.name ?? undefined,
        email: customer.email ?? undefined,
        country: customer.address?.country ?? undefined,
        tax_status: customer.tax_exempt ? TAX_STATUS[customer.tax_exempt] : undefined,
        default_payment_method: fallback ?? NO_PAYMENT_METHOD,
        subscriptions: subscriptions.map((sub) => {
          const own = subscriptionOwnPaymentMethod(sub, customer);
          return {
            id: sub.id,
            plan: sub.items.data.map((item) => nameOf(item.price)).join(' + ') || 'Subscription',
            status: sub.status,
            payment_method: own ?? fallback ?? NO_PAYMENT_METHOD,
            payment_method_source: own ? 'subscription' : 'account default',
          };
        }),
      };
    });
    const withoutMethod = billing_accounts.filter(
      (account) => account.default_payment_method.type === 'none' && account.subscriptions.every((sub) => sub.payment_method.type === 'none'),
    );
    const summary =
      billing_accounts.length === 0
        ? 'No billing account found.'
        : withoutMethod.length === billing_accounts.length
          ? 'No default payment method on file.'
          : `${billing_accounts.length} billing account${billing_accounts.length === 1 ? '' : 's'}.`;
    return { billing_accounts, summary };
  },
  summarize(output) {
    const lines = output.billing_accounts.flatMap((account) => {
      const holder = [account.name ? quoted(account.name) : '', account.email ? quoted(account.email) : ''].filter(Boolean).join(' ');
      const facts = [account.country ? `country ${account.country}` : '', account.tax_status ? `tax ${account.tax_status}` : ''].filter(Boolean).join(', ');
      return [
        `- ${account.customer_id}${holder ? ` ${holder}` : ''}${facts ? ` (${facts})` : ''}: ${account.default_payment_method.description}`,
        ...account.subscriptions.map((sub) => `  - ${sub.id} ${quoted(sub.plan)} (${sub.status}): ${sub.payment_method.description} (${sub.payment_method_source})`),
      ];
    });
    return [output.summary, ...lines].join('\n');
  },
});
