import { describe, expect, it } from 'vitest';
import { loadOnce } from '../src/load-once.js';
import { createStripeClient } from '../src/stripe/client.js';

describe('what is loaded on first need', () => {
  it('loads once, and tries again after a failed load instead of failing every later use', async () => {
    let attempts = 0;
    const load = loadOnce(async () => {
      attempts += 1;
      if (attempts === 1) throw Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' });
      return { loaded: attempts };
    });
    await expect(load()).rejects.toThrow('EMFILE');
    await expect(load()).resolves.toEqual({ loaded: 2 });
    await expect(load()).resolves.toEqual({ loaded: 2 });
    expect(attempts).toBe(2);
  });

  it('a Stripe client not yet loaded can be serialised and looked at without calling Stripe', async () => {
    const requests: string[] = [];
    const fetch = async (input: string | URL | Request) => {
      requests.push(String(input));
      return new Response('{}', { status: 500 });
    };
    const { stripe } = createStripeClient({ apiKey: 'rk_test_fake_51H_abcdefgh_1234', fetch, maxNetworkRetries: 0 });
    expect(() => JSON.stringify({ stripe })).not.toThrow();
    expect(String(Object.prototype.toString.call(stripe))).toContain('Function');
    // A name that is not a method of the client: a clear error for whoever awaits it, no crash.
    const notAMethod = (stripe as unknown as { customers: { nope: () => Promise<unknown> } }).customers.nope();
    await expect(notAMethod).rejects.toThrow('stripe.customers.nope is not a function of the Stripe client');
    expect(requests).toEqual([]);
  });
});
