/**
 * The billing card as a person meets it in a chat host with MCP Apps support, in headless Debian
 * Chromium: a real `serve --demo` process, an MCP client declaring the Apps extension speaking
 * for alice, the card's HTML from resources/read framed by ext-apps' AppBridge in a scripts-only
 * sandbox under the CSP the resource asks for (test/support/apps-host.ts), and real tool results
 * from the demo account. Each test checks what the card shows against the result the host
 * passed it, presses its buttons, and checks that the card itself made no network request.
 * Needs `npm run build` first (dist/cli.js, with the card built into it).
 */
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../src/demo/fake-stripe/seed.js';
import { artifactPath } from '../support/browser.js';
import { CARD_MIME_TYPE, CARD_URI, CONFIRMATION_META_KEY, startAppsHost, type AppsHost, type CardPage, type CardPageOptions } from '../support/apps-host.js';

/** Where the screenshot test writes: test-artifacts/ by default; scripts/card-screenshots.mjs points it at docs/images. */
const SCREENSHOT_DIR = process.env.CARD_SCREENSHOT_DIR;
const screenshotPath = (name: string) => (SCREENSHOT_DIR ? join(SCREENSHOT_DIR, name) : artifactPath(name));

/** Where the Stripe billing portal's sessions open (the demo's fake Stripe hands out the same host). */
const PORTAL_URL = /^https:\/\/billing\.stripe\.com\/p\/session\//;

interface Money {
  amount: number;
  currency: string;
  formatted: string;
}

let host: AppsHost;
const pages: CardPage[] = [];

beforeAll(async () => {
  host = await startAppsHost();
}, 60_000);
afterAll(async () => {
  await host?.close();
});
afterEach(async () => {
  await Promise.all(pages.splice(0).map((page) => page.close()));
});

/** Spaces as one plain space: Node's and Chromium's ICU differ in which no-break space they put in "49,00 $". */
const spaced = (text: string | null) => (text ?? '').replace(/[\s\u00a0\u202f]+/g, ' ').trim();

/** An amount as the person's locale writes it, from Stripe's minor units. */
function inLocale(money: Money, locale: string): string {
  const currency = money.currency.toUpperCase();
  const digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  return spaced(new Intl.NumberFormat(locale, { style: 'currency', currency }).format(money.amount / 10 ** digits));
}

/** A day as the person's locale and time zone write it. */
const dayInLocale = (iso: string, locale: string, timeZone: string) => spaced(new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone }).format(new Date(iso)));

/** Calls `tool` as alice through the Apps client, checks it declares the card, and opens the card on its result. */
async function show(tool: string, args: Record<string, unknown>, options: CardPageOptions = {}): Promise<{ cp: CardPage; result: CallToolResult; data: Record<string, any> }> {
  const definition = host.tools.find((candidate) => candidate.name === tool);
  expect(definition, `${tool} is listed`).toBeDefined();
  // A host finds the card through the tool's _meta before it calls the tool.
  expect((definition!._meta as { ui?: { resourceUri?: string } } | undefined)?.ui?.resourceUri).toBe(CARD_URI);
  const result = await host.call(tool, args);
  expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
  const cp = await host.open({ name: tool, arguments: args, result }, options);
  pages.push(cp);
  return { cp, result, data: result.structuredContent as Record<string, any> };
}

/** The card drew `view` (its root says which). */
async function expectView(cp: CardPage, view: string): Promise<void> {
  await cp.card.locator(`main[data-view="${view}"]`).waitFor();
}

/** Nothing left the browser and nothing was refused by the CSP: the card reached no origin. */
function expectNoNetwork(cp: CardPage): void {
  expect(cp.requests, 'requests the browser made while the card was shown').toEqual([]);
  expect(cp.cspViolations, 'CSP violations').toEqual([]);
}

/** The colour a person sees behind `selector`: the first non-transparent background up the tree (the host's page if none). */
async function backgroundAndText(cp: CardPage, selector: string): Promise<{ background: string; text: string }> {
  const inCard = await cp.frame().evaluate((target) => {
    const element = document.querySelector(target)!;
    const text = getComputedStyle(element).color;
    for (let node: Element | null = element; node; node = node.parentElement) {
      const background = getComputedStyle(node).backgroundColor;
      if (!/rgba\(.*, 0\)$/.test(background) && background !== 'transparent') return { background, text };
    }
    return { background: '', text };
  }, selector);
  if (inCard.background) return inCard;
  // A transparent card shows the host's page through it.
  return { background: await cp.page.evaluate(() => getComputedStyle(document.body).backgroundColor), text: inCard.text };
}

/** Relative luminance (0 black … 1 white) of an rgb()/rgba() colour. */
function luminance(color: string): number {
  const [r, g, b] = (color.match(/[\d.]+/g) ?? []).slice(0, 3).map((part) => {
    const value = Number(part) / 255;
    return value <= 0.03928 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0);
}

/** get_request_status for one request, as the model would read it afterwards. */
async function requestState(id: string): Promise<string | undefined> {
  const status = await host.call('get_request_status', { request: id });
  return (status.structuredContent as { requests: Array<{ state: string }> }).requests[0]?.state;
}

/** What get_payment_history says has been refunded of one payment, in minor units. */
async function refundedOf(charge: string): Promise<number> {
  const history = await host.call('get_payment_history', {});
  const payment = (history.structuredContent as { payments: Array<{ id: string; amount_refunded?: Money }> }).payments.find((candidate) => candidate.id === charge);
  expect(payment, `${charge} is in alice's payment history`).toBeDefined();
  return payment!.amount_refunded?.amount ?? 0;
}

describe('the billing card in an MCP Apps host', () => {
  it('resources/read serves one self-contained HTML card that asks for no domains', () => {
    expect(host.card.mimeType).toBe(CARD_MIME_TYPE);
    expect(host.card.meta.ui?.csp).toEqual({ connectDomains: [], resourceDomains: [] });
    expect(host.card.meta.ui?.prefersBorder).toBe(true);
    // Scripts and styles are inline: no element loads anything from anywhere.
    expect(host.card.html).not.toMatch(/<(script|link|img|iframe|source|video|audio)\b[^>]*\b(src|href)\s*=/i);
    expect(host.card.html).not.toMatch(/@import|url\(\s*['"]?(https?:)?\/\//i);
    expect(host.card.html).toMatch(/<script[\s>]/i);
  });

  it('overview: plan, status, next payment and invoices in the host’s locale (de-DE), with the test-data badge', async () => {
    const { cp, data } = await show('get_customer_overview', {}, { locale: 'de-DE', timeZone: 'Europe/Berlin' });
    await expectView(cp, 'overview');
    // The host framed it as hosts must: an opaque origin of its own, not this page's.
    expect(await cp.frame().evaluate(() => window.origin)).toBe('null');
    const subscription = data.subscriptions[0];
    expect(subscription, 'alice has a subscription').toBeDefined();
    await expect.poll(() => cp.card.getByTestId('plan').first().textContent()).toBe(subscription.plan);
    expect(await cp.card.getByTestId('status').first().getAttribute('data-status')).toBe(subscription.status);
    expect(spaced(await cp.card.getByTestId('status').first().textContent()).toLowerCase()).toBe(subscription.status.replace(/_/g, ' '));
    // "49,00 $": German digits and separator, not the server's en-US "$49.00".
    const next = spaced(await cp.card.getByTestId('next-payment').first().textContent());
    expect(next).toContain(inLocale(subscription.next_payment.amount, 'de-DE'));
    expect(next).toContain(dayInLocale(subscription.next_payment.date, 'de-DE', 'Europe/Berlin'));
    expect(next).not.toContain(subscription.next_payment.amount.formatted);
    expect(await cp.card.getByTestId('test-mode').isVisible()).toBe(true);
    expect(await cp.card.getByTestId('card-on-file').textContent()).toContain(data.payment_method.last4);

    const invoices = data.recent_invoices as Array<{ id: string; total: Money; created: string; invoice_pdf?: string; hosted_invoice_url?: string }>;
    expect(invoices.length).toBeGreaterThan(0);
    const rows = cp.card.getByTestId('invoice');
    expect(await rows.count()).toBe(invoices.length);
    for (const [index, invoice] of invoices.entries()) {
      const row = rows.nth(index);
      expect(await row.getAttribute('data-invoice-id')).toBe(invoice.id);
      expect(spaced(await row.getByTestId('invoice-amount').textContent())).toBe(inLocale(invoice.total, 'de-DE'));
      expect(spaced(await row.getByTestId('invoice-date').textContent())).toBe(dayInLocale(invoice.created, 'de-DE', 'Europe/Berlin'));
      expect(await row.locator('[data-link=pdf]').count()).toBe(invoice.invoice_pdf ? 1 : 0);
      expect(await row.locator('[data-link=pay], [data-link=view]').count()).toBe(invoice.hosted_invoice_url ? 1 : 0);
    }
    expectNoNetwork(cp);
  });

  it('invoice links open through the host (ui/open-link), never from the card', async () => {
    const args = { limit: 10, status: null };
    const { cp, data } = await show('get_invoice_history', args);
    await expectView(cp, 'invoices');
    const invoices = data.invoices as Array<{ id: string; total: Money; invoice_pdf?: string; hosted_invoice_url?: string }>;
    const rows = cp.card.getByTestId('invoice');
    expect(await rows.count()).toBe(invoices.length);
    expect(spaced(await rows.first().getByTestId('invoice-amount').textContent())).toBe(inLocale(invoices[0]!.total, 'en-US'));

    const withPdf = invoices.findIndex((invoice) => invoice.invoice_pdf && invoice.hosted_invoice_url);
    expect(withPdf, 'an invoice with a PDF and a page').toBeGreaterThanOrEqual(0);
    const row = rows.nth(withPdf);
    await row.locator('[data-link=pdf]').click();
    await expect.poll(() => cp.openedLinks).toEqual([invoices[withPdf]!.invoice_pdf]);
    await row.locator('[data-link=pay], [data-link=view]').click();
    await expect.poll(() => cp.openedLinks).toEqual([invoices[withPdf]!.invoice_pdf, invoices[withPdf]!.hosted_invoice_url]);
    // The sandboxed card did not navigate anywhere itself.
    expect(await cp.frame().evaluate(() => location.href)).toBe('about:srcdoc');
    expectNoNetwork(cp);
  });

  it('subscription view: the plan and its status', async () => {
    const { cp, data } = await show('get_subscription_status', {});
    await expectView(cp, 'subscription');
    const subscription = data.subscriptions[0];
    await expect.poll(() => cp.card.getByTestId('plan').first().textContent()).toBe(subscription.plan);
    expect(await cp.card.getByTestId('status').first().getAttribute('data-status')).toBe(subscription.status);
    expectNoNetwork(cp);
  });

  it('“Manage billing”, “Update card” and “Change plan” each fetch a fresh portal link and open it through the host', async () => {
    const { cp, data } = await show('get_customer_overview', {});
    await expectView(cp, 'overview');
    const purposes = ['manage', 'update_card', 'change_plan'] as const;
    for (const [index, purpose] of purposes.entries()) {
      await cp.card.locator(`button[data-action=${purpose}]`).click();
      await expect.poll(() => cp.openedLinks.length).toBe(index + 1);
      const call = cp.toolCalls[index]!;
      expect(call.name).toBe('card_portal_link');
      expect(call.arguments).toMatchObject({ purpose, card: expect.any(String), subscription_id: purpose === 'change_plan' ? data.subscriptions[0].id : null });
      const link = (call.result!.structuredContent as { url: string }).url;
      expect(link).toMatch(PORTAL_URL);
      expect(cp.openedLinks[index]).toBe(link);
    }
    // Three presses, three different sessions.
    expect(new Set(cp.openedLinks).size).toBe(3);
    expectNoNetwork(cp);
  });

  it('plan-change preview: what is due, and “Change plan” opens the portal', async () => {
    const args = { price: DEMO.prices.teamMonthly, quantity: null, subscription: null };
    const { cp, data } = await show('preview_plan_change', args);
    await expectView(cp, 'plan_change');
    expect(data.outcome).toBe('link_created');
    expect(spaced(await cp.card.getByTestId('preview-total').textContent())).toBe(inLocale(data.preview.amount_due, 'en-US'));
    await cp.card.locator('button[data-action=change_plan]').click();
    await expect.poll(() => cp.openedLinks.length).toBe(1);
    expect(cp.toolCalls[0]).toMatchObject({ name: 'card_portal_link', arguments: { purpose: 'change_plan', subscription_id: data.subscription.id } });
    expect(cp.openedLinks[0]).toMatch(PORTAL_URL);
    expectNoNetwork(cp);
  });

  it('a refund request: Confirm pressed twice carries it out once', async () => {
    const charge = DEMO.actions.aliceDuplicateCharge;
    const refundedBefore = await refundedOf(charge);
    const { cp, data, result } = await show('request_refund', { payment: charge, amount: 1000, reason: 'duplicate' });
    await expectView(cp, 'request');
    const id = data.request.id as string;
    const handoff = result._meta?.[CONFIRMATION_META_KEY] as { request_id: string; token: string } | undefined;
    expect(handoff, 'the result hands the card a confirmation').toMatchObject({ request_id: id });
    // The card's secret travels in _meta only: the model reads content and structuredContent.
    expect(JSON.stringify([result.content, result.structuredContent])).not.toContain(handoff!.token);
    const request = cp.card.getByTestId('request');
    expect(await request.getByTestId('request-state').getAttribute('data-state')).toBe('awaiting_confirmation');
    expect(spaced(await request.getByTestId('request-summary').textContent())).toBe(spaced(data.request.preview.summary));
    expect(await cp.card.locator('button[data-action=confirm]').isVisible()).toBe(true);
    expect(await cp.card.locator('button[data-action=cancel]').isVisible()).toBe(true);

    // Two presses as fast as a mouse makes them.
    await cp.card.locator('button[data-action=confirm]').dblclick();
    await cp.card.locator('[data-testid=request-state]:not([data-state=awaiting_confirmation])').waitFor();
    expect(await cp.card.getByTestId('request-state').getAttribute('data-state')).toBe('done');
    expect(await cp.card.locator('button[data-action=confirm], button[data-action=cancel]').count()).toBe(0);
    expect(cp.toolCalls.map((call) => call.name)).toEqual(['card_confirm_request']);

    expect(await requestState(id)).toBe('done');
    expect(await refundedOf(charge)).toBe(refundedBefore + 1000);
    expectNoNetwork(cp);

    // Asked again later, the request's card shows it done, with nothing left to press.
    const { cp: later } = await show('get_request_status', { request: id });
    await expectView(later, 'request');
    expect(await later.card.locator(`[data-testid=request][data-request-id="${id}"] [data-testid=request-state]`).getAttribute('data-state')).toBe('done');
    expect(await later.card.locator('button[data-action=confirm], button[data-action=cancel]').count()).toBe(0);
    expectNoNetwork(later);
  });

  it('another request’s Cancel cancels it, and nothing is refunded', async () => {
    const charge = DEMO.actions.alicePartlyRefundedCharge;
    const refundedBefore = await refundedOf(charge);
    const { cp, data } = await show('request_refund', { payment: charge, amount: 1000, reason: 'requested_by_customer' });
    await expectView(cp, 'request');
    await cp.card.locator('button[data-action=cancel]').click();
    await cp.card.locator('[data-testid=request-state][data-state=canceled]').waitFor();
    expect(await cp.card.locator('button[data-action=confirm], button[data-action=cancel]').count()).toBe(0);
    expect(cp.toolCalls.map((call) => call.name)).toEqual(['card_cancel_request']);
    expect(await requestState(data.request.id)).toBe('canceled');
    expect(await refundedOf(charge)).toBe(refundedBefore);
    expectNoNetwork(cp);
  });

  it('keyboard: Tab reaches Confirm and Enter presses it', async () => {
    const { cp, data } = await show('request_credit', { amount: 500, currency: null, reason: 'The outage on Monday' });
    await expectView(cp, 'request');
    let focused: string | null = null;
    for (let presses = 0; presses < 40 && focused !== 'confirm'; presses++) {
      await cp.page.keyboard.press('Tab');
      focused = await cp.frame().evaluate(() => document.activeElement?.getAttribute('data-action') ?? null);
    }
    expect(focused, 'Tab reached the Confirm button').toBe('confirm');
    // Twice, as a held key repeats: one confirmation all the same.
    await cp.page.keyboard.press('Enter');
    await cp.page.keyboard.press('Enter');
    await cp.card.locator('[data-testid=request-state]:not([data-state=awaiting_confirmation])').waitFor();
    expect(cp.toolCalls.map((call) => call.name)).toEqual(['card_confirm_request']);
    // A credit always waits for the merchant's approval under the demo's policy.
    expect(await cp.card.getByTestId('request-state').getAttribute('data-state')).toBe('awaiting_approval');
    expect(await requestState(data.request.id)).toBe('awaiting_approval');
    expectNoNetwork(cp);
  });

  it('a tool error shows as an alert with the server’s words and no buttons', async () => {
    const args = { payment: 'ch_NotOneOfAlicesPayments', amount: null, reason: 'duplicate' };
    const result = await host.call('request_refund', args);
    expect(result.isError).toBe(true);
    const text = (result.content as Array<{ type: string; text?: string }>).find((part) => part.type === 'text')?.text ?? '';
    expect(text).not.toBe('');
    const cp = await host.open({ name: 'request_refund', arguments: args, result });
    pages.push(cp);
    const alert = cp.card.locator('[role=alert]');
    await alert.waitFor();
    expect(spaced(await alert.textContent())).toContain(spaced(text));
    expect(await cp.card.locator('button[data-action]').count()).toBe(0);
    expectNoNetwork(cp);
  });

  it('at 320 px wide: nothing scrolls sideways and every button is on screen', async () => {
    for (const [tool, args, view] of [
      ['get_customer_overview', {}, 'overview'],
      ['request_credit', { amount: 700, currency: null, reason: 'Narrow screen check' }, 'request'],
    ] as const) {
      const { cp } = await show(tool, args, { width: 320 });
      await expectView(cp, view);
      const layout = await cp.frame().evaluate(() => ({ scrollWidth: document.scrollingElement!.scrollWidth, clientWidth: document.documentElement.clientWidth }));
      expect(layout.scrollWidth, `${view}: the card's width`).toBeLessThanOrEqual(layout.clientWidth);
      expect(layout.clientWidth).toBeLessThanOrEqual(320);
      const buttons = cp.card.locator('button');
      expect(await buttons.count()).toBeGreaterThan(0);
      for (const button of await buttons.all()) {
        expect(await button.isVisible()).toBe(true);
        const box = (await button.boundingBox())!;
        expect(box.x, `${await button.textContent()}: left edge`).toBeGreaterThanOrEqual(0);
        expect(box.x + box.width, `${await button.textContent()}: right edge`).toBeLessThanOrEqual(320);
      }
      // Amounts are whole on screen, not pushed past the edge.
      for (const money of await cp.card.locator('[data-testid=invoice-amount], [data-testid=next-payment]').all()) {
        const box = (await money.boundingBox())!;
        expect(box.x).toBeGreaterThanOrEqual(0);
        expect(box.x + box.width, `${await money.textContent()}: right edge`).toBeLessThanOrEqual(320);
      }
      expectNoNetwork(cp);
    }
  });

  it('follows the host’s theme: dark background with light text, and back when the host switches', async () => {
    const { cp } = await show('get_customer_overview', {}, { theme: 'dark' });
    await expectView(cp, 'overview');
    const dark = await backgroundAndText(cp, '[data-testid=plan]');
    expect(luminance(dark.background), `background ${dark.background}`).toBeLessThan(0.2);
    expect(luminance(dark.text), `text ${dark.text}`).toBeGreaterThan(0.6);

    await cp.setTheme('light');
    await expect.poll(async () => luminance((await backgroundAndText(cp, '[data-testid=plan]')).background)).toBeGreaterThan(0.8);
    expect(luminance((await backgroundAndText(cp, '[data-testid=plan]')).text)).toBeLessThan(0.2);
    expectNoNetwork(cp);
  });

  it('a dark host that sends no style variables still gets a dark card (the card’s own colours)', async () => {
    const { cp } = await show('get_customer_overview', {}, { theme: 'dark', hostStyles: false });
    await expectView(cp, 'overview');
    const dark = await backgroundAndText(cp, '[data-testid=plan]');
    expect(luminance(dark.background), `background ${dark.background}`).toBeLessThan(0.2);
    expect(luminance(dark.text), `text ${dark.text}`).toBeGreaterThan(0.6);
    expectNoNetwork(cp);
  });

  it('screenshots: the overview light and dark, a request at 320 px', async () => {
    const shots: Array<[string, string, Record<string, unknown>, string, CardPageOptions]> = [
      ['billing-card-overview-light.png', 'get_customer_overview', {}, 'overview', { theme: 'light', width: 480 }],
      ['billing-card-overview-dark.png', 'get_customer_overview', {}, 'overview', { theme: 'dark', width: 480 }],
      ['billing-card-request-320.png', 'request_refund', { payment: DEMO.actions.aliceDuplicateCharge, amount: 2000, reason: 'duplicate' }, 'request', { theme: 'light', width: 320 }],
    ];
    for (const [file, tool, args, view, options] of shots) {
      const { cp } = await show(tool, args, options);
      await expectView(cp, view);
      // The host has grown the frame to the height the card asked for, so the shot holds the whole card.
      await expect.poll(() => cp.frame().evaluate(() => document.documentElement.scrollHeight <= window.innerHeight)).toBe(true);
      // Chromium paints a frame only near the window: the window grows to the whole card first.
      const height = Math.ceil((await cp.page.locator('#card-frame').boundingBox())!.height);
      await cp.page.setViewportSize({ width: options.width!, height });
      await cp.page.locator('#card-frame').screenshot({ path: screenshotPath(file) });
      expectNoNetwork(cp);
    }
  });
});
