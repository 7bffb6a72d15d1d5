/**
 * Amounts and dates in the person's own locale and time zone (the host context's `locale` and
 * `timeZone`). Amounts arrive as Stripe minor units; the server's `formatted` string (en-US) is
 * the fallback whenever Intl cannot format (an unknown currency code or locale).
 */
import { minorUnitDigits } from '../format/money.js';
import type { Money } from './types.js';

export interface Locale {
  /** BCP 47 tag; undefined: the browser's own. */
  locale?: string | undefined;
  /** IANA zone; undefined: the browser's own. */
  timeZone?: string | undefined;
}

/** A locale tag Intl accepts, else undefined (the browser's default): a bad tag must not blank the card. */
export function usableLocale(tag: string | undefined): string | undefined {
  if (!tag) return undefined;
  try {
    return Intl.getCanonicalLocales(tag)[0];
  } catch {
    return undefined;
  }
}

/** A time zone Intl knows, else undefined. */
export function usableTimeZone(zone: string | undefined): string | undefined {
  if (!zone) return undefined;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return zone;
  } catch {
    return undefined;
  }
}

const isMoney = (value: unknown): value is Money =>
  typeof value === 'object' && value !== null && Number.isSafeInteger((value as Money).amount) && typeof (value as Money).currency === 'string';

/**
 * "¥4,900", "49,00 €", "$1,234.56". Stripe's digits scale the minor units (its list differs from
 * ISO's for a few currencies, e.g. ISK); the currency's own Intl digits show them, unless that
 * would round away part of the amount.
 */
export function formatMoney(money: Money, where: Locale = {}): string {
  if (!isMoney(money)) return (money as Partial<Money> | undefined)?.formatted ?? '';
  try {
    const currency = money.currency.toUpperCase();
    const stripeDigits = minorUnitDigits(currency);
    const ownDigits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? stripeDigits;
    const hidden = stripeDigits > ownDigits && money.amount % 10 ** (stripeDigits - ownDigits) !== 0;
    const digits = hidden ? stripeDigits : ownDigits;
    return new Intl.NumberFormat(usableLocale(where.locale), { style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits }).format(
      money.amount / 10 ** stripeDigits,
    );
  } catch {
    return money.formatted;
  }
}

function dateTimeFormat(where: Locale, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat(usableLocale(where.locale), { ...options, timeZone: usableTimeZone(where.timeZone) });
}

function parse(iso: string | undefined): Date | undefined {
  if (typeof iso !== 'string') return undefined;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** "Dec 26, 2026" / "26.12.2026": the day as it is where the person is. */
export function formatDate(iso: string | undefined, where: Locale = {}): string {
  const date = parse(iso);
  if (!date) return iso ?? '';
  try {
    return dateTimeFormat(where, { dateStyle: 'medium' }).format(date);
  } catch {
    return date.toISOString().slice(0, 10);
  }
}

/** "Dec 6, 2026, 9:53 PM": for deadlines within the day (a confirmation's expiry). */
export function formatDateTime(iso: string | undefined, where: Locale = {}): string {
  const date = parse(iso);
  if (!date) return iso ?? '';
  try {
    return dateTimeFormat(where, { dateStyle: 'medium', timeStyle: 'short' }).format(date);
  } catch {
    return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  }
}

/** "past_due" → "Past due": Stripe's status words for a person. */
export function statusLabel(status: string): string {
  const words = status.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
