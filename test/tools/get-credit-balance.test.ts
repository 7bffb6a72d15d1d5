import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { DEMO } from '../../src/demo/fake-stripe/index.js';
import { useFakeStripe } from '../support/fake-stripe-msw.js';
import { callOnce, type Who } from '../support/mcp-harness.js';

const stripe = useFakeStripe({ now: 1_790_000_000 });

type Money = { amount: number; currency: string; formatted: string };
interface Result {
  balances: Array<{ kind: 'credit' | 'owed'; amount: Money; explanation: string }>;
  transactions: Array<{ date: string; amount: Money; effect: string; type: string; description?: string }>;
  summary: string;
}

const creditOf = (who: Who, args: Record<string, unknown> = {}) => callOnce<Result>(who, 'get_credit_balance', args);

function transaction(id: string, customer: string, created: number, amount: number, currency: string, endingBalance: number): Stripe.CustomerBalanceTransaction {
  const template = stripe.fake().store.balanceTransactions.get('cbtxn_DemoFrankCredit')!;
  return { ...template, id, customer, created, amount, currency, ending_balance: endingBalance, type: 'adjustment', description: null, invoice: null, metadata: { ledger_ref: 'SECRET-LEDGER-REF' } };
}

describe('get_credit_balance', () => {
  it("explains frank's credit (negative balance = credit) and where it came from", async () => {
    expect(await creditOf({ customer: DEMO.emails.frank })).toMatchInlineSnapshot(`
      {
        "balances": [
          {
            "amount": {
              "amount": 2500,
              "currency": "usd",
              "formatted": "$25.00",
            },
            "explanation": "$25.00 credit will be applied to your next invoice.",
            "kind": "credit",
          },
        ],
        "summary": "$25.00 credit will be applied to your next invoice.",
        "transactions": [
          {
            "amount": {
              "amount": 1900,
              "currency": "usd",
              "formatted": "$19.00",
            },
            "date": "2026-08-27T14:13:20.000Z",
            "effect": "credit used or amount owed added",
            "type": "Applied to an invoice",
          },
          {
            "amount": {
              "amount": 4400,
              "currency": "usd",
              "formatted": "$44.00",
            },
            "date": "2026-07-23T14:13:20.000Z",
            "description": "Goodwill credit for the outage",
            "effect": "credit added",
            "type": "Manual adjustment",
          },
        ],
      }
    `);
  });

  it('says when there is nothing', async () => {
    expect(await creditOf({ customer: DEMO.emails.bob })).toEqual({ balances: [], transactions: [], summary: 'No account credit and nothing owed.' });
  });

  it('formats a JPY credit without decimals', async () => {
    const store = stripe.fake().store;
    const erin = store.liveCustomer(DEMO.customers.erin)!;
    store.customers.set(erin.id, { ...erin, balance: -500 });
    const result = await creditOf({ customer: DEMO.emails.erin });
    expect(result.balances).toEqual([
      { kind: 'credit', amount: { amount: 500, currency: 'jpy', formatted: '¥500' }, explanation: '¥500 credit will be applied to your next invoice.' },
    ]);
  });

  it("adds up both of one person's records, keeping credit and debt apart, and merges their transactions", async () => {
    const store = stripe.fake().store;
    const alice = store.liveCustomer(DEMO.customers.alice)!;
    const upper = store.liveCustomer(DEMO.customers.aliceUppercase)!;
    store.customers.set(alice.id, { ...alice, balance: -300 });
    store.customers.set(upper.id, { ...upper, balance: 1000 });
    store.balanceTransactions.set('cbtxn_A1', transaction('cbtxn_A1', alice.id, 1_789_000_000, -300, 'usd', -300));
    store.balanceTransactions.set('cbtxn_U1', transaction('cbtxn_U1', upper.id, 1_789_500_000, 1000, 'usd', 1000));
    const result = await creditOf({ customer: DEMO.emails.alice });
    expect(result.balances.map((balance) => [balance.kind, balance.amount.formatted])).toEqual([
      ['credit', '$3.00'],
      ['owed', '$10.00'],
    ]);
    expect(result.transactions.map((entry) => [entry.effect, entry.amount.formatted])).toEqual([
      ['credit used or amount owed added', '$10.00'],
      ['credit added', '$3.00'],
    ]);
    expect(JSON.stringify(result)).not.toContain('SECRET-LEDGER-REF');
  });

  it('reads other currencies with the right sign: invoice_credit_balance positive = credit, transaction ending_balance negative = credit', async () => {
    const store = stripe.fake().store;
    const frank = store.liveCustomer(DEMO.customers.frank)!;
    // Stripe includes invoice_credit_balance only on request; when present its sign is the opposite of `balance`.
    store.customers.set(frank.id, { ...frank, invoice_credit_balance: { usd: 2500, eur: 1200 } });
    const erin = store.liveCustomer(DEMO.customers.erin)!;
    store.balanceTransactions.set('cbtxn_E1', transaction('cbtxn_E1', erin.id, 1_789_000_000, 700, 'usd', 700));
    const frankResult = await creditOf({ customer: DEMO.emails.frank });
    expect(frankResult.balances.map((balance) => [balance.kind, balance.amount.formatted])).toEqual([
      ['credit', '€12.00'],
      ['credit', '$25.00'],
    ]);
    const erinResult = await creditOf({ customer: DEMO.emails.erin });
    expect(erinResult.balances.map((balance) => [balance.kind, balance.amount.formatted])).toEqual([['owed', '$7.00']]);
    expect(erinResult.summary).toBe('$7.00 is owed and will be added to your next invoice.');
  });

  it('lets staff choose by email or customer_id, and never leaks other customers', async () => {
    const byEmail = await creditOf('staff', { email: DEMO.emails.frank });
    expect(byEmail.balances[0]!.amount.formatted).toBe('$25.00');
    const byId = await creditOf('staff', { customer_id: DEMO.customers.frank });
    expect(byId).toEqual(byEmail);
    const text = JSON.stringify(await creditOf({ customer: DEMO.emails.alice }));
    for (const secret of ['Goodwill credit', DEMO.emails.frank, 'crm_note', DEMO.emails.aliceWork]) expect(text).not.toContain(secret);
  });
});
