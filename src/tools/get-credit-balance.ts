import { z } from 'zod';
import { isoDate } from '../format/dates.js';
import { money } from '../format/money.js';
import { quoted } from '../format/untrusted-text.js';
import { day } from './lib/answer-text.js';
import { balanceTotals, loadBalanceHistories } from './lib/balances.js';
import { defineTool } from './lib/define-tool.js';
import { isoDateSchema, moneySchema } from './lib/schemas.js';

const TRANSACTION_LIMIT = 10;

const balanceSchema = z.object({
  kind: z.enum(['credit', 'owed']).describe("credit: the customer's to spend; owed: added to their next invoice"),
  amount: moneySchema,
  explanation: z.string(),
});

const transactionSchema = z.object({
  date: isoDateSchema,
  amount: moneySchema,
  effect: z.enum(['credit added', 'credit used or amount owed added']),
  type: z.string(),
  description: z.string().optional(),
});

const TRANSACTION_TYPES: Partial<Record<string, string>> = {
  adjustment: 'Manual adjustment',
  applied_to_invoice: 'Applied to an invoice',
  credit_note: 'Credit note',
  initial: 'Opening balance',
  invoice_overpaid: 'Overpayment of an invoice',
  invoice_too_large: 'Invoice amount carried over',
  invoice_too_small: 'Small invoice amount carried over',
  migration: 'Balance migration',
  unapplied_from_invoice: 'Returned from a voided or uncollectible invoice',
  unspent_receiver_credit: 'Unspent bank transfer funds',
  checkout_session_subscription_payment: 'Applied to a checkout subscription payment',
  checkout_session_subscription_payment_canceled: 'Returned from a canceled checkout payment',
};

function explain(kind: 'credit' | 'owed', formatted: string): string {
  return kind === 'credit'
    ? `${formatted} credit will be applied to your next invoice.`
    : `${formatted} is owed and will be added to your next invoice.`;
}

export default defineTool({
  name: 'get_credit_balance',
  title: 'Account credit balance',
  description:
    "The customer's account credit (money they can spend on future invoices) or balance owed, per currency, and the recent changes to it. Use for 'do I have credit', 'where did my credit go'. Read-only; refunds to a card are in get_payment_history.",
  audience: 'customer',
  discloses: ['credit_balance'],
  permissions: ['rak_customer_read', 'rak_customer_balance_transaction_read'],
  inputSchema: {},
  outputSchema: {
    balances: z.array(balanceSchema),
    transactions: z.array(transactionSchema),
    summary: z.string(),
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
  async handler(_input, ctx) {
    const { customers } = await ctx.customer();
    const perRecord = await loadBalanceHistories(ctx, customers, TRANSACTION_LIMIT);
    const balances = balanceTotals(perRecord).map(({ currency, kind, amount }) => {
      const shown = money(amount, currency);
      return { kind, amount: shown, explanation: explain(kind, shown.formatted) };
    });
    const items = perRecord
      .flatMap((record) => record.transactions)
      .sort((a, b) => b.created - a.created)
      .slice(0, TRANSACTION_LIMIT);
    const transactions = items.map((transaction) => ({
      date: isoDate(transaction.created),
      amount: money(Math.abs(transaction.amount), transaction.currency),
      // Balance transactions share `balance`'s sign: negative adds credit for the customer.
      effect: transaction.amount < 0 ? ('credit added' as const) : ('credit used or amount owed added' as const),
      type: TRANSACTION_TYPES[transaction.type] ?? transaction.type.replace(/_/g, ' '),
      description: transaction.description ?? undefined,
    }));
    const summary = balances.length === 0 ? 'No account credit and nothing owed.' : balances.map((balance) => balance.explanation).join(' ');
    return { balances, transactions, summary };
  },
  summarize(output) {
    const balances = output.balances.map((balance) => `- ${balance.kind === 'credit' ? 'Credit' : 'Owed'} ${balance.amount.formatted}: ${balance.explanation}`);
    const transactions = output.transactions.map(
      (transaction) => `- ${day(transaction.date)}: ${transaction.type}, ${transaction.amount.formatted} (${transaction.effect})${transaction.description ? `, ${quoted(transaction.description)}` : ''}.`,
    );
    return [output.summary, ...balances, ...(transactions.length > 0 ? ['Recent balance changes:', ...transactions] : [])].join('\n');
  },
});
