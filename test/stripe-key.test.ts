import { describe, expect, it, vi } from 'vitest';
import { ConfigurationError } from '../src/errors.js';
import { createStripeClient, CHAT_TIMEOUT_MS } from '../src/stripe/client.js';
import { parseStripeKey, redactKey } from '../src/stripe/key.js';

describe('Stripe key handling', () => {
  it('accepts restricted and secret keys and knows test from live', () => {
    expect(parseStripeKey('rk_test_fake_51H_abcdefgh_1234')).toEqual({ kind: 'restricted', mode: 'test', redacted: 'rk_test_…1234' });
    expect(parseStripeKey('rk_live_fake_51H_abcdefgh_5678')).toMatchObject({ kind: 'restricted', mode: 'live' });
    expect(parseStripeKey('sk_test_fake_51H_abcdefgh_0000')).toMatchObject({ kind: 'secret', mode: 'test' });
  });

  it('refuses publishable keys, naming the setting and the fix', () => {
    expect(() => parseStripeKey('pk_test_fake_51H_abcdefgh_1234')).toThrow(ConfigurationError);
    expect(() => parseStripeKey('pk_live_fake_51H_abcdefgh_1234')).toThrow(/STRIPE_API_KEY is a publishable key.*restricted key \(rk_…\)/);
  });

  it.each(['', 'hello', 'rk_prod_fake_51H_abcdefgh_1234', 'rk_test_', 'sk_test_short', 'whsec_fake_51H_abcdefgh_1234', 'rk_test_fake with space'])(
    'refuses the malformed key %j',
    (key) => {
      expect(() => parseStripeKey(key)).toThrow(/STRIPE_API_KEY/);
    },
  );

  it('never prints more than the prefix and last 4 characters of a key', () => {
    const key = 'rk_live_fake_VerySecret_MiddlePart_9876';
    expect(redactKey(key)).toBe('rk_live_…9876');
    expect(() => parseStripeKey('pk_live_fake_VerySecret_MiddlePart_9876')).toThrow();
    try {
      parseStripeKey('pk_live_fake_VerySecret_MiddlePart_9876');
    } catch (error) {
      expect((error as Error).message).not.toContain('VerySecret');
    }
  });

  it('warns on a live secret key and recommends a restricted key', () => {
    const warn = vi.fn();
    createStripeClient({ apiKey: 'sk_live_fake_51H_abcdefgh_1234', warn });
    expect(warn).toHaveBeenCalledOnce();
    expect(warn.mock.calls[0]?.[0]).toMatch(/restricted key \(rk_live_…\)/);
    expect(warn.mock.calls[0]?.[0]).not.toContain('51H_abcdefgh');

    const quiet = vi.fn();
    createStripeClient({ apiKey: 'rk_live_fake_51H_abcdefgh_1234', warn: quiet });
    createStripeClient({ apiKey: 'sk_test_fake_51H_abcdefgh_1234', warn: quiet });
    expect(quiet).not.toHaveBeenCalled();
  });

  it('pins the SDK API version, a chat-sized timeout and STRIPE_API_BASE', async () => {
    const { stripe, load } = createStripeClient({ apiKey: 'rk_test_fake_51H_abcdefgh_1234', apiBase: 'http://127.0.0.1:12111' });
    await load();
    const internals = stripe as unknown as { getApiField(name: string): unknown };
    expect(internals.getApiField('version')).toBe('2026-10-28.endive');
    expect(internals.getApiField('timeout')).toBe(CHAT_TIMEOUT_MS);
    expect(CHAT_TIMEOUT_MS).toBeLessThanOrEqual(10_000);
    expect(internals.getApiField('host')).toBe('127.0.0.1');
    expect(internals.getApiField('port')).toBe(12111);
    expect(internals.getApiField('protocol')).toBe('http');
    expect(internals.getApiField('maxNetworkRetries')).toBe(2);
  });

  it('refuses a STRIPE_API_BASE that is not a bare http(s) origin', () => {
    expect(() => createStripeClient({ apiKey: 'rk_test_fake_51H_abcdefgh_1234', apiBase: 'ftp://x' })).toThrow(/STRIPE_API_BASE/);
    expect(() => createStripeClient({ apiKey: 'rk_test_fake_51H_abcdefgh_1234', apiBase: 'http://x/v1' })).toThrow(/STRIPE_API_BASE/);
  });
});
