/**
 * The panel and /v1/insight over plain HTTP (no browser): who may see what, sessions that end
 * when their staff key goes, CSRF, and nothing secret in what is served.
 */
import pino from 'pino';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invalidateForEvent } from '../../src/cache/event-invalidation.js';
import { DEMO } from '../../src/demo/fake-stripe/index.js';
import { SIGN_IN_ATTEMPTS_ALLOWED, SIGN_IN_FAILURES_ALLOWED } from '../../src/http/panel/routes.js';
import { explainDecline } from '../../src/stripe/decline-reasons.js';
import { createStore } from '../../src/verify/create-store.js';
import { HOST_A, STAFF, startHttpFixture, verifyConversationByCode, type HttpFixture } from '../support/http-harness.js';
import { panelCsrfToken, panelSignIn, postSignIn } from '../support/panel.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';

const SECRETS = [DEMO.secrets.aliceCardFingerprint, DEMO.secrets.aliceMetadata.crm_note!, 'risk_score', 'enterprise-trial-upsell', '4242424242424242'];

let fx: HttpFixture;
const logLines: string[] = [];
beforeAll(async () => {
  const sink = new Writable({ write: (chunk, _encoding, done) => (logLines.push(String(chunk)), done()) });
  fx = await startHttpFixture({}, { log: pino({ level: 'debug' }, sink) });
});
afterAll(() => fx.close());

/** carol's failed payment in our words, from the decline-code table (never the issuer's text). */
const seededDeclineReason = () => {
  const charge = fx.fake.store.charges.get(DEMO.charges.carolFailed)!;
  return explainDecline(charge.outcome?.reason ?? charge.failure_code, 'staff').reason;
};

const staffJson = (query: string, key = STAFF) => fetch(`${fx.url}/v1/insight?${query}`, { headers: { authorization: `Bearer ${key}` } });

describe('panel without a session', () => {
  it('sends pages to sign-in (keeping the query) and refuses data with 401', async () => {
    const page = await fetch(`${fx.url}/panel?email=${DEMO.emails.carol}`, { redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe(`/panel/sign-in?email=${encodeURIComponent(DEMO.emails.carol)}`);
    const card = await fetch(`${fx.url}/panel/card?email=${DEMO.emails.carol}`);
    expect(card.status).toBe(401);
    expect(await card.text()).not.toContain('Carol');
  });

  it('ignores a forged or unsigned session cookie, and a bearer key', async () => {
    for (const cookie of ['__Host-sbm_panel=forged', '__Host-sbm_panel=abc.def', `__Host-sbm_panel=${encodeURIComponent('x.' + 'A'.repeat(43) + '=')}`]) {
      expect((await fetch(`${fx.url}/panel/card?email=${DEMO.emails.carol}`, { headers: { cookie } })).status).toBe(401);
    }
    const withBearer = await fetch(`${fx.url}/panel/card?email=${DEMO.emails.carol}`, { headers: { authorization: `Bearer ${STAFF}` } });
    expect(withBearer.status).toBe(401);
  });
});

describe('sign-in', () => {
  it('sets an HttpOnly, Secure, SameSite=Lax __Host- cookie, and the page has strict headers', async () => {
    const response = await postSignIn(fx.url, { key: STAFF, return_to: '?email=carol@example.com&next=//evil.example' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/panel?email=carol%40example.com');
    const cookie = response.headers.getSetCookie().find((line) => line.startsWith('__Host-sbm_panel='))!;
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    // __Host-: Path=/ and no Domain, so no other host or path can plant or shadow it.
    expect(cookie).toMatch(/; Path=\/(;|$)/);
    expect(cookie).not.toMatch(/Domain=/i);
    expect(cookie).not.toContain(STAFF);

    const page = await fetch(`${fx.url}/panel`, { headers: { cookie: cookie.split(';')[0]! } });
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'self'");
    expect(page.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(page.headers.get('cache-control')).toBe('no-store');
    const html = await page.text();
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script>|<script [^>]*>[^<]/); // no inline script
    expect(html).not.toContain(STAFF);
  });

  it('refuses host keys and wrong keys, and never logs the key', async () => {
    for (const key of [HOST_A, 'not-a-key-at-all-but-long-enough']) {
      const response = await postSignIn(fx.url, { key });
      expect(response.status).toBe(401);
      expect(response.headers.getSetCookie().some((line) => line.startsWith('__Host-sbm_panel='))).toBe(false);
      expect(await response.text()).toContain('That is not a valid staff key.');
    }
    await panelSignIn(fx.url, STAFF);
    const logs = logLines.join('');
    expect(logs).toContain('panel sign-in refused');
    for (const secret of [HOST_A, STAFF, 'not-a-key-at-all-but-long-enough']) expect(logs).not.toContain(secret);
  });

  it('refuses a sign-in posted from another origin', async () => {
    const response = await postSignIn(fx.url, { key: STAFF }, 'https://evil.example');
    expect(response.status).toBe(403);
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it('limits failed sign-ins per address: after the limit even the right key waits', async () => {
    const limited = await startHttpFixture();
    try {
      const attempt = (key: string) =>
        postSignIn(limited.url, { key });
      await panelSignIn(limited.url, STAFF); // successes do not count
      for (let i = 0; i < SIGN_IN_FAILURES_ALLOWED; i++) expect((await attempt(`wrong-key-${i}-000000000000000000000`)).status).toBe(401);
      const blocked = await attempt(STAFF);
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(blocked.headers.getSetCookie()).toEqual([]);
    } finally {
      await limited.close();
    }
  });

  it('bounds a burst of parallel guesses by counting every attempt atomically first', async () => {
    const limited = await startHttpFixture();
    try {
      const guesses = await Promise.all(
        Array.from({ length: SIGN_IN_ATTEMPTS_ALLOWED + 10 }, (_, i) =>
          postSignIn(limited.url, { key: `parallel-guess-${i}-0000000000000000000` }).then((response) => response.status),
        ),
      );
      expect(guesses.filter((status) => status === 401).length).toBeLessThanOrEqual(SIGN_IN_ATTEMPTS_ALLOWED);
      expect(guesses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(10);
    } finally {
      await limited.close();
    }
  });
});

describe('CSRF on state-changing requests', () => {
  it('portal link and sign-out need the session token and a same-host Origin', async () => {
    const cookie = await panelSignIn(fx.url, STAFF);
    const csrf = await panelCsrfToken(fx.url, cookie);
    const post = (path: string, body: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(`${fx.url}/panel${path}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', origin: fx.url, ...headers },
        body: new URLSearchParams(body),
      });

    const portalSessions = () => fx.fake.requests.filter((request) => request.path === '/v1/billing_portal/sessions').length;
    const before = portalSessions();
    expect((await post('/portal-link', { customer: DEMO.customers.carol })).status).toBe(403);
    expect((await post('/portal-link', { customer: DEMO.customers.carol, csrf: 'x'.repeat(43) })).status).toBe(403);
    expect((await post('/portal-link', { customer: DEMO.customers.carol, csrf }, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await post('/portal-link', { customer: DEMO.customers.carol, csrf }, { origin: 'http://127.0.0.1:1' })).status).toBe(403);
    expect(portalSessions()).toBe(before); // refused before Stripe was asked

    const ok = await post('/portal-link', { customer: DEMO.customers.carol, csrf });
    expect(ok.status).toBe(200);
    const link = (await ok.json()) as { url: string };
    expect(link.url).toMatch(/^https:\/\/billing\.stripe\.com\//);
    const created = fx.fake.requests.filter((request) => request.path === '/v1/billing_portal/sessions').at(-1)!;
    expect(created.params.customer).toBe(DEMO.customers.carol);

    const viaHeader = await post('/portal-link', { customer: DEMO.customers.carol }, { 'x-csrf-token': csrf });
    expect(viaHeader.status).toBe(200);

    expect((await post('/sign-out', {})).status).toBe(403);
    expect((await fetch(`${fx.url}/panel/card?email=${DEMO.emails.carol}`, { headers: { cookie } })).status).toBe(200);
    const out = await post('/sign-out', { csrf });
    expect(out.status).toBe(303);
    expect(out.headers.getSetCookie().find((line) => line.startsWith('__Host-sbm_panel='))).toMatch(/Max-Age=0/);
    // The session is gone server-side, not just the cookie.
    expect((await fetch(`${fx.url}/panel/card?email=${DEMO.emails.carol}`, { headers: { cookie } })).status).toBe(401);
  });
});

describe('GET /v1/insight', () => {
  it('answers staff with the panel’s data', async () => {
    const response = await staffJson(`email=${DEMO.emails.carol}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, any>;
    expect(body).toMatchObject({
      status: 'found',
      mode: 'test',
      email: DEMO.emails.carol,
      selected: DEMO.customers.carol,
      records: [{ id: DEMO.customers.carol, name: 'Carol Danvers' }],
      overview: {
        subscriptions: [{ plan: 'Starter', status: 'past_due', next_payment: { amount: { formatted: '$19.00' } } }],
        payment_method: { brand: 'mastercard', last4: '4444', exp: '03/2027' },
        unpaid_invoices: [{ number: 'CAROL-0002', past_due: true, hosted_invoice_url: expect.stringMatching(/^https:\/\/invoice\.stripe\.com\//) }],
        payment_problems: [{ kind: 'failed', detail: seededDeclineReason() }],
        balances: [],
      },
    });
    expect(body.overview.recent_invoices.length).toBeGreaterThan(0);
    expect(body.overview.recent_invoices.length).toBeLessThanOrEqual(5);
    expect(body.overview.recent_invoices[0]).toHaveProperty('invoice_pdf');
  });

  it('lists every record sharing the email and shows the chosen one', async () => {
    const all = (await (await staffJson(`email=${DEMO.emails.alice}`)).json()) as { records: Array<{ id: string }>; selected: string; overview: { customer: { customer_ids: string[] } } };
    expect(all.records.map((record) => record.id)).toEqual([DEMO.customers.alice, DEMO.customers.aliceUppercase]);
    expect(all.selected).toBe(DEMO.customers.alice);
    expect(all.overview.customer.customer_ids).toEqual([DEMO.customers.alice]);
    const other = (await (await staffJson(`email=${DEMO.emails.alice}&customer=${DEMO.customers.aliceUppercase}`)).json()) as typeof all & { overview: { subscriptions: Array<{ status: string }> } };
    expect(other.selected).toBe(DEMO.customers.aliceUppercase);
    expect(other.overview.subscriptions.map((sub) => sub.status)).toEqual(['canceled']);
    // A customer id that does not carry this email is not reachable through it.
    const foreign = (await (await staffJson(`email=${DEMO.emails.alice}&customer=${DEMO.customers.carol}`)).json()) as typeof all;
    expect(foreign.selected).toBe(DEMO.customers.alice);
  });

  it('refuses host keys (even with a customer token), missing keys and bad queries', async () => {
    const token = await fx.token(DEMO.emails.alice);
    const host = await fetch(`${fx.url}/v1/insight?email=${DEMO.emails.alice}`, { headers: { authorization: `Bearer ${HOST_A}`, 'x-customer-token': token } });
    expect(host.status).toBe(403);
    expect(await host.text()).not.toContain(DEMO.customers.alice);
    const none = await fetch(`${fx.url}/v1/insight?email=${DEMO.emails.alice}`);
    expect(none.status).toBe(401);
    expect((await staffJson('email=not-an-email')).status).toBe(400);
    expect((await staffJson(`email=${DEMO.emails.alice}&conversation=c1`)).status).toBe(400);
  });

  it('says when nobody has the email, when Stripe is down, and which part a missing permission hides while the rest shows', async () => {
    const empty = await staffJson(`email=${DEMO.emails.nobody}`);
    expect(empty.status).toBe(404);
    expect(await empty.json()).toMatchObject({ status: 'not_found', message: 'No Stripe customer with this email.' });

    // An email not looked up before: a cached answer would not need Stripe.
    fx.fake.failNext({ status: 503, path: '/v1/customers' });
    const down = await staffJson(`email=${DEMO.emails.heidi}`);
    expect(down.status).toBe(503);
    const downBody = await down.text();
    expect(JSON.parse(downBody)).toMatchObject({ status: 'error', message: 'Stripe is unavailable, try again.' });
    fx.fake.clearFailures();

    const restricted = await startHttpFixture();
    try {
      restricted.fake.restrictKey('rk_test_fake_tests_0000000000000000', ['rak_charge_read']);
      const response = await fetch(`${restricted.url}/v1/insight?email=${DEMO.emails.carol}`, { headers: { authorization: `Bearer ${STAFF}` } });
      expect(response.status).toBe(200);
      const text = await response.text();
      const insight = JSON.parse(text) as { status: string; unavailable: unknown[]; overview: { subscriptions: unknown[]; recent_invoices: unknown[]; payment_method: { type: string } } };
      expect(insight.status).toBe('found');
      expect(insight.unavailable).toEqual([
        {
          section: 'payments',
          message: 'Payment history (failed payments and refunds) is unavailable: the Stripe key lacks the “Charges: Read” permission. The merchant must grant it to the restricted key.',
        },
      ]);
      // Everything else is there.
      expect(insight.overview.subscriptions).toHaveLength(1);
      expect(insight.overview.recent_invoices.length).toBeGreaterThan(0);
      expect(insight.overview.payment_method.type).toBe('card');
      // Stripe's own refusal text never reaches the answer (invoice links do name the account).
      expect(text).not.toMatch(/rak_|does not have the required permissions/);
    } finally {
      await restricted.close();
    }
  });

  it('tells whether the visitor’s email is verified in a given conversation, and nothing more', async () => {
    await verifyConversationByCode(fx, HOST_A, 'panel-conv-1', DEMO.emails.carol);
    const verified = (await (await staffJson(`email=${DEMO.emails.carol}&conversation=panel-conv-1&host=host-a`)).json()) as { conversation: unknown };
    expect(verified.conversation).toEqual({ id: 'panel-conv-1', host: 'host-a', email_verified: true, note: 'Email verified in this conversation.' });
    const otherHost = (await (await staffJson(`email=${DEMO.emails.carol}&conversation=panel-conv-1&host=host-b`)).json()) as { conversation: { email_verified: boolean } };
    expect(otherHost.conversation.email_verified).toBe(false);
    const otherEmail = await (await staffJson(`email=${DEMO.emails.frank}&conversation=panel-conv-1&host=host-a`)).text();
    expect(JSON.parse(otherEmail).conversation.email_verified).toBe(false);
    expect(otherEmail).not.toContain(DEMO.emails.carol);
  });
});

describe('nothing secret in what the panel serves', () => {
  it('no metadata, fingerprints or full card numbers in the page, the fragment or the JSON', async () => {
    const cookie = await panelSignIn(fx.url, STAFF);
    const bodies = [
      await (await fetch(`${fx.url}/panel?email=${DEMO.emails.alice}`, { headers: { cookie } })).text(),
      await (await fetch(`${fx.url}/panel/card?email=${DEMO.emails.alice}&customer=${DEMO.customers.aliceUppercase}`, { headers: { cookie } })).text(),
      await (await staffJson(`email=${DEMO.emails.alice}`)).text(),
    ];
    for (const body of bodies) {
      for (const secret of SECRETS) expect(body).not.toContain(secret);
      expect(body).not.toContain(DEMO.customers.aliceWork); // a look-alike email is another person
      expect(body).not.toContain(DEMO.customers.bobAlice);
    }
    expect(bodies[0]).toContain('Visa ending in 4242');
  });
});

describe('sessions end with their staff key', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(() => redis.stop());

  const SECOND_STAFF = 'second_staff_secret_000000000000000';
  const env = (staffKeys: string) => ({ STAFF_KEYS: staffKeys, PANEL_SESSION_SECRET: 'panel-session-secret-shared-by-every-process' });
  const start = (staffKeys: string) => startHttpFixture(env(staffKeys), { store: createStore(redis.url) });
  const card = (server: HttpFixture, cookie: string) => fetch(`${server.url}/panel/card?email=${DEMO.emails.carol}`, { headers: { cookie } });

  it('a restarted server with the key kept keeps the session; with it removed or changed, the session ends', async () => {
    const first = await start(`support:${STAFF},backup:${SECOND_STAFF}`);
    const cookie = await panelSignIn(first.url, STAFF);
    const backupCookie = await panelSignIn(first.url, SECOND_STAFF);
    expect((await card(first, cookie)).status).toBe(200);
    await first.close();

    const kept = await start(`support:${STAFF},backup:${SECOND_STAFF}`);
    expect((await card(kept, cookie)).status).toBe(200);
    await kept.close();

    const removed = await start(`backup:${SECOND_STAFF}`);
    expect((await card(removed, cookie)).status).toBe(401);
    const page = await fetch(`${removed.url}/panel?email=${DEMO.emails.carol}`, { headers: { cookie }, redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toMatch(/^\/panel\/sign-in/);
    expect((await card(removed, backupCookie)).status).toBe(200);
    await removed.close();

    // Putting the key back does not revive the session: it was ended, not just refused.
    const restored = await start(`support:${STAFF},backup:${SECOND_STAFF}`);
    expect((await card(restored, cookie)).status).toBe(401);
    await restored.close();

    // Same name, new secret (a rotated key): the old sessions end too.
    const rotated = await start(`support:${STAFF},backup:rotated_backup_secret_00000000000000`);
    expect((await card(rotated, backupCookie)).status).toBe(401);
    await rotated.close();
  });
});

describe('embedding in a helpdesk', () => {
  it('PANEL_FRAME_ANCESTORS allows those origins to frame the panel and makes the cookie SameSite=None; Secure; Partitioned', async () => {
    const embedded = await startHttpFixture({ PANEL_FRAME_ANCESTORS: 'https://app.chatwoot.com,http://localhost:3000' });
    try {
      const response = await postSignIn(embedded.url, { key: STAFF });
      const cookie = response.headers.getSetCookie().find((line) => line.startsWith('__Host-sbm_panel_embedded='))!;
      expect(cookie).toMatch(/; SameSite=None/);
      expect(cookie).toMatch(/; Partitioned/);
      expect(cookie).toMatch(/; Secure/);
      const page = await fetch(`${embedded.url}/panel/sign-in`);
      expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'self' https://app.chatwoot.com http://localhost:3000");
      expect(page.headers.get('x-frame-options')).toBeNull();
      expect(await page.text()).toContain('data-frame-ancestors="[&quot;https://app.chatwoot.com&quot;,&quot;http://localhost:3000&quot;]"');
    } finally {
      await embedded.close();
    }
  });
});

describe('the Origin guard', () => {
  it('lets the panel post to its own host, but the API still needs ALLOWED_ORIGINS', async () => {
    const api = await fetch(`${fx.url}/v1/tools`, { headers: { authorization: `Bearer ${STAFF}`, origin: fx.url } });
    expect(api.status).toBe(403);
    const signIn = await postSignIn(fx.url, { key: STAFF });
    expect(signIn.status).toBe(303);
  });
});

describe('sign-in behind a reverse proxy, and again', () => {
  it('with TRUST_PROXY, counts failures per forwarded client, so one client cannot lock out the others', async () => {
    const proxied = await startHttpFixture({ TRUST_PROXY: '1' });
    try {
      const from = (client: string, key: string) =>
        fetch(`${proxied.url}/panel/sign-in`, {
          method: 'POST',
          redirect: 'manual',
          headers: { 'content-type': 'application/x-www-form-urlencoded', origin: proxied.url, 'x-forwarded-for': `10.9.9.9, ${client}` },
          body: new URLSearchParams({ key }),
        });
      for (let i = 0; i < SIGN_IN_FAILURES_ALLOWED; i++) expect((await from('203.0.113.7', `wrong-key-${i}-000000000000000000000`)).status).toBe(401);
      expect((await from('203.0.113.7', STAFF)).status).toBe(429);
      // Another agent behind the same proxy signs in; the spoofable left-hand entry changes nothing.
      expect((await from('198.51.100.20', STAFF)).status).toBe(303);
    } finally {
      await proxied.close();
    }
  });

  it('without TRUST_PROXY, a forged X-Forwarded-For does not escape the limit', async () => {
    const direct = await startHttpFixture();
    try {
      const forged = (i: number, key: string) =>
        fetch(`${direct.url}/panel/sign-in`, {
          method: 'POST',
          redirect: 'manual',
          headers: { 'content-type': 'application/x-www-form-urlencoded', origin: direct.url, 'x-forwarded-for': `198.51.100.${i}` },
          body: new URLSearchParams({ key }),
        });
      for (let i = 0; i < SIGN_IN_FAILURES_ALLOWED; i++) expect((await forged(i, `wrong-key-${i}-000000000000000000000`)).status).toBe(401);
      expect((await forged(99, `another-wrong-key-0000000000000000000`)).status).toBe(429);
    } finally {
      await direct.close();
    }
  });

  it('accepts the form posts of a panel whose public origin is in PANEL_ORIGINS (the proxy rewrote Host)', async () => {
    const proxied = await startHttpFixture({ PANEL_ORIGINS: 'https://billing.example.com' });
    try {
      expect((await postSignIn(proxied.url, { key: STAFF }, 'https://billing.example.com')).status).toBe(303);
      expect((await postSignIn(proxied.url, { key: STAFF }, 'https://other.example.com')).status).toBe(403);
    } finally {
      await proxied.close();
    }
  });

  it('refuses panel form posts from an API origin (ALLOWED_ORIGINS is for chat widgets, not the panel)', async () => {
    const widget = await startHttpFixture({ ALLOWED_ORIGINS: 'https://chat.example.com' });
    try {
      expect((await postSignIn(widget.url, { key: STAFF }, 'https://chat.example.com')).status).toBe(403);
      expect((await postSignIn(widget.url, { key: STAFF })).status).toBe(303);
    } finally {
      await widget.close();
    }
  });

  it('signing in again ends the previous session of that browser', async () => {
    const first = await panelSignIn(fx.url, STAFF);
    const again = await fetch(`${fx.url}/panel/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: fx.url, cookie: first },
      body: new URLSearchParams({ key: STAFF }),
    });
    expect(again.status).toBe(303);
    const second = again.headers.getSetCookie().find((line) => line.startsWith('__Host-sbm_panel='))!.split(';')[0]!;
    expect(second).not.toBe(first);
    expect((await fetch(`${fx.url}/panel/card?email=${DEMO.emails.carol}`, { headers: { cookie: first } })).status).toBe(401);
    expect((await fetch(`${fx.url}/panel/card?email=${DEMO.emails.carol}`, { headers: { cookie: second } })).status).toBe(200);
  });
});

describe('hostile Stripe data', () => {
  it('is escaped in the page, and a non-https invoice link is no link', async () => {
    const store = fx.fake.store;
    const carol = store.customers.get(DEMO.customers.carol)!;
    const invoice = store.invoices.get(DEMO.invoices.carolOpen)!;
    store.customers.set(carol.id, { ...carol, name: '<img src=x onerror=alert(1)>' } as typeof carol);
    store.invoices.set(invoice.id, { ...invoice, number: '<script>alert(2)</script>', hosted_invoice_url: 'javascript:alert(3)' });
    // What Stripe's webhooks would tell the server about these changes.
    await invalidateForEvent(fx.runtime.reads, { id: 'evt_hostile_1', type: 'customer.updated', data: { object: { id: carol.id, email: DEMO.emails.carol } } });
    try {
      const cookie = await panelSignIn(fx.url, STAFF);
      const html = await (await fetch(`${fx.url}/panel/card?email=${DEMO.emails.carol}`, { headers: { cookie } })).text();
      expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
      expect(html).toContain('&lt;script&gt;alert(2)&lt;/script&gt;');
      expect(html).not.toMatch(/<img src=x|<script>alert|javascript:/);
    } finally {
      store.customers.set(carol.id, carol);
      store.invoices.set(invoice.id, invoice);
    }
  });
});
