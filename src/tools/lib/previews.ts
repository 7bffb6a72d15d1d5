import type { SlimCustomer, SlimInvoice, SlimSubscription } from '../../cache/projections.js';
import type { ToolContext } from './context.js';
import { readSubscriptions, renews } from './subscriptions.js';

export interface SubscriptionsWithPreviews {
  /** Every subscription of every record, newest first. */
  subscriptions: SlimSubscription[];
  /** Stripe's preview of the next invoice of each renewing subscription; null when nothing is upcoming. */
  previews: Map<string, SlimInvoice | null>;
}

/**
 * Each record's subscriptions and its customer-level preview load in one round: for the usual
 * record with one renewing subscription that preview is the one wanted, so only records with
 * several need a second round of per-subscription previews.
 */
export async function loadSubscriptionsWithPreviews(ctx: ToolContext, customers: readonly SlimCustomer[], options: { discounts?: boolean } = {}): Promise<SubscriptionsWithPreviews> {
  // Without invoices read, where the tool can answer without it, there is no preview: the next payment is estimated.
  const preview = (customerId: string, subscriptionId?: string) => ctx.sections.read('rak_invoice_read', () => ctx.reads.invoicePreview(customerId, subscriptionId), null);
  const records = await Promise.all(
    customers.map(async (customer) => {
      const [subscriptions, customerPreview] = await Promise.all([
        readSubscriptions(ctx, (expansions) => ctx.reads.subscriptions(customer.id, expansions), { discounts: options.discounts ?? false, paymentMethod: false }),
        preview(customer.id),
      ]);
      const renewing = subscriptions.filter(renews);
      const previews = new Map<string, SlimInvoice | null>();
      if (renewing.length === 1 && customerPreview?.subscription === renewing[0]!.id) {
        previews.set(renewing[0]!.id, customerPreview);
      } else {
        await Promise.all(renewing.map(async (sub) => previews.set(sub.id, await preview(customer.id, sub.id))));
      }
      return { subscriptions, previews };
    }),
  );
  return {
    subscriptions: records.flatMap((record) => record.subscriptions).sort((a, b) => b.created - a.created),
    previews: new Map(records.flatMap((record) => [...record.previews])),
  };
}
