/**
 * The panel in headless Debian Chromium against the real HTTP server (fake Stripe in-process):
 * what a support agent does and sees, including inside a Chatwoot-style Dashboard App frame.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DEMO } from '../../src/demo/fake-stripe/index.js';
import { explainDecline } from '../../src/stripe/decline-reasons.js';
import { HOST_A, STAFF, startHttpFixture, verifyConversationByCode, type HttpFixture } from '../support/http-harness.js';
import { TEST_STRIPE_KEY } from '../support/mcp-harness.js';
import { artifactPath, collectCspViolations, launchChromium, startStaticPage, type StaticPageServer } from '../support/browser.js';

let browser: Browser;
let fx: HttpFixture;
let helpdesk: StaticPageServer;
let stranger: StaticPageServer;

beforeAll(async () => {
  // The helpdesk is another site (localhost vs 127.0.0.1), as Chatwoot would be.
  helpdesk = await startStaticPage('localhost');
  stranger = await startStaticPage('127.0.0.1');
  fx = await startHttpFixture({ PANEL_FRAME_ANCESTORS: helpdesk.origin });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await fx?.close();
  await helpdesk?.close();
  await stranger?.close();
});

async function signedInPage(server: HttpFixture = fx, viewport = { width: 1000, height: 800 }): Promise<{ context: BrowserContext; page: Page; violations: string[] }> {
  const context = await browser.newContext({ viewport });
  context.setDefaultTimeout(8_000);
  const page = await context.newPage();
  const violations = collectCspViolations(page);
  await page.goto(`${server.url}/panel`);
  await expect.poll(() => page.url()).toContain('/panel/sign-in');
  await page.getByLabel('Staff key').fill(STAFF);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('Customer email').waitFor();
  return { context, page, violations };
}

async function lookUp(page: Page, email: string): Promise<void> {
  await page.getByLabel('Customer email').fill(email);
  await page.getByRole('button', { name: 'Look up' }).click();
  await page.locator('#insight[aria-busy="false"] :is([data-testid=insight], [data-testid=insight-empty], [data-testid=insight-error])').waitFor();
}

describe('the panel in a browser', () => {
  it('signs in, shows a loading state, then every field of a past-due customer', async () => {
    const { context, page, violations } = await signedInPage();
    // Hold the data request until the loading state has been seen: no timing involved.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/panel/card?*', async (route) => {
      await held;
      await route.continue();
    });
    await page.getByLabel('Customer email').fill(DEMO.emails.carol);
    await page.getByRole('button', { name: 'Look up' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Loading billing details…' }).isVisible()).toBe(true);
    expect(await page.locator('#insight').getAttribute('aria-busy')).toBe('true');
    release();
    await page.getByTestId('insight').waitFor();
    await page.unroute('**/panel/card?*');

    expect(page.url()).toContain(`/panel?email=${encodeURIComponent(DEMO.emails.carol)}`);
    expect(await page.getByTestId('mode-badge').textContent()).toBe('Test data');
    expect(await page.getByRole('heading', { name: 'Carol Danvers' }).isVisible()).toBe(true);
    expect(await page.getByTestId('customer-email').textContent()).toBe(DEMO.emails.carol);
    const subscription = await page.getByTestId('subscription').innerText();
    expect(subscription).toContain('Starter');
    expect(subscription).toMatch(/past due/i);
    expect(subscription).toContain('Next billing: 2026-10-16, $19.00');
    expect(await page.getByTestId('payment-method').textContent()).toBe('Mastercard ending in 4444, expires 03/2027');
    expect(await page.getByTestId('balance').textContent()).toBe('No credit and nothing owed.');

    const rows = page.getByTestId('invoices').locator('tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await rows.first().innerText()).toMatch(/CAROL-0002\s+2026-09-16\s+open\s+\$19\.00/i);
    expect(await rows.first().getByRole('link', { name: 'PDF' }).getAttribute('href')).toMatch(/^https:\/\/pay\.stripe\.com\/invoice\/.*\/pdf$/);
    expect(await rows.first().getByRole('link', { name: 'Online' }).getAttribute('href')).toMatch(/^https:\/\/invoice\.stripe\.com\//);

    const declined = fx.fake.store.charges.get(DEMO.charges.carolFailed)!;
    expect(await page.getByTestId('problems').innerText()).toContain(explainDecline(declined.outcome?.reason ?? declined.failure_code, 'staff').reason);
    const attention = page.getByTestId('attention');
    expect(await attention.innerText()).toContain('Invoice CAROL-0002 for $19.00 is past due');
    expect(await attention.getByTestId('pay-link').getAttribute('href')).toBe('https://invoice.stripe.com/i/acct_1DemoFakeAccount/test_DemoCarolOpen');
    await page.screenshot({ path: artifactPath('panel-past-due.png'), fullPage: true });

    await lookUp(page, DEMO.emails.frank);
    expect(await page.getByTestId('balance').innerText()).toBe('$25.00 credit');
    await lookUp(page, DEMO.emails.alice);
    expect(await page.getByTestId('problems').innerText()).toMatch(/refunded[\s\S]*\$99\.00 refunded to the original payment method\./i);
    expect(violations).toEqual([]);
    await context.close();
  });

  it('picks between two customers that share an email', async () => {
    const { context, page } = await signedInPage();
    await lookUp(page, DEMO.emails.alice);
    const picker = page.getByRole('navigation', { name: 'Customer records with this email' });
    expect(await picker.getByRole('link').count()).toBe(2);
    expect(await picker.locator('[aria-current=true]').innerText()).toContain(DEMO.customers.alice);
    expect(await page.getByTestId('subscription').innerText()).toContain('Pro');

    await picker.getByRole('link', { name: new RegExp(DEMO.customers.aliceUppercase) }).click();
    await page.locator(`[aria-current=true]:has-text("${DEMO.customers.aliceUppercase}")`).waitFor();
    expect(page.url()).toContain(`customer=${DEMO.customers.aliceUppercase}`);
    expect(await page.getByTestId('subscription').innerText()).toMatch(/Starter[\s\S]*canceled/i);
    expect(await page.getByTestId('invoices').locator('tbody tr').count()).toBe(1);
    await context.close();
  });

  it('says when no customer has the email, when Stripe is down, and what a missing permission hides', async () => {
    const { context, page } = await signedInPage();
    await lookUp(page, DEMO.emails.nobody);
    expect(await page.getByTestId('insight-empty').textContent()).toBe('No Stripe customer with this email.');

    // An email not looked up before: a cached answer would not need Stripe.
    fx.fake.failNext({ status: 503, path: '/v1/customers' });
    await lookUp(page, DEMO.emails.heidi);
    expect(await page.getByTestId('insight-error').textContent()).toBe('Stripe is unavailable, try again.');
    fx.fake.clearFailures();
    await context.close();

    const restricted = await startHttpFixture();
    try {
      restricted.fake.restrictKey(TEST_STRIPE_KEY, ['rak_customer_balance_transaction_read']);
      const second = await signedInPage(restricted);
      await lookUp(second.page, DEMO.emails.frank);
      // Only the balance is missing, with who can fix it; the rest of the customer shows.
      const message = await second.page.getByTestId('unavailable-balance').textContent();
      expect(message).toBe('The credit balance is unavailable: the Stripe key lacks the “Customer balance transactions: Read” permission. The merchant must grant it to the restricted key.');
      expect(await second.page.getByTestId('subscription').count()).toBeGreaterThan(0);
      expect(await second.page.getByTestId('payment-method').textContent()).toMatch(/ending in/);
      expect(await second.page.content()).not.toMatch(/rak_|required permissions/);
      await second.context.close();
    } finally {
      await restricted.close();
    }
  });

  it('shows the plan price per interval, the discount, and how the next amount follows from them', async () => {
    const { context, page, violations } = await signedInPage();
    await lookUp(page, DEMO.emails.alice);
    const pro = page.getByTestId('subscription').filter({ hasText: 'Pro' }).first();
    expect(await pro.getByTestId('price').textContent()).toBe('$49.00 per month');
    expect(await pro.getByTestId('discount').textContent()).toBe('Discount $5 off forever: $5.00 off, no end date');
    const rows = await pro.getByTestId('breakdown').locator('tr').allTextContents();
    expect(rows).toEqual(['1 × Pro (at $49.00 / month)$49.00', '$5 off forever-$5.00', 'Due next$44.00']);
    expect(await pro.getByTestId('breakdown').locator('caption').textContent()).toBe('No tax is included in this amount.');
    await page.screenshot({ path: artifactPath('panel-discount.png'), fullPage: true });
    expect(violations).toEqual([]);
    await context.close();
  });

  it('copies a billing-portal link for the chosen customer', async () => {
    const { context, page } = await signedInPage();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: fx.url });
    await lookUp(page, DEMO.emails.carol);
    await page.getByRole('button', { name: 'Copy billing-portal link' }).click();
    await page.locator('[data-portal-status]', { hasText: 'Copied to the clipboard.' }).waitFor();
    const url = await page.getByLabel(/Billing-portal link/).inputValue();
    expect(url).toMatch(/^https:\/\/billing\.stripe\.com\/p\/session\//);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(url);
    const created = fx.fake.requests.filter((request) => request.path === '/v1/billing_portal/sessions').at(-1)!;
    expect(created.params.customer).toBe(DEMO.customers.carol);
    await context.close();
  });

  it('works from the keyboard, with visible focus', async () => {
    const { context, page } = await signedInPage();
    await page.getByLabel('Customer email').focus();
    await page.keyboard.type(DEMO.emails.dave);
    await page.keyboard.press('Tab');
    const outline = await page.evaluate(() => {
      const focused = document.activeElement as HTMLElement;
      return { text: focused.textContent, tag: focused.tagName, outline: getComputedStyle(focused).outlineStyle };
    });
    expect(outline).toEqual({ text: 'Look up', tag: 'BUTTON', outline: 'solid' });
    await page.keyboard.press('Enter');
    await page.getByTestId('insight').waitFor();
    expect(await page.getByRole('heading', { name: 'Dave Grohl' }).isVisible()).toBe(true);
    await context.close();
  });

  it('signs out: the session ends and the panel asks to sign in again', async () => {
    const { context, page } = await signedInPage();
    await lookUp(page, DEMO.emails.carol);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Staff key').waitFor();
    await page.goto(`${fx.url}/panel?email=${DEMO.emails.carol}`);
    await page.getByLabel('Staff key').waitFor();
    expect(await page.content()).not.toContain('Carol Danvers');
    await context.close();
  });
});

describe('sign-in across configurations', () => {
  it('signs in after embedding was switched on, whatever session cookies the browser kept', async () => {
    // The agent used the panel before PANEL_FRAME_ANCESTORS was set, on a process with another secret.
    const plain = await startHttpFixture({ PANEL_SESSION_SECRET: 'first-panel-session-secret-000000000000' });
    const context = await browser.newContext();
    context.setDefaultTimeout(8_000);
    const page = await context.newPage();
    const signIn = async (url: string) => {
      await page.goto(`${url}/panel`);
      await expect.poll(() => page.url()).toContain('/panel/sign-in');
      await page.getByLabel('Staff key').fill(STAFF);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForLoadState();
    };
    try {
      await signIn(plain.url);
      await page.getByLabel('Customer email').waitFor();
      // And a cookie from before the __Host- prefix, as an upgraded browser still holds.
      await context.addCookies([{ name: 'sbm_panel', value: 'stale.c2lnbmF0dXJl', url: `${plain.url}/panel`, httpOnly: true, secure: true, sameSite: 'Lax' }]);
    } finally {
      await plain.close();
    }
    // Restarted with embedding on and another secret: cookies are per host, so all of them come along.
    const embedded = await startHttpFixture({ PANEL_FRAME_ANCESTORS: helpdesk.origin, PANEL_SESSION_SECRET: 'second-panel-session-secret-00000000000' });
    try {
      await signIn(embedded.url);
      await page.getByLabel('Customer email').waitFor();
      expect(page.url()).not.toContain('/panel/sign-in');
      // A reload keeps the session: the browser now sends the current cookie, the stale ones are cleared.
      await page.reload();
      await page.getByLabel('Customer email').waitFor();
      const names = (await context.cookies(embedded.url)).map((cookie) => cookie.name);
      expect(names).toContain('__Host-sbm_panel_embedded');
      expect(names).not.toContain('__Host-sbm_panel');
    } finally {
      await context.close();
      await embedded.close();
    }
  });
});

describe('as a Chatwoot Dashboard App', () => {
  const appContext = (email: string, conversationId: number, hmacVerified: boolean) => ({
    event: 'appContext',
    data: {
      conversation: { id: conversationId, inbox_id: 1, status: 'open', meta: { sender: { id: 7, email, name: 'Visitor' }, channel: 'Channel::WebWidget', hmac_verified: hmacVerified } },
      contact: { id: 7, email, name: 'Visitor', phone_number: null, custom_attributes: {} },
      currentAgent: { id: 1, name: 'Agent', email: 'agent@merchant.example' },
    },
  });

  /** The helpdesk page: frames the panel and answers its fetch-info request as Chatwoot does. */
  function helpdeskPage(panelSrc: string, context: unknown): string {
    return `<!DOCTYPE html><html><head><title>Helpdesk</title>
<style>body{margin:0;font-family:sans-serif;display:flex}aside{width:360px;height:900px;border-left:1px solid #ccc}iframe{width:360px;height:900px;border:0}</style></head>
<body><main style="flex:1;padding:1rem">Conversation #4242</main><aside><iframe id="app" title="Billing" src="${panelSrc}" allow="clipboard-write"></iframe></aside>
<script>
window.fetchInfoRequests = 0;
window.sendContext = (ctx) => document.getElementById('app').contentWindow.postMessage(JSON.stringify(ctx), ${JSON.stringify(new URL(fx.url).origin)});
window.addEventListener('message', (event) => {
  if (event.data === 'chatwoot-dashboard-app:fetch-info') { window.fetchInfoRequests++; window.sendContext(${JSON.stringify(context)}); }
});
</script></body></html>`;
  }

  it('asks for the context, looks up the contact’s email, shows both verification badges, and fits 360 px', async () => {
    // The visitor verified carol@example.com by emailed code in Chatwoot conversation 4242 (host key host-a).
    await verifyConversationByCode(fx, HOST_A, '4242', DEMO.emails.carol);

    // The agent signs in inside the helpdesk: the session cookie is partitioned to that site.
    const context = await browser.newContext({ viewport: { width: 1100, height: 950 } });
    context.setDefaultTimeout(8_000);
    const page = await context.newPage();
    const violations = collectCspViolations(page);
    helpdesk.setHtml(helpdeskPage(`${fx.url}/panel?host=host-a`, appContext(DEMO.emails.carol, 4242, true)));
    await page.goto(helpdesk.origin);
    const panel = page.frameLocator('#app');
    await panel.getByLabel('Staff key').fill(STAFF);
    await panel.getByRole('button', { name: 'Sign in' }).click();
    await panel.getByTestId('insight').waitFor();
    expect(await page.evaluate(() => (window as unknown as { fetchInfoRequests: number }).fetchInfoRequests)).toBeGreaterThanOrEqual(1);
    expect(await panel.getByRole('heading', { name: 'Carol Danvers' }).isVisible()).toBe(true);
    expect(await panel.getByTestId('chatwoot-badge').textContent()).toBe('Chatwoot says identity verified');
    expect(await panel.getByTestId('conversation-badge').textContent()).toBe('Email verified in this conversation.');
    expect(await panel.getByLabel('Customer email').inputValue()).toBe(DEMO.emails.carol);

    // Readable at 360 px: nothing wider than the frame.
    const frame = page.frames().find((candidate) => candidate.url().startsWith(fx.url))!;
    const widths = await frame.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
    expect(widths.scroll).toBeLessThanOrEqual(widths.client);
    await page.screenshot({ path: artifactPath('panel-chatwoot.png') });

    // The agent opens another conversation: Chatwoot posts the new contact; not verified there.
    await page.evaluate((ctx) => (window as unknown as { sendContext: (c: unknown) => void }).sendContext(ctx), appContext(DEMO.emails.frank, 5151, false));
    await panel.getByRole('heading', { name: 'Frank Castle' }).waitFor();
    expect(await panel.getByTestId('chatwoot-badge').textContent()).toBe('Chatwoot says identity not verified');
    expect(await panel.getByTestId('conversation-badge').textContent()).toBe('Email not verified in this conversation.');

    // Another frame on the helpdesk page (same origin, but not the parent) posts a context: ignored.
    const looked: string[] = [];
    page.on('request', (request) => request.url().includes('/panel/card') && looked.push(new URL(request.url()).searchParams.get('email') ?? ''));
    await page.evaluate((ctx) => {
      const intruder = document.createElement('iframe');
      intruder.srcdoc = `<script>parent.frames[0].postMessage(${JSON.stringify(JSON.stringify(ctx))}, '*'); parent.postMessage('intruder-done', '*');<\/script>`;
      return new Promise<void>((resolve) => {
        window.addEventListener('message', (event) => event.data === 'intruder-done' && resolve());
        document.body.appendChild(intruder);
      });
    }, appContext(DEMO.emails.alice, 6161, true));
    await page.evaluate((ctx) => (window as unknown as { sendContext: (c: unknown) => void }).sendContext(ctx), appContext(DEMO.emails.dave, 7171, false));
    await panel.getByRole('heading', { name: 'Dave Grohl' }).waitFor();
    expect(looked).toEqual([DEMO.emails.dave]);
    expect(violations).toEqual([]);
    await context.close();
  });

  it('the message never signs anyone in: without a staff session the frame shows sign-in', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    helpdesk.setHtml(helpdeskPage(`${fx.url}/panel?host=host-a`, appContext(DEMO.emails.carol, 4242, true)));
    await page.goto(helpdesk.origin);
    const panel = page.frameLocator('#app');
    await panel.getByLabel('Staff key').waitFor();
    expect(await panel.locator('body').innerText()).not.toContain('Carol');
    await context.close();
  });

  it('a site not in PANEL_FRAME_ANCESTORS cannot frame the panel', async () => {
    const { context, page } = await signedInPage();
    stranger.setHtml(helpdeskPage(`${fx.url}/panel?host=host-a`, appContext(DEMO.emails.carol, 4242, true)));
    const blocked = new Promise<void>((resolve) => page.on('console', (message) => /frame-ancestors/.test(message.text()) && resolve()));
    await page.goto(stranger.origin);
    await blocked;
    const panelFrame = page.frames().find((candidate) => candidate !== page.mainFrame());
    const content = panelFrame ? await panelFrame.content().catch(() => '') : '';
    expect(content).not.toContain('Carol Danvers');
    expect(content).not.toContain('data-testid="mode-badge"');
    expect(await page.evaluate(() => (window as unknown as { fetchInfoRequests: number }).fetchInfoRequests)).toBe(0);
    await context.close();
  });
});
