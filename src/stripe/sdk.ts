import type Stripe from 'stripe';
import { loadOnce } from '../load-once.js';

type StripeSdk = typeof Stripe;

let sdk: StripeSdk | undefined;

/**
 * The Stripe SDK, imported on first need rather than with the server: it is about a quarter of
 * the JavaScript a start would otherwise compile before its first tools/list. The bundle keeps
 * it in a chunk of its own (scripts/bundle.mjs).
 */
export const loadStripeSdk: () => Promise<StripeSdk> = loadOnce(() => import('stripe').then((module) => (sdk = module.default)));

/** What `StripeErrors.X` is before the SDK is loaded: nothing is an instance of it. */
class NoStripeErrorYet {
  static [Symbol.hasInstance](): boolean {
    return false;
  }
}

/**
 * The SDK's error classes (`error instanceof StripeErrors.StripePermissionError`) without
 * loading the SDK: before it is loaded no Stripe error can exist, so nothing is one.
 */
export const StripeErrors: StripeSdk['errors'] = new Proxy({} as StripeSdk['errors'], {
  get: (_target, name) => (sdk ? sdk.errors[name as keyof StripeSdk['errors']] : NoStripeErrorYet),
});
