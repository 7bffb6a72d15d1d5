/**
 * The panel's Requests page in headless Chromium against the real HTTP server: a staff member
 * signs in, sees what waits for approval and why, approves (Stripe refunds, once) or denies with a
 * note, and the customer's page lists their requests. The trail records each decision.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../src/demo/fake-stripe/seed.js';
import { actionsFixtures, ALICE, type ActionsFixture } from '../support/actions.js';
import { artifactPath, collectCspViolations, launchChromium } from '../support/browser.js';
import { HOST_A, STAFF } from '../support/http-harness.js';

const fixture = actionsFixtures();
const A = DEMO.actions;
let browser: Browser;
let fx: ActionsFixture;

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => fx?.close());

/** A customer request confirmed on the host's button, now waiting for a staff approval. */
async function confirmedByAlice(tool: string, args: Record<string, unknown>): Promise<string> {
  const answer = await fx.asCustomer(ALICE, tool, args);
  expect(answer.body.is_error, JSON.stringify(answer.body.error)).toBe(false);
  const { request_id: id, token } = answer.body.confirmation!;
  const confirmed = await fetch(`${fx.url}/v1/requests/${id}/confirm`, {
    method: 'POST',
    headers: { authorization: `Bearer ${HOST_A}`, 'x-customer-token': await fx.token(ALICE), 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  expect(((await confirmed.json()) as { request: { state: string } }).request.state).toBe('awaiting_approval');
  return id;
}

async function signedIn(): Promise<{ context: BrowserContext; page: Page; violations: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
  context.setDefaultTimeout(8_000);
  const page = await context.newPage();
  const violations = collectCspViolations(page);
  await page.goto(`${fx.url}/panel`);
  await page.getByLabel('Staff key').fill(STAFF);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('Customer email').waitFor();
  return { context, page, violations };
}

async function actionSteps(id: string) {
  await fx.trail.flush();
  return (await fx.trail.store.find({ limit: 200 })).filter((row) => row.kind === 'action' && row.detail?.request === id).reverse();
}

describe('the Requests page', () => {
  it('shows what waits and why; Approve refunds once; Deny keeps the note; both are in the trail', async () => {
    fx = await fixture();
    const refund = await confirmedByAlice('request_refund', { payment: A.alicePartlyRefundedCharge, amount: null, reason: 'requested_by_customer' });
    const credit = await confirmedByAlice('request_credit', { amount: 800, currency: null, reason: 'goodwill' });
    const { context, page, violations } = await signedIn();

    await page.getByRole('navigation', { name: 'Panel' }).getByRole('link', { name: 'Requests' }).click();
    await page.getByRole('heading', { name: 'Requests', level: 1 }).waitFor();
    expect(await page.getByRole('heading', { name: 'Waiting for approval (2)' }).isVisible()).toBe(true);
    const waitingRefund = page.locator(`article#${refund}`);
    expect(await waitingRefund.getByRole('heading').innerText()).toBe('Refund $74.00');
    expect(await waitingRefund.getByTestId('request-summary').innerText()).toMatch(/^Refund \$74\.00 of your \$99\.00 payment of \d{4}-\d\d-\d\d to the Visa card ending 4242$/);
    expect(await waitingRefund.getByTestId('approval-because').innerText()).toMatch(/\$50\.00/);
    expect(await waitingRefund.innerText()).toContain(ALICE);
    expect(await waitingRefund.innerText()).toMatch(/host:host-a, confirmed by the customer \(host\)/);
    await page.screenshot({ path: artifactPath('panel-requests.png'), fullPage: true });

    const before = [...fx.fake.store.refunds.values()].filter((made) => made.charge === A.alicePartlyRefundedCharge).length;
    await waitingRefund.getByLabel('Note (optional)').fill('Checked with the customer.');
    await waitingRefund.getByRole('button', { name: 'Approve' }).click();
    const notice = page.getByTestId('request-notice');
    await notice.waitFor();
    expect(await notice.innerText()).toMatch(/^Approved and done: Refund \$74\.00 .* Stripe re_/);
    const refunds = [...fx.fake.store.refunds.values()].filter((made) => made.charge === A.alicePartlyRefundedCharge);
    expect(refunds).toHaveLength(before + 1);
    const stored = await fx.runtime.actions!.requests.get(refund);
    expect(stored).toMatchObject({ state: 'done', decided_by: 'staff:support', note: 'Checked with the customer.' });
    expect(refunds.map((made) => made.id)).toContain(stored!.stripe_object_id);
    expect(refunds.find((made) => made.id === stored!.stripe_object_id)?.amount).toBe(7400);
    expect(await page.locator(`[data-request="${refund}"] [data-testid=request-state]`).textContent()).toBe('done');
    expect(await page.getByRole('heading', { name: 'Waiting for approval (1)' }).isVisible()).toBe(true);

    // Reloading the result page posts again: the request has moved on, nothing is refunded twice.
    await page.reload();
    await notice.waitFor();
    expect(await notice.innerText()).toBe('This request is already done; nothing was changed.');
    expect([...fx.fake.store.refunds.values()].filter((made) => made.charge === A.alicePartlyRefundedCharge)).toHaveLength(before + 1);

    const waitingCredit = page.locator(`article#${credit}`);
    await waitingCredit.getByLabel('Why it is declined').fill('The outage credit was already given last month.');
    await waitingCredit.getByRole('button', { name: 'Deny' }).click();
    await page.getByTestId('request-notice').filter({ hasText: 'Denied' }).waitFor();
    expect(await page.getByRole('heading', { name: 'Waiting for approval (0)' }).isVisible()).toBe(true);
    expect(await fx.runtime.actions!.requests.get(credit)).toMatchObject({ state: 'denied', decided_by: 'staff:support', note: 'The outage credit was already given last month.' });
    expect([...fx.fake.store.balanceTransactions.values()].filter((made) => made.customer === DEMO.customers.alice)).toHaveLength(0);
    expect(await page.locator(`[data-request="${credit}"]`).innerText()).toContain('The outage credit was already given last month.');

    const approved = (await actionSteps(refund)).find((row) => row.detail?.step === 'approved');
    expect(approved).toMatchObject({ caller: 'staff:support', surface: 'panel', detail: { note: 'Checked with the customer.' } });
    expect((await actionSteps(refund)).map((row) => row.detail?.step)).toEqual(['requested', 'confirmed', 'approved', 'executed']);
    const denied = (await actionSteps(credit)).find((row) => row.detail?.step === 'denied');
    expect(denied).toMatchObject({ kind: 'action', caller: 'staff:support', surface: 'panel', outcome: 'refused', detail: { note: 'The outage credit was already given last month.' } });

    // The customer's page lists both, with their states.
    await page.getByRole('navigation', { name: 'Panel' }).getByRole('link', { name: 'Look up' }).click();
    await page.getByLabel('Customer email').fill(ALICE);
    await page.getByRole('button', { name: 'Look up' }).click();
    const section = page.getByTestId('customer-requests');
    await section.waitFor();
    const rows = await section.getByTestId('customer-request').allTextContents();
    expect(rows).toHaveLength(2);
    expect(rows.find((row) => row.includes('$74.00'))).toMatch(/done/);
    expect(rows.find((row) => row.includes('$8.00'))).toMatch(/denied[\s\S]*outage credit/);
    expect(violations).toEqual([]);
    await context.close();
  });

  it('the staff member whose key made a request cannot approve it here either; a deny without a note is refused', async () => {
    fx = await fixture();
    const made = await fx.asStaff('request_refund', { email: ALICE, payment: A.alicePartlyRefundedCharge, amount: null, reason: 'requested_by_customer' });
    const id = (made.body.result!.request as { id: string; state: string }).id;
    expect((made.body.result!.request as { state: string }).state).toBe('awaiting_approval');
    const { context, page } = await signedIn();
    await page.goto(`${fx.url}/panel/requests`);
    const waiting = page.locator(`article#${id}`);
    expect(await waiting.getByTestId('own-request').innerText()).toBe('You made this request, so another staff member approves it.');
    expect(await waiting.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    // A helpdesk's side panel is 360 px wide: nothing on the page is wider.
    await page.setViewportSize({ width: 360, height: 800 });
    const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
    expect(widths.scroll).toBeLessThanOrEqual(widths.client);
    await page.screenshot({ path: artifactPath('panel-requests-360.png'), fullPage: true });

    // A hand-made form post from the panel's own page (session and CSRF token) is refused all the same.
    const post = (action: 'approve' | 'deny', note: string) =>
      page.evaluate(
        async ({ id, action, note }) => {
          const form = new URLSearchParams({ csrf: document.body.dataset.csrf ?? '', note });
          const response = await fetch(`/panel/requests/${id}/${action}`, { method: 'POST', body: form });
          return { status: response.status, text: await response.text() };
        },
        { id, action, note },
      );
    const own = await post('approve', '');
    expect(own.status).toBe(403);
    expect(own.text).toContain('You made this request, so you cannot approve it: another staff member must.');
    const noNote = await post('deny', '  ');
    expect(noNote.status).toBe(400);
    expect(noNote.text).toContain('Say why it is declined');
    expect((await fx.runtime.actions!.requests.get(id))?.state).toBe('awaiting_approval');
    expect(fx.fake.requests.filter((request) => request.method === 'POST' && request.path === '/v1/refunds')).toHaveLength(0);

    // Without the session's CSRF token nothing is decided.
    const stale = await page.evaluate(async (id) => (await fetch(`/panel/requests/${id}/deny`, { method: 'POST', body: new URLSearchParams({ csrf: 'wrong', note: 'no' }) })).status, id);
    expect(stale).toBe(403);
    expect((await fx.runtime.actions!.requests.get(id))?.state).toBe('awaiting_approval');
    await context.close();
  });

  it('without an actions policy there is no Requests link, and the page says actions are off', async () => {
    fx = await fixture({ policy: undefined });
    const { context, page } = await signedIn();
    expect(await page.getByRole('navigation', { name: 'Panel' }).count()).toBe(0);
    const response = await page.goto(`${fx.url}/panel/requests`);
    expect(response?.status()).toBe(404);
    expect(await page.locator('main').innerText()).toContain('ACTIONS_POLICY');
    await context.close();
  });
});
