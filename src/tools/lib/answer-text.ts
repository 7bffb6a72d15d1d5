/**
 * Pieces of the answer text the model reads instead of the JSON (src/tools/lib/run-tool.ts): each
 * tool's `summarize` names every fact a question needs (ids for the next call, formatted amounts,
 * dates, links) in a line per record, with text from the billing account `quoted`.
 */
import { quoted } from '../../format/untrusted-text.js';

interface Money {
  formatted: string;
}

/** The calendar day of an ISO timestamp: the time of day answers no billing question. */
export function day(iso: string): string {
  return iso.slice(0, 10);
}

/** `label: value` parts joined, leaving out the absent ones. */
export function parts(...values: Array<string | false | undefined | null>): string {
  return values.filter((value): value is string => typeof value === 'string' && value !== '').join('; ');
}

/** How an amount follows from Stripe's preview: lines, discounts, tax, credit, earlier balance, amount due. */
export function breakdownText(breakdown: {
  lines: ReadonlyArray<{ description: string; amount: Money }>;
  discounts: ReadonlyArray<{ name: string; amount: Money }>;
  tax?: Money | undefined;
  credit_applied?: Money | undefined;
  balance_added?: Money | undefined;
  amount_due: Money;
  tax_note: string;
}): string {
  const terms = [
    ...breakdown.lines.map((line) => `${quoted(line.description)} ${line.amount.formatted}`),
    ...breakdown.discounts.map((discount) => `${quoted(discount.name)} ${discount.amount.formatted}`),
    ...(breakdown.tax ? [`tax ${breakdown.tax.formatted}`] : []),
    ...(breakdown.credit_applied ? [`account credit ${breakdown.credit_applied.formatted}`] : []),
    ...(breakdown.balance_added ? [`earlier unpaid balance ${breakdown.balance_added.formatted}`] : []),
  ];
  return `${terms.join(' + ')} = ${breakdown.amount_due.formatted} due (${breakdown.tax_note.replace(/\.$/, '')})`;
}
