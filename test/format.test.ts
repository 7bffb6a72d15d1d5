import { describe, expect, it } from 'vitest';
import { maskCard } from '../src/format/card.js';
import { isoDate } from '../src/format/dates.js';
import { money } from '../src/format/money.js';

describe('money', () => {
  it('formats two-, zero- and three-decimal currencies from minor units', () => {
    expect(money(4900, 'usd')).toEqual({ amount: 4900, currency: 'usd', formatted: '$49.00' });
    expect(money(4900, 'JPY')).toEqual({ amount: 4900, currency: 'jpy', formatted: '¥4,900' });
    expect(money(1234567, 'eur').formatted).toBe('€12,345.67');
    expect(money(1500, 'kwd').formatted).toMatch(/^KWD\s1\.500$/);
    expect(money(-2500, 'usd').formatted).toBe('-$25.00');
  });
});

describe('dates and cards', () => {
  it('gives ISO 8601 for unix seconds and nothing for null', () => {
    expect(isoDate(1_780_000_000)).toBe('2026-05-28T20:26:40.000Z');
    expect(isoDate(null)).toBeUndefined();
  });

  it('keeps only brand, last4 and expiry of a card', () => {
    expect(maskCard({ brand: 'visa', last4: '4242', exp_month: 3, exp_year: 2030 })).toEqual({
      type: 'card',
      brand: 'visa',
      last4: '4242',
      exp: '03/2030',
      description: 'Visa ending in 4242, expires 03/2030',
    });
  });
});
