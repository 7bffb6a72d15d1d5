import type { Settings } from '../config.js';
import { loadOnce } from '../load-once.js';
import { createOutboxMailer, type CodeMailer } from '../verify/mailer.js';
import { demoActionsPolicy } from './actions-policy.js';
import type { FakeStripe } from './fake-stripe/index.js';
import { DEMO_CUSTOMER_EMAIL, DEMO_HOST_KEY, DEMO_IDENTITY_SECRET, DEMO_STAFF_KEY, DEMO_STRIPE_KEY, mintIdentityToken } from './demo-identity.js';
import { DEMO } from './fake-stripe/demo-account.js';

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
  // Built on the first request to it (the probe runs after the first tools/list), so a start
  // does not wait for the fake account; with the payments the action tools are demonstrated on
  // (alice's duplicate charge).
  const account: () => Promise<FakeStripe> = loadOnce(() => import('./fake-stripe/index.js').then(({ FakeStripe: Fake }) => new Fake({ actionFixtures: true })));
  const demoSettings: Settings = {
    ...settings,
    STRIPE_API_KEY: DEMO_STRIPE_KEY,
    STRIPE_API_BASE: undefined,
    IDENTITY_SECRET: settings.IDENTITY_SECRET ?? DEMO_IDENTITY_SECRET,
    IDENTITY_JWKS_URL: undefined,
    // The demo's offer to stay, in the cancel flow (a coupon of the demo account, never the user's).
    CANCEL_RETENTION_COUPON: settings.CANCEL_RETENTION_COUPON ?? DEMO.coupons.retention,
  };
  if (options.http) {
    // Over HTTP the keys decide who is who: demo keys unless the operator set their own.
    if (demoSettings.HOST_KEYS.length === 0) demoSettings.HOST_KEYS = [`demo-host:${DEMO_HOST_KEY}`];
    if (demoSettings.STAFF_KEYS.length === 0) demoSettings.STAFF_KEYS = [`demo-staff:${DEMO_STAFF_KEY}`];
    // The whole action flow: the demo's policy unless ACTIONS_POLICY names the user's own (requests
    // live in the trail, so with AUDIT=off the demo stays read-only), and the confirmation links
    // (printed in the outbox) pointing at this server's own page.
    if (settings.AUDIT !== 'off') demoSettings.ACTIONS_POLICY ??= demoActionsPolicy();
    demoSettings.PUBLIC_URL ??= demoPublicUrl(demoSettings);
  } else if (!options.staff && !settings.CUSTOMER_TOKEN && !options.verify) {
    demoSettings.CUSTOMER_TOKEN = await mintIdentityToken(DEMO_CUSTOMER_EMAIL, demoSettings.IDENTITY_SECRET!);
  }
  // Demo mail never leaves the process unless SMTP_URL says where to send it: the outbox prints
  // each code to stderr, labelled.
  const mailer = settings.SMTP_URL ? undefined : createOutboxMailer({ merchantName: settings.MERCHANT_NAME ?? 'Demo SaaS', print: (text) => process.stderr.write(`${text}\n`) });
  return { settings: demoSettings, fetch: async (input, init) => (await account()).handle(new Request(input, init)), mailer };
}

/** Where this demo's server will listen, as a browser reaches it (PORT=0: not known yet, no link). */
function demoPublicUrl(settings: Settings): string | undefined {
  if (settings.PORT === 0) return undefined;
  const host = settings.HOST === '0.0.0.0' || settings.HOST === '::' || settings.HOST === '' ? '127.0.0.1' : settings.HOST;
  return `http://${host.includes(':') ? `[${host}]` : host}:${settings.PORT}`;
}
