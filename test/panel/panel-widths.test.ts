/**
 * Every panel page at a phone (360 px), a helpdesk side panel or tablet (800 px) and a desktop
 * (1,280 px) width, in headless Debian Chromium: no page scrolls sideways, and every amount of
 * money is on screen — not hidden, not past the window's edge, not cut off by a box around it.
 * The customer page is the fullest one: an email the assistant has answered about (so "What the
 * assistant showed" has rows), two records sharing it, a breakdown, and locked email codes.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { AuditTrail } from '../../src/audit/audit-trail.js';
import { DEMO } from '../../src/demo/fake-stripe/index.js';
import { openTestStore, tempDirAfterAll, testTrail } from '../support/audit.js';
import { artifactPath, launchChromium } from '../support/browser.js';
import { HOST_A, IDENTITY_SECRET, STAFF, startHttpFixture, verifyConversationByCode, type HttpFixture } from '../support/http-harness.js';

const WIDTHS = [360, 800, 1280] as const;
const ISSUER = 'https://accounts.merchant-with-a-long-domain-name.example.test';
/** As long as the conversation ids some helpdesks send: the badge and audit rows must still fit. */
const CONVERSATION = 'conversation-4f1c9a7e2b3d4e5f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f9';

const tempDir = tempDirAfterAll('sbm-panel-widths-');
let browser: Browser;
let fx: HttpFixture;
let trail: AuditTrail;

function tokenFor(email: string): Promise<string> {
  return new SignJWT({ email }).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISSUER).setIssuedAt().setExpirationTime('10m').sign(new TextEncoder().encode(IDENTITY_SECRET));
}

async function askAs(tool: string, headers: Record<string, string>): Promise<void> {
  const response = await fetch(`${fx.url}/v1/tools/${tool}`, { method: 'POST', headers: { authorization: `Bearer ${HOST_A}`, 'content-type': 'application/json', ...headers }, body: '{}' });
  expect(((await response.json()) as { is_error: boolean }).is_error, tool).toBe(false);
}

/** Ten wrong codes for `email` across two chats: code verification is locked for it (issue 20). */
async function lockEmailCodes(email: string): Promise<void> {
  const post = async (conversation: string, tool: string, body: unknown) =>
    (await fetch(`${fx.url}/v1/tools/${tool}`, { method: 'POST', headers: { authorization: `Bearer ${HOST_A}`, 'x-conversation-id': conversation, 'content-type': 'application/json' }, body: JSON.stringify(body) })).json();
  for (const conversation of ['guess-1', 'guess-2']) {
    const before = fx.mailer.messages.length;
    await post(conversation, 'verify_email_start', { email });
    await expect.poll(() => fx.mailer.messages.length).toBeGreaterThan(before);
    const right = fx.mailer.messages.at(-1)!.code;
    for (let i = 0; i < 5; i++) await post(conversation, 'verify_email_confirm', { code: right === '000000' ? '111111' : '000000' });
  }
}

beforeAll(async () => {
  trail = await testTrail(await openTestStore('sqlite', { dir: tempDir() }));
  fx = await startHttpFixture({ IDENTITY_ISSUER: ISSUER }, { audit: trail });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await fx?.close();
  await trail?.close();
});

/** The audit records and the lock the customer page shows; made once, inside the first test (expect.poll needs a test). */
let populated: Promise<void> | undefined;
async function assistantAnswered(): Promise<void> {
  // The assistant answers alice by identity token and by emailed code, carol by token.
  const aliceToken = { 'x-customer-token': await tokenFor(DEMO.emails.alice), 'x-conversation-id': 'chat-token' };
  for (const tool of ['get_subscription_status', 'get_billing_info', 'get_invoice_history', 'get_payment_history', 'get_upcoming_invoice', 'get_credit_balance', 'get_billing_portal_link']) {
    await askAs(tool, aliceToken);
  }
  await verifyConversationByCode(fx, HOST_A, CONVERSATION, DEMO.emails.alice);
  await askAs('get_customer_overview', { 'x-conversation-id': CONVERSATION });
  await askAs('get_invoice_history', { 'x-customer-token': await tokenFor(DEMO.emails.carol) });
  await lockEmailCodes(DEMO.emails.alice);
  await trail.flush();
}

/** Where the page does not fit the window; an empty list when it does. Runs in the page. */
function layoutProblems(): { problems: string[]; amounts: number } {
  const problems: string[] = [];
  const width = document.documentElement.clientWidth;
  const scrollWidth = document.scrollingElement!.scrollWidth;
  if (scrollWidth > width || scrollWidth > window.innerWidth) problems.push(`the page is ${scrollWidth} px wide in a ${width} px window`);
  const amounts = Array.from(document.querySelectorAll<HTMLElement>('[data-amount]'));
  for (const amount of amounts) {
    const box = amount.getBoundingClientRect();
    const name = `amount "${amount.textContent}"`;
    if (!amount.checkVisibility({ visibilityProperty: true, opacityProperty: true }) || box.width === 0 || box.height === 0) {
      problems.push(`${name} is not shown`);
      continue;
    }
    if (box.left < 0 || box.right > width + 0.5) problems.push(`${name} is outside the window (${Math.round(box.left)}–${Math.round(box.right)} px of ${width})`);
    for (let outer = amount.parentElement; outer && outer !== document.documentElement; outer = outer.parentElement) {
      const style = getComputedStyle(outer);
      if (style.overflowX === 'visible' && style.overflowY === 'visible') continue;
      const clip = outer.getBoundingClientRect();
      if (box.left < clip.left - 0.5 || box.right > clip.right + 0.5 || box.top < clip.top - 0.5 || box.bottom > clip.bottom + 0.5) {
        problems.push(`${name} is cut off by <${outer.tagName.toLowerCase()} class="${outer.className}"> (overflow ${style.overflowX})`);
      }
    }
  }
  return { problems, amounts: amounts.length };
}

async function fits(page: Page, what: string, width: number): Promise<number> {
  const { problems, amounts } = await page.evaluate(layoutProblems);
  expect(problems, `${what} at ${width} px`).toEqual([]);
  return amounts;
}

describe('every panel page fits the window', () => {
  it.each(WIDTHS)('at %i px: no sideways scroll, every amount on screen', async (width) => {
    await (populated ??= assistantAnswered());
    const context = await browser.newContext({ viewport: { width, height: 800 } });
    context.setDefaultTimeout(8_000);
    const page = await context.newPage();
    try {
      // Signed out: the sign-in page, then its error after a wrong key.
      await page.goto(`${fx.url}/panel/sign-in`);
      await fits(page, 'sign-in', width);
      await page.getByLabel('Staff key').fill('not-a-staff-key-0000000000000000000');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').filter({ hasText: 'That is not a valid staff key.' }).waitFor();
      await fits(page, 'sign-in refused', width);
      await page.getByLabel('Staff key').fill(STAFF);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByLabel('Customer email').waitFor();
      await fits(page, 'empty search', width);

      await page.goto(`${fx.url}/panel?email=not-an-email`);
      await page.getByRole('alert').waitFor();
      await fits(page, 'search with a malformed email', width);

      // The customer page, as a helpdesk opens it for a conversation.
      await page.goto(`${fx.url}/panel?email=${encodeURIComponent(DEMO.emails.alice)}&conversation=${CONVERSATION}&host=host-a`);
      await page.getByTestId('insight').waitFor();
      expect(await page.getByTestId('disclosure').count()).toBeGreaterThanOrEqual(8);
      expect(await page.getByTestId('disclosures').innerText()).toContain(`Identity token from ${ISSUER}`);
      expect(await page.getByTestId('code-lock').isVisible()).toBe(true);
      expect(await page.getByTestId('conversation-badge').isVisible()).toBe(true);
      expect(await page.locator('[data-testid=breakdown] [data-amount]').allTextContents()).toEqual(['$49.00', '-$5.00', '$44.00']);
      expect(await page.locator('[data-testid=invoices] [data-amount]').count()).toBe(4);
      await page.screenshot({ path: artifactPath(`panel-${width}.png`), fullPage: true });
      expect(await fits(page, 'alice’s customer page', width)).toBeGreaterThanOrEqual(12);

      // The other record with her email, chosen in place (the fragment the script loads).
      await page.getByRole('link', { name: new RegExp(DEMO.customers.aliceUppercase) }).click();
      await page.locator(`[aria-current=true]:has-text("${DEMO.customers.aliceUppercase}")`).waitFor();
      await fits(page, 'alice’s second record', width);

      // Past due (needs attention, a payment page), credit, and yen.
      for (const email of [DEMO.emails.carol, DEMO.emails.frank, DEMO.emails.erin]) {
        await page.goto(`${fx.url}/panel?email=${encodeURIComponent(email)}`);
        await page.getByTestId('insight').waitFor();
        expect(await fits(page, email, width)).toBeGreaterThan(0);
      }

      // Nobody with the email, and Stripe down.
      await page.goto(`${fx.url}/panel?email=${encodeURIComponent(DEMO.emails.nobody)}`);
      await page.getByTestId('insight-empty').waitFor();
      await fits(page, 'no customer', width);
      fx.fake.failNext({ status: 503, path: '/v1/customers' });
      await page.goto(`${fx.url}/panel?email=${encodeURIComponent(`not-cached-${width}@example.com`)}`);
      await page.getByTestId('insight-error').waitFor();
      fx.fake.clearFailures();
      await fits(page, 'Stripe unavailable', width);
    } finally {
      await context.close();
    }
  }, 60_000);
});
