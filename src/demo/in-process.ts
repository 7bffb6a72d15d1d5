import type { Settings } from '../config.js';
import { createOutboxMailer, type CodeMailer } from '../verify/mailer.js';
import { FakeStripe } from './fake-stripe/index.js';
import { DEMO_CUSTOMER_EMAIL, DEMO_HOST_KEY, DEMO_IDENTITY_SECRET, DEMO_STAFF_KEY, DEMO_STRIPE_KEY, mintIdentityToken } from './demo-identity.js';

export { DEMO_CUSTOMER_EMAIL };

/**
 * `--demo`: the fake Stripe answers in-process through the SDK's fetch client, so the demo
 * needs no key and no network; in customer mode the demo customer's token is minted here,
 * exactly as a merchant's backend would.
 */
export async function inProcessDemo(
  settings: Settings,
  options: { staff: boolean; verify?: boolean; http?: boolean },
): Promise<{ settings: Settings; fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>; mailer: CodeMailer | undefined }> {
  const fake = new FakeStripe();
  const demoSettings: Settings = {
    ...settings,
    STRIPE_API_KEY: DEMO_STRIPE_KEY,
    STRIPE_API_BASE: undefined,
    IDENTITY_SECRET: settings.IDENTITY_SECRET ?? DEMO_IDENTITY_SECRET,
    IDENTITY_JWKS_URL: undefined,
  };
  if (options.http) {
    // Over HTTP the keys decide who is who: demo keys unless the operator set their own.
    if (demoSettings.HOST_KEYS.length === 0) demoSettings.HOST_KEYS = [`demo-host:${DEMO_HOST_KEY}`];
    if (demoSettings.STAFF_KEYS.length === 0) demoSettings.STAFF_KEYS = [`demo-staff:${DEMO_STAFF_KEY}`];
  } else if (!options.staff && !settings.CUSTOMER_TOKEN && !options.verify) {
    demoSettings.CUSTOMER_TOKEN = await mintIdentityToken(DEMO_CUSTOMER_EMAIL, demoSettings.IDENTITY_SECRET!);
  }
  // Demo mail never leaves the process unless SMTP_URL says where to send it: the outbox prints
  // each code to stderr, labelled.
  const mailer = settings.SMTP_URL ? undefined : createOutboxMailer({ merchantName: settings.MERCHANT_NAME ?? 'Demo SaaS', print: (text) => process.stderr.write(`${text}\n`) });
  return { settings: demoSettings, fetch: (input, init) => fake.handle(new Request(input, init)), mailer };
}
