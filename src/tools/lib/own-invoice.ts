import type Stripe from 'stripe';
import type { SlimCustomer } from '../../cache/projections.js';
import type { ToolContext } from './context.js';

/** Enough for years of monthly invoices on each record; older ones are rarely asked about. */
const MAX_INVOICES_PER_RECORD = 300;

/**
 * The customer's own invoice by its number (as printed, any case) or id (in_…). Only the
 * customer's own records are listed, so another customer's invoice is simply not found.
 */
export async function findOwnInvoice(ctx: ToolContext, customers: readonly SlimCustomer[], wanted: string): Promise<Stripe.Invoice | undefined> {
  const byId = wanted.startsWith('in_');
  const matches = (invoice: Stripe.Invoice) => (byId ? invoice.id === wanted : invoice.number?.toUpperCase() === wanted.toUpperCase());
  const found = await Promise.all(
    customers.map(async (customer) => {
      let seen = 0;
      for await (const invoice of ctx.stripe.invoices.list({ customer: customer.id, limit: 100 })) {
        if (matches(invoice)) return invoice;
        if (++seen >= MAX_INVOICES_PER_RECORD) break;
      }
      return undefined;
    }),
  );
  return found.find((invoice) => invoice !== undefined);
}
