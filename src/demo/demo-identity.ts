import { SignJWT } from 'jose';
import { DEMO } from './fake-stripe/demo-account.js';

/** Fake credentials of the built-in demo account: they open nothing but the fake Stripe. */
/** The demo account's fake key (one value, kept with the seed). */
export const DEMO_STRIPE_KEY = DEMO.apiKey;
export const DEMO_IDENTITY_SECRET = 'demo-identity-secret-for-the-fake-stripe-only-0001';
export const DEMO_CUSTOMER_EMAIL = 'alice@example.com';
/** HTTP bearer keys of `serve --demo` (when HOST_KEYS / STAFF_KEYS are not set). */
export const DEMO_HOST_KEY = 'demo_host_key_not_secret_0000000000';
export const DEMO_STAFF_KEY = 'demo_staff_key_not_secret_000000000';

/**
 * What a merchant's backend would do for a logged-in user: sign their email (HS256). In platform
 * mode the token names the merchant (tenant id) it is for in `aud`.
 */
export async function mintIdentityToken(email: string, secret: string, ttlSeconds = 24 * 3600, audience?: string | string[]): Promise<string> {
  const token = new SignJWT({ email })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds);
  if (audience !== undefined) token.setAudience(audience);
  return token.sign(new TextEncoder().encode(secret));
}
