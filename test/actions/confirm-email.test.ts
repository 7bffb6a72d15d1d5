/**
 * The email confirmation channel end to end: request_refund as alice → a real SMTP server on
 * loopback receives the link → the page (GET) shows the preview → the person's POST, with the
 * page's anti-forgery token, confirms → the fake Stripe holds one refund. And every way the click
 * can be wrong: used twice, forged, cross-site, canceled, expired, made up.
 */
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mintIdentityToken } from '../../src/demo/demo-identity.js';
import { FakeStripe, FakeStripeAccounts } from '../../src/demo/fake-stripe/index.js';
import { DEMO } from '../../src/demo/fake-stripe/seed.js';
import { startPlatform, type RunningPlatform } from '../../src/platform/serve-platform.js';
import { WRONG_LINKS_ALLOWED } from '../../src/http/confirm-page.js';
import { REDACT_PATHS } from '../../src/log.js';
import { actionsFixtures, ALICE, EXAMPLE_POLICY, type ActionsFixture } from '../support/actions.js';
import { tempDirAfterAll } from '../support/audit.js';
import { testMailer, testSettings } from '../support/mcp-harness.js';
import { artifactPath, collectCspViolations, launchChromium } from '../support/browser.js';
import { startSmtpServer, type ReceivedMessage, type TestSmtpServer } from '../support/smtp-server.js';

const fixture = actionsFixtures();
let smtp: TestSmtpServer;
const open: ActionsFixture[] = [];

beforeAll(async () => {
  smtp = await startSmtpServer();
});
afterAll(async () => {
  await smtp.stop();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((fx) => fx.close()));
});

/** A free loopback port, so PUBLIC_URL can name the server before it starts. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Started {
  fx: ActionsFixture;
  /** Every log line the server wrote. */
  lines: string[];
}

async function start(): Promise<Started> {
  const port = await freePort();
  const lines: string[] = [];
  const log = pino({ level: 'debug', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) }));
  const fx = await fixture({
    smtp: true,
    log,
    env: { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, SMTP_URL: smtp.url, MAIL_FROM: 'Test SaaS Billing <billing@test-saas.example>', MERCHANT_NAME: 'Test SaaS' },
  });
  open.push(fx);
  expect(fx.url).toBe(`http://127.0.0.1:${port}`);
  return { fx, lines };
}

interface Requested {
  mail: ReceivedMessage;
  link: string;
  token: string;
  secret: string;
  requestId: string;
}

/** alice asks the chatbot for a refund of her duplicate $44.00 charge (within auto_approve); the email arrives. */
async function requestRefund(fx: ActionsFixture): Promise<Requested> {
  const answer = await fx.asCustomer(ALICE, 'request_refund', { payment: DEMO.actions.aliceDuplicateCharge, reason: 'duplicate' });
  expect(answer.status).toBe(200);
  expect(answer.body.is_error).toBe(false);
  const mail = await smtp.waitForMessage();
  const link = new RegExp(`${fx.url}/confirm/[A-Za-z0-9_.-]+`).exec(mail.text ?? '')?.[0];
  expect(link, 'the email text carries the link').toBeDefined();
  const token = link!.slice(link!.lastIndexOf('/') + 1);
  const requestId = token.slice(0, token.lastIndexOf('.'));
  expect(answer.body.confirmation?.request_id).toBe(requestId);
  return { mail, link: link!, token, secret: token.slice(token.lastIndexOf('.') + 1), requestId };
}

/** What a browser holds after opening the link: the page, its nonce cookie and the form's token. */
async function openPage(link: string): Promise<{ status: number; html: string; cookie: string; csrf: string; headers: Headers }> {
  const response = await fetch(link);
  const html = await response.text();
  const cookie = response.headers.getSetCookie().map((line) => line.split(';')[0]!).join('; ');
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  return { status: response.status, html, cookie, csrf, headers: response.headers };
}

async function click(link: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; html: string }> {
  const response = await fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() });
  return { status: response.status, html: await response.text() };
}

const refundsOf = (fx: ActionsFixture) => [...fx.fake.store.refunds.values()].filter((refund) => refund.charge === DEMO.actions.aliceDuplicateCharge);
const stateOf = async (fx: ActionsFixture, id: string) => (await fx.runtime.actions!.requests.get(id))!.state;
const headingOf = (html: string) => /<h1[^>]*>([^<]*)<\/h1>/.exec(html)?.[1];

describe('the email confirmation channel', () => {
  it('emails alice a link whose page confirms her refund once, and never logs the link', async () => {
    const { fx, lines } = await start();
    const { mail, link, token, secret, requestId } = await requestRefund(fx);

    expect(mail.to).toEqual([ALICE]);
    expect(mail.subject).toBe('Confirm your refund request with Test SaaS');
    expect(mail.text).toContain('Review and confirm (the link expires in 15 minutes):');
    expect(mail.text).toContain('Nothing happens unless you confirm.');
    expect(mail.text).toContain('If you did not ask for this, ignore this email');
    expect(mail.html).toContain(`href="${link}"`);
    expect(mail.html).toContain('>Review and confirm</a>');
    expect(mail.html).toContain('$44.00');
    // The link is in the body only: not in the subject or any header.
    expect(JSON.stringify(mail.headers)).not.toContain(secret);

    const page = await openPage(link);
    expect(page.status).toBe(200);
    expect(headingOf(page.html)).toBe('Confirm your refund request');
    expect(page.html).toContain('$44.00');
    expect(page.html).toMatch(/<button[^>]*value="confirm"[^>]*>\s*Confirm\s*<\/button>/);
    expect(page.html).toMatch(/<button[^>]*value="cancel"[^>]*>\s*Cancel\s*<\/button>/);
    // The form posts back to the page's own URL: the secret is not written into the page at all.
    expect(page.html).not.toContain(secret);
    expect(page.html).toContain('<form method="post">');
    expect(page.html).not.toMatch(/<(script|img|iframe|link rel="stylesheet")/i);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('referrer-policy')).toBe('same-origin');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.cookie).toMatch(new RegExp(`^__Host-sbm_confirm_${requestId}=`));
    // Reading the page uses nothing up.
    expect(await stateOf(fx, requestId)).toBe('awaiting_confirmation');
    expect(refundsOf(fx)).toHaveLength(0);

    const done = await click(link, { action: 'confirm', csrf: page.csrf }, { cookie: page.cookie, origin: fx.url });
    expect(done.status).toBe(200);
    expect(headingOf(done.html)).toBe('Done');
    expect(done.html).toContain('Your refund of $44.00 has been issued.');
    expect(refundsOf(fx).map((refund) => refund.amount)).toEqual([4400]);
    expect(await stateOf(fx, requestId)).toBe('done');

    const again = await click(link, { action: 'confirm', csrf: page.csrf }, { cookie: page.cookie, origin: fx.url });
    expect(again.status).toBe(200);
    expect(headingOf(again.html)).toBe('This link was already used');
    expect(refundsOf(fx)).toHaveLength(1);

    // The whole flow's log: the recipient redacted, the token, secret and link nowhere.
    const log = lines.join('');
    expect(log).toContain('action confirmation email sent');
    expect(log).toContain('a***@example.com');
    expect(log).toContain('/confirm/:token');
    expect(log).not.toContain(secret);
    expect(log).not.toContain(token);
  });

  it('above auto_approve, the page says the merchant reviews it, and the click leaves it waiting for approval', async () => {
    const { fx } = await start();
    // $74.00 left on the partly refunded payment: within the policy's $200, above auto_approve's $50.
    const answer = await fx.asCustomer(ALICE, 'request_refund', { payment: DEMO.actions.alicePartlyRefundedCharge, reason: 'requested_by_customer' });
    expect(answer.body.is_error, JSON.stringify(answer.body)).toBe(false);
    const mail = await smtp.waitForMessage();
    expect(mail.text).toContain("After you confirm, Test SaaS's team reviews it before it is carried out.");
    const link = new RegExp(`${fx.url}/confirm/[A-Za-z0-9_.-]+`).exec(mail.text ?? '')![0];
    const page = await openPage(link);
    expect(page.html).toContain('After you confirm, the merchant&#39;s team reviews it before it is carried out.');
    const clicked = await click(link, { action: 'confirm', csrf: page.csrf }, { cookie: page.cookie, origin: fx.url });
    expect(headingOf(clicked.html)).toBe('Confirmed: waiting for approval');
    expect(await stateOf(fx, answer.body.confirmation!.request_id)).toBe('awaiting_approval');
    expect([...fx.fake.store.refunds.values()].filter((refund) => refund.charge === DEMO.actions.alicePartlyRefundedCharge)).toHaveLength(1); // only the seeded one
  });

  it('a mail server that refuses the message leaves the request standing, and its error text in the log names no link', async () => {
    const refusing = await startSmtpServer({ rejectRecipients: true });
    try {
      const port = await freePort();
      const lines: string[] = [];
      const log = pino({ level: 'debug', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) }));
      const fx = await fixture({ smtp: true, log, env: { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, SMTP_URL: refusing.url, MAIL_FROM: 'billing@test-saas.example' } });
      open.push(fx);
      const answer = await fx.asCustomer(ALICE, 'request_refund', { payment: DEMO.actions.aliceDuplicateCharge, reason: 'duplicate' });
      expect(answer.body.is_error, JSON.stringify(answer.body)).toBe(false);
      const token = answer.body.confirmation!.token;
      expect(await stateOf(fx, answer.body.confirmation!.request_id)).toBe('awaiting_confirmation');
      const logged = lines.join('');
      expect(logged).toContain('action confirmation email not sent');
      expect(logged).toContain('a***@example.com');
      expect(logged).not.toContain(ALICE);
      expect(logged).not.toContain(token);
      expect(logged).not.toContain(token.slice(token.lastIndexOf('.') + 1));
    } finally {
      await refusing.stop();
    }
  });

  it('refuses a click without the page’s anti-forgery token, with a wrong one, or without its cookie: 403, nothing changes', async () => {
    const { fx } = await start();
    const { link, requestId } = await requestRefund(fx);
    const page = await openPage(link);
    const other = await openPage(link);

    const refusals = [
      await click(link, { action: 'confirm' }, { cookie: page.cookie }),
      await click(link, { action: 'confirm', csrf: 'A'.repeat(43) }, { cookie: page.cookie }),
      await click(link, { action: 'confirm', csrf: page.csrf }),
      // Another browser's form token does not go with this browser's cookie.
      ...(other.csrf !== page.csrf ? [await click(link, { action: 'confirm', csrf: other.csrf }, { cookie: page.cookie })] : []),
    ];
    for (const refusal of refusals) {
      expect(refusal.status).toBe(403);
      expect(headingOf(refusal.html)).toBe('This page is out of date');
    }
    expect(await stateOf(fx, requestId)).toBe('awaiting_confirmation');
    expect(refundsOf(fx)).toHaveLength(0);
  });

  it('refuses a cross-site click even with the cookie and token: Origin or Sec-Fetch-Site of another site', async () => {
    const { fx } = await start();
    const { link, requestId } = await requestRefund(fx);
    const page = await openPage(link);
    const crossOrigin = await click(link, { action: 'confirm', csrf: page.csrf }, { cookie: page.cookie, origin: 'https://evil.example' });
    const crossSite = await click(link, { action: 'confirm', csrf: page.csrf }, { cookie: page.cookie, 'sec-fetch-site': 'cross-site' });
    for (const refusal of [crossOrigin, crossSite]) {
      expect(refusal.status).toBe(403);
      expect(headingOf(refusal.html)).toBe('Refused');
    }
    expect(await stateOf(fx, requestId)).toBe('awaiting_confirmation');
    expect(refundsOf(fx)).toHaveLength(0);
    // The same click from the page's own origin goes through.
    const done = await click(link, { action: 'confirm', csrf: page.csrf }, { cookie: page.cookie, origin: fx.url, 'sec-fetch-site': 'same-origin' });
    expect(headingOf(done.html)).toBe('Done');
  });

  it('Cancel cancels: no refund, and the link cannot confirm afterwards', async () => {
    const { fx } = await start();
    const { link, requestId } = await requestRefund(fx);
    const page = await openPage(link);
    const canceled = await click(link, { action: 'cancel', csrf: page.csrf }, { cookie: page.cookie, origin: fx.url });
    expect(canceled.status).toBe(200);
    expect(headingOf(canceled.html)).toBe('Canceled');
    expect(canceled.html).toContain('Nothing was changed.');
    expect(await stateOf(fx, requestId)).toBe('canceled');

    const confirm = await click(link, { action: 'confirm', csrf: page.csrf }, { cookie: page.cookie, origin: fx.url });
    expect(headingOf(confirm.html)).toBe('This link was already used');
    expect((await openPage(link)).html).toContain('<h1 id="title">Canceled</h1>');
    expect(refundsOf(fx)).toHaveLength(0);
  });

  it('an expired link says so, on the page and on a click; nothing is refunded', async () => {
    const { fx } = await start();
    const { link, requestId } = await requestRefund(fx);
    const page = await openPage(link);
    const sql = fx.trail.store.sql;
    await sql.run(`UPDATE action_requests SET confirm_expires_at = ${sql.placeholder(1)} WHERE id = ${sql.placeholder(2)}`, [new Date(Date.now() - 1000).toISOString(), requestId]);

    const shown = await openPage(link);
    expect(shown.status).toBe(410);
    expect(headingOf(shown.html)).toBe('This link has expired');
    expect(shown.html).not.toContain('<form');
    const clicked = await click(link, { action: 'confirm', csrf: page.csrf }, { cookie: page.cookie, origin: fx.url });
    expect(clicked.status).toBe(410);
    expect(headingOf(clicked.html)).toBe('This link has expired');
    expect(await stateOf(fx, requestId)).toBe('expired');
    expect(refundsOf(fx)).toHaveLength(0);
  });

  it('a made-up token, a wrong secret and a malformed token get one page that tells nothing', async () => {
    const { fx } = await start();
    const { link, requestId } = await requestRefund(fx);
    const madeUp = await openPage(`${fx.url}/confirm/req_${'A'.repeat(22)}.${'B'.repeat(43)}`);
    const wrongSecret = await openPage(`${fx.url}/confirm/${requestId}.${'B'.repeat(43)}`);
    const malformed = await openPage(`${fx.url}/confirm/not-a-token`);
    for (const answer of [madeUp, wrongSecret, malformed]) {
      expect(answer.status).toBe(404);
      expect(headingOf(answer.html)).toBe('This link is not valid');
      expect(answer.html).toBe(madeUp.html);
      expect(answer.cookie).toBe('');
    }
    const posted = await click(`${fx.url}/confirm/${requestId}.${'B'.repeat(43)}`, { action: 'confirm', csrf: 'x' }, { origin: fx.url });
    expect(posted.status).toBe(404);
    expect(posted.html).toBe(madeUp.html);
    expect(await stateOf(fx, requestId)).toBe('awaiting_confirmation');
    expect((await openPage(link)).status).toBe(200);
  });

  it('stops looking links up for an address that keeps trying wrong ones', async () => {
    const { fx } = await start();
    const { link } = await requestRefund(fx);
    for (let i = 0; i < WRONG_LINKS_ALLOWED; i++) expect((await openPage(`${fx.url}/confirm/req_${'A'.repeat(22)}.${String(i).padStart(43, 'B')}`)).status).toBe(404);
    const locked = await openPage(link);
    expect(locked.status).toBe(429);
    expect(headingOf(locked.html)).toBe('Too many attempts');
    expect(locked.html).not.toContain('<form');
  });

  it('answers a body that is not a form, a missing field or a huge body with a page, never a 500', async () => {
    const { fx } = await start();
    const { link, requestId } = await requestRefund(fx);
    const page = await openPage(link);
    const json = await fetch(link, { method: 'POST', headers: { 'content-type': 'application/json', cookie: page.cookie }, body: JSON.stringify({ action: 'confirm', csrf: page.csrf }) });
    expect(json.status).toBe(400);
    expect(headingOf(await json.text())).toBe('That form could not be read');
    const noAction = await click(link, { csrf: page.csrf }, { cookie: page.cookie });
    expect(noAction.status).toBe(400);
    const otherAction = await click(link, { action: 'refund-twice', csrf: page.csrf }, { cookie: page.cookie });
    expect(otherAction.status).toBe(400);
    const broken = await fetch(link, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=x', cookie: page.cookie }, body: '--x\r\nbroken' });
    expect(broken.status).toBe(400);
    const huge = await click(link, { action: 'confirm', csrf: page.csrf, padding: 'x'.repeat(64 * 1024) }, { cookie: page.cookie });
    expect(huge.status).toBe(413);
    expect(headingOf(huge.html)).toBe('That form is too large');
    expect(await stateOf(fx, requestId)).toBe('awaiting_confirmation');
    expect(refundsOf(fx)).toHaveLength(0);
  });

  it('in real Chromium: open the link, click Confirm, see the refund done', async () => {
    const { fx } = await start();
    const { link, requestId } = await requestRefund(fx);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const violations = collectCspViolations(page);
      const outside: string[] = [];
      page.on('request', (request) => {
        if (!request.url().startsWith(fx.url)) outside.push(request.url());
      });
      await page.goto(link);
      await expect.poll(() => page.locator('h1').textContent()).toBe('Confirm your refund request');
      // The inline stylesheet is allowed by its hash: the page is styled, not bare.
      expect(await page.locator('button.confirm').evaluate((button) => getComputedStyle(button).backgroundColor)).toBe('rgb(83, 58, 253)');
      await page.screenshot({ path: artifactPath('confirm-page.png'), fullPage: true });
      await Promise.all([page.waitForURL(link), page.getByRole('button', { name: 'Confirm' }).click()]);
      await expect.poll(() => page.locator('h1').textContent()).toBe('Done');
      expect(await page.locator('main').textContent()).toContain('Your refund of $44.00 has been issued.');
      await page.screenshot({ path: artifactPath('confirm-page-done.png'), fullPage: true });
      expect(violations).toEqual([]);
      expect(outside).toEqual([]);
    } finally {
      await browser.close();
    }
    expect(await stateOf(fx, requestId)).toBe('done');
    expect(refundsOf(fx)).toHaveLength(1);
  });
});

describe('the email confirmation channel in platform mode', () => {
  const ADMIN = 'admin_secret_for_confirm_tests_0000000000';
  const KEK = `k1:${Buffer.alloc(32, 9).toString('base64')}`;
  const IDENTITY_SECRET = 'confirm-test-identity-secret-32-bytes!!!';
  const tempDir = tempDirAfterAll('sbm-confirm-platform-');
  let platform: RunningPlatform;
  const mailer = testMailer();
  const fakes: FakeStripe[] = [];
  const merchants: Array<{ id: string; host: string }> = [];

  beforeAll(async () => {
    const port = await freePort();
    const accounts = new FakeStripeAccounts();
    const keys = ['Alpha', 'Beta'].map((name) => `rk_test_fake_confirm_${name}_${'0'.repeat(24)}`);
    for (const key of keys) {
      const fake = new FakeStripe({ now: Math.floor(Date.now() / 1000), actionFixtures: true });
      fakes.push(fake);
      accounts.add(key, fake);
    }
    const settings = testSettings({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, ADMIN_KEYS: `ops:${ADMIN}`, TENANT_KEY_SECRET: KEK, AUDIT_DB: join(tempDir(), 'platform.db'), IDENTITY_SECRET });
    platform = await startPlatform({ settings, log: pino({ level: 'silent' }), fetch: (input, init) => accounts.handle(new Request(input, init)), mailer });
    for (const [i, name] of ['Alpha', 'Beta'].entries()) {
      const response = await fetch(`${platform.url}/v1/admin/tenants`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name, stripe_api_key: keys[i], settings: { actions: EXAMPLE_POLICY, merchant_name: `${name} Inc` } }),
      });
      const body = (await response.json()) as { tenant: { id: string }; host_key: string };
      expect(response.status, JSON.stringify(body)).toBe(201);
      merchants.push({ id: body.tenant.id, host: body.host_key });
    }
  });
  afterAll(async () => {
    await platform?.close();
  });

  it("a merchant's link reaches that merchant's page and refunds on its Stripe account only", async () => {
    const beta = merchants[1]!;
    const answer = await fetch(`${platform.url}/v1/tools/request_refund`, {
      method: 'POST',
      headers: { authorization: `Bearer ${beta.host}`, 'x-conversation-id': 'chat-beta', 'x-customer-token': await mintIdentityToken(ALICE, IDENTITY_SECRET, 600, beta.id), 'content-type': 'application/json' },
      body: JSON.stringify({ payment: DEMO.actions.aliceDuplicateCharge, reason: 'duplicate' }),
    });
    const body = (await answer.json()) as { is_error: boolean; confirmation?: { request_id: string } };
    expect(body.is_error, JSON.stringify(body)).toBe(false);
    const sent = mailer.confirmations.find((mail) => mail.request_id === body.confirmation?.request_id);
    expect(sent?.to).toBe(ALICE);
    expect(sent!.url.startsWith(`${platform.url}/confirm/`)).toBe(true);
    expect(sent!.text).toContain(sent!.url);
    expect(sent!.html).toContain(`href="${sent!.url}"`);

    const page = await openPage(sent!.url);
    expect(page.status).toBe(200);
    expect(page.html).toContain('Beta Inc');
    const done = await click(sent!.url, { action: 'confirm', csrf: page.csrf }, { cookie: page.cookie, origin: platform.url });
    expect(headingOf(done.html)).toBe('Done');
    const refunded = (fake: FakeStripe) => [...fake.store.refunds.values()].filter((refund) => refund.charge === DEMO.actions.aliceDuplicateCharge).length;
    expect([refunded(fakes[0]!), refunded(fakes[1]!)]).toEqual([0, 1]);

    // A made-up link gets the same page as on a single merchant's server, naming no merchant.
    const madeUp = await openPage(`${platform.url}/confirm/req_${'A'.repeat(22)}.${'B'.repeat(43)}`);
    const wrongSecret = await openPage(`${platform.url}/confirm/${body.confirmation!.request_id}.${'B'.repeat(43)}`);
    expect([madeUp.status, wrongSecret.status]).toEqual([404, 404]);
    expect(wrongSecret.html).toBe(madeUp.html);
    expect(madeUp.html).not.toContain('Inc');
  });
});
