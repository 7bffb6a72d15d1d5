import { memoized } from '../memo.js';

/** Money as the model sees it: integer minor units, ISO currency, and a string a person reads. */
export interface Money {
  amount: number;
  currency: string;
  formatted: string;
}

// Stripe's own lists (docs: "Zero-decimal currencies", "Three-decimal currencies"); Intl's
// digits differ from Stripe's for a few of these (e.g. ISK, UGX), and Stripe's are the ones
// amounts are stored in.
const ZERO_DECIMAL = new Set([
  'bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf',
]);
const THREE_DECIMAL = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

export function minorUnitDigits(currency: string): number {
  const code = currency.toLowerCase();
  if (ZERO_DECIMAL.has(code)) return 0;
  if (THREE_DECIMAL.has(code)) return 3;
  return 2;
}

/** Building a formatter costs far more than using one (it showed up in the warm-path profile). */
const formatters = new Map<string, Intl.NumberFormat>();

function formatterFor(code: string): Intl.NumberFormat {
  let formatter = formatters.get(code);
  if (!formatter) {
    const digits = minorUnitDigits(code);
    formatter = new Intl.NumberFormat('en-US', { style: 'currency', currency: code.toUpperCase(), minimumFractionDigits: digits, maximumFractionDigits: digits });
    // Currency codes come from Stripe (a few hundred at most), but bound the map all the same.
    if (formatters.size < 1000) formatters.set(code, formatter);
  }
  return formatter;
}

/** Amounts as formatted, by currency and amount, kept: warm answers format the same amounts every call. */
const formattedMoney = memoized((key: string): string => {
  const split = key.indexOf(':');
  const code = key.slice(0, split);
  return formatterFor(code).format(Number(key.slice(split + 1)) / 10 ** minorUnitDigits(code));
}, 20_000);

export function money(amount: number, currency: string): Money {
  const code = currency.toLowerCase();
  // -0 would be kept as 0 (its text is "0"), and Intl writes it "-$0.00".
  const formatted = Object.is(amount, -0) ? formatterFor(code).format(-0) : formattedMoney(`${code}:${amount}`);
  return { amount, currency: code, formatted };
}
