/**
 * Routes the real `stripe` SDK to a fresh FakeStripe per test through msw, so tests exercise
 * our code against Stripe-like HTTP behaviour without the network. Anything not addressed to
 * api.stripe.com is an error: a test must never reach a real service.
 */
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { FakeConnectionDropped, FakeStripe, type FakeStripeOptions } from '../../src/demo/fake-stripe/index.js';

export function useFakeStripe(options: FakeStripeOptions = {}): { fake(): FakeStripe } {
  let current: FakeStripe | undefined;
  const server = setupServer(
    http.all('https://api.stripe.com/*', async ({ request }) => {
      if (!current) throw new Error('useFakeStripe: no FakeStripe for this test (called outside a test?)');
      try {
        return await current.handle(request);
      } catch (error) {
        if (error instanceof FakeConnectionDropped) return HttpResponse.error();
        throw error;
      }
    }),
  );

  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
  beforeEach(() => {
    current = new FakeStripe(options);
  });
  afterEach(() => server.resetHandlers());
  afterAll(() => server.close());

  return {
    fake() {
      if (!current) throw new Error('useFakeStripe: fake() is only available inside a test');
      return current;
    },
  };
}

/** Runs a call that must fail and returns the SDK error. */
export async function failure(call: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof Stripe.errors.StripeError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}
