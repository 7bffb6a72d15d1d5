import type { Settings } from '../config.js';
import { FakeStripe } from './fake-stripe/index.js';
import { DEMO_CUSTOMER_EMAIL, DEMO_IDENTITY_SECRET, DEMO_STRIPE_KEY, mintIdentityToken } from './demo-identity.js';

export { DEMO_CUSTOMER_EMAIL };

/**
 * `--demo`: the fake Stripe answers in-process through the SDK's fetch client, so the demo
 * needs no key and no network; in customer mode the demo customer's token is minted here,
 * exactly as a merchant's backend would.
 */
export async function inProcessDemo(settings: Settings, options: { staff: boolean }): Promise<{ settings: Settings; fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response> }> {
  const fake = new FakeStripe();
  const demoSettings: Settings = {
    ...settings,
    STRIPE_API_KEY: DEMO_STRIPE_KEY,
    STRIPE_API_BASE: undefined,
    IDENTITY_SECRET: settings.IDENTITY_SECRET ?? DEMO_IDENTITY_SECRET,
    IDENTITY_JWKS_URL: undefined,
  };
  if (!options.staff && !settings.CUSTOMER_TOKEN) {
    demoSettings.CUSTOMER_TOKEN = await mintIdentityToken(DEMO_CUSTOMER_EMAIL, demoSettings.IDENTITY_SECRET!);
  }
  return { settings: demoSettings, fetch: (input, init) => fake.handle(new Request(input, init)) };
}
