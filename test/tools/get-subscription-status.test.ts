import { describe, expect, it } from 'vitest';
import { DEMO } from '../../src/demo/fake-stripe/index.js';
import { useFakeStripe } from '../support/fake-stripe-msw.js';
import { pinClock } from '../support/pin-clock.js';
import { callOnce } from '../support/mcp-harness.js';

const NOW = 1_790_000_000;
useFakeStripe({ now: NOW });
pinClock(NOW);

type Money = { amount: number; currency: string; formatted: string };
interface Breakdown {
  lines: Array<{ description: string; amount: Money }>;
  discounts: Array<{ name: string; amount: Money }>;
  tax?: Money;
  credit_applied?: Money;
  balance_added?: Money;
  amount_due: Money;
  tax_note: string;
}
interface Status {
  subscriptions: Array<{
    id: string;
    plan: string;
    items: Array<{ price: string }>;
    discounts: Array<{ name: string; off: string; lasts: string }>;
    next_payment?: { amount: Money; basis: string; breakdown?: Breakdown };
  }>;
}

/** What the parts of a breakdown add up to: it must be the amount due. */
const total = (b: Breakdown) =>
  b.lines.reduce((sum, line) => sum + line.amount.amount, 0) +
  b.discounts.reduce((sum, discount) => sum + discount.amount.amount, 0) +
  (b.tax?.amount ?? 0) +
  (b.credit_applied?.amount ?? 0) +
  (b.balance_added?.amount ?? 0);

describe('get_subscription_status answers "why am I charged $44.00 and not $49.00?"', () => {
  it('shows the plan price per interval, the discount and how the next amount follows from them', async () => {
    const status = await callOnce<Status>({ customer: DEMO.emails.alice }, 'get_subscription_status');
    const pro = status.subscriptions.find((sub) => sub.id === DEMO.subscriptions.alice)!;
    expect(pro.items.map((item) => item.price)).toEqual(['$49.00 per month']);
    expect(pro.discounts).toEqual([{ name: '$5 off forever', off: '$5.00 off', lasts: 'no end date' }]);
    expect(pro.next_payment!.amount.formatted).toBe('$44.00');
    expect(pro.next_payment!.basis).toBe("Stripe's preview of the next invoice");
    const breakdown = pro.next_payment!.breakdown!;
    expect(breakdown.lines.map((line) => [line.description, line.amount.formatted])).toEqual([['1 × Pro (at $49.00 / month)', '$49.00']]);
    expect(breakdown.discounts.map((discount) => [discount.name, discount.amount.formatted])).toEqual([['$5 off forever', '-$5.00']]);
    expect(breakdown.tax_note).toBe('No tax is included in this amount.');
    expect(total(breakdown)).toBe(breakdown.amount_due.amount);
  });

  it('counts account credit toward the next amount (frank has credit)', async () => {
    const status = await callOnce<Status>({ customer: DEMO.emails.frank }, 'get_subscription_status');
    const withBreakdown = status.subscriptions.filter((sub) => sub.next_payment?.breakdown);
    expect(withBreakdown.length).toBeGreaterThan(0);
    for (const sub of withBreakdown) expect(total(sub.next_payment!.breakdown!)).toBe(sub.next_payment!.amount.amount);
  });
});
