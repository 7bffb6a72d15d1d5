/**
 * Account credit and amounts owed per currency, across every Stripe record of one person.
 * Shared by get_credit_balance and the customer overview so both read the signs the same way.
 */
import type { SlimBalanceTransaction, SlimCustomer } from '../../cache/projections.js';
import type { ToolContext } from './context.js';

export interface RecordBalanceHistory {
  customer: SlimCustomer;
  /** Newest first. */
  transactions: SlimBalanceTransaction[];
}

export interface BalanceTotal {
  currency: string;
  kind: 'credit' | 'owed';
  /** Minor units, always positive: `kind` carries the direction. */
  amount: number;
}

/** The newest `limit` balance transactions of each record (the newest per currency holds its balance). */
export async function loadBalanceHistories(ctx: ToolContext, customers: readonly SlimCustomer[], limit: number): Promise<RecordBalanceHistory[]> {
  return Promise.all(
    customers.map(async (customer) => {
      const transactions = await ctx.reads.balanceTransactions(customer.id, limit);
      return { customer, transactions: [...transactions].sort((a, b) => b.created - a.created) };
    }),
  );
}

/**
 * One record's balance per currency, in Stripe's `balance` sign (negative = credit the customer
 * has). `balance` covers the record's default currency. Other currencies: the newest balance
 * transaction's `ending_balance` in that currency (same sign), unless Stripe included
 * `invoice_credit_balance`, which has the OPPOSITE sign (positive = credit).
 */
function balancesOf({ customer, transactions }: RecordBalanceHistory): Map<string, number> {
  const byCurrency = new Map<string, number>();
  for (const transaction of transactions) {
    // Newest first: the first one seen per currency holds the current balance.
    if (!byCurrency.has(transaction.currency)) byCurrency.set(transaction.currency, transaction.ending_balance);
  }
  for (const [currency, creditAmount] of Object.entries(customer.invoice_credit_balance ?? {})) byCurrency.set(currency, -creditAmount);
  if (customer.currency) byCurrency.set(customer.currency, customer.balance);
  return byCurrency;
}

/** Non-zero totals, sorted by currency then kind (credit before owed). */
export function balanceTotals(records: readonly RecordBalanceHistory[]): BalanceTotal[] {
  // Credit and debt on different records do not cancel out: Stripe applies each record's
  // balance to that record's invoices only. So they are added up separately.
  const totals = new Map<string, BalanceTotal>();
  for (const record of records) {
    for (const [currency, amount] of balancesOf(record)) {
      if (amount === 0) continue;
      const kind = amount < 0 ? 'credit' : 'owed';
      const entry = totals.get(`${currency}:${kind}`) ?? { currency, kind, amount: 0 };
      entry.amount += Math.abs(amount);
      totals.set(`${currency}:${kind}`, entry);
    }
  }
  return [...totals.values()].sort((a, b) => a.currency.localeCompare(b.currency) || a.kind.localeCompare(b.kind));
}
