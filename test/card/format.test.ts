import { describe, expect, it } from 'vitest';
import { formatDate, formatDateTime, formatMoney } from '../../src/card/format.js';

// Intl puts a narrow no-break space or no-break space between number and symbol in some
// locales; a person sees a space, so the assertions do too.
const spaced = (text: string) => text.replace(/[\u00a0\u202f]/g, ' ');

describe('the card formats amounts in the person’s locale, from Stripe minor units', () => {
  it('shows yen without a decimal part: 4900 minor units are ¥4,900, not ¥49.00', () => {
    expect(formatMoney({ amount: 4900, currency: 'jpy', formatted: '¥4,900' }, { locale: 'en-US' })).toBe('¥4,900');
    expect(spaced(formatMoney({ amount: 4900, currency: 'jpy', formatted: '¥4,900' }, { locale: 'ja-JP' }))).toMatch(/^[¥￥]4,900$/);
  });

  it('shows dollars with cents, and a credit as negative', () => {
    expect(formatMoney({ amount: 4900, currency: 'usd', formatted: '$49.00' }, { locale: 'en-US' })).toBe('$49.00');
    expect(formatMoney({ amount: 123456, currency: 'usd', formatted: '$1,234.56' }, { locale: 'en-US' })).toBe('$1,234.56');
    expect(formatMoney({ amount: -500, currency: 'usd', formatted: '-$5.00' }, { locale: 'en-US' })).toBe('-$5.00');
  });

  it('writes euros the German way in de-DE: comma decimals, dot thousands, symbol after', () => {
    expect(spaced(formatMoney({ amount: 123456, currency: 'eur', formatted: '€1,234.56' }, { locale: 'de-DE' }))).toBe('1.234,56 €');
  });

  it('keeps three-decimal currencies exact', () => {
    expect(spaced(formatMoney({ amount: 1500, currency: 'kwd', formatted: 'KWD 1.500' }, { locale: 'en-US' }))).toBe('KWD 1.500');
  });

  it('falls back to the server’s text when Intl cannot format the currency', () => {
    expect(formatMoney({ amount: 100, currency: 'not-a-code', formatted: 'NOT-A-CODE 1.00' }, { locale: 'en-US' })).toBe('NOT-A-CODE 1.00');
  });

  it('ignores a locale tag Intl rejects instead of failing', () => {
    expect(formatMoney({ amount: 4900, currency: 'usd', formatted: '$49.00' }, { locale: 'not a locale!' })).toMatch(/49/);
  });
});

describe('the card writes dates as they are where the person is', () => {
  // 21:38 UTC on 26 December is already 27 December in Tokyo.
  const lateEvening = '2026-12-26T21:38:54.000Z';

  it('shows the day in the host’s time zone', () => {
    expect(formatDate(lateEvening, { locale: 'en-US', timeZone: 'UTC' })).toBe('Dec 26, 2026');
    expect(formatDate(lateEvening, { locale: 'en-US', timeZone: 'Asia/Tokyo' })).toBe('Dec 27, 2026');
    expect(formatDate(lateEvening, { locale: 'en-US', timeZone: 'America/Los_Angeles' })).toBe('Dec 26, 2026');
  });

  it('uses the locale’s order of day and month', () => {
    expect(formatDate(lateEvening, { locale: 'de-DE', timeZone: 'Asia/Tokyo' })).toBe('27.12.2026');
  });

  it('shows a deadline’s time in the host’s time zone', () => {
    expect(spaced(formatDateTime('2026-12-06T21:54:13.000Z', { locale: 'en-US', timeZone: 'Europe/Berlin' }))).toBe('Dec 6, 2026, 10:54 PM');
  });

  it('does not fail on an unknown time zone or a malformed date', () => {
    expect(formatDate(lateEvening, { locale: 'en-US', timeZone: 'Mars/Olympus_Mons' })).toMatch(/^Dec 2[67], 2026$/);
    expect(formatDate('not a date', { locale: 'en-US' })).toBe('not a date');
  });
});
