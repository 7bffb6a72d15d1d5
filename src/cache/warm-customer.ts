/**
 * Warm on verification: the moment a customer is verified (an identity token checked for the
 * first time, an email code or trust-email grant), the reads their first question most likely
 * needs start in the background, so that question is answered from the cache. What is read is
 * what get_subscription_status and get_customer_overview read (the other read tools use a subset).
 *
 * Background reads spend only Stripe budget no waiting answer needs (StripeRateBudget); a tool
 * call that asks for a key being warmed joins that read instead of making its own. A read that
 * fails (a permission the key lacks, a busy budget) is simply not warmed.
 */
import { backgroundWork } from '../stripe/caller-context.js';
import type { BillingReads } from './billing-reads.js';

/** As the overview asks: its invoice, charge and balance pages are shared by the other tools. */
const RECENT = { invoices: 5, openInvoices: 5, charges: 10, balanceTransactions: 10 } as const;

export async function warmCustomer(reads: BillingReads, email: string): Promise<void> {
  // Each read is background work of its own: a tool call that joins one promotes only that one.
  const quietly = (read: (reads: BillingReads) => Promise<unknown>) =>
    read(reads.forWork(backgroundWork())).then(
      () => undefined,
      () => undefined,
    );
  // The catalogue names the plans in both answers; it loads beside the look-up.
  const [records] = await Promise.all([reads.forWork(backgroundWork()).customersByEmail(email).catch(() => []), quietly((background) => background.catalogPrices())]);
  await Promise.all(
    records.flatMap((record) => [
      // get_subscription_status: subscriptions with discounts, and the record's next-invoice preview.
      quietly((background) => background.subscriptions(record.id, { discounts: true })),
      quietly((background) => background.invoicePreview(record.id)),
      // get_customer_overview: the same plus payment methods, invoices, charges and balance.
      quietly((background) => background.subscriptions(record.id, { discounts: true, paymentMethod: true })),
      quietly((background) => background.customerWithPaymentMethod(record)),
      quietly((background) => background.invoices(record.id, { limit: RECENT.invoices })),
      quietly((background) => background.invoices(record.id, { status: 'open', limit: RECENT.openInvoices })),
      quietly((background) => background.charges(record.id, RECENT.charges)),
      quietly((background) => background.balanceTransactions(record.id, RECENT.balanceTransactions)),
    ]),
  );
}
