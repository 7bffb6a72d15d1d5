import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../src/demo/fake-stripe/index.js';
import { UNVERIFIED_IDENTITY_NOTICE } from '../../src/tools/lib/run-tool.js';
import { customerPrincipal } from '../../src/verify/principal.js';
import { actionsFixtures, EXAMPLE_POLICY, type ActionsFixture } from '../support/actions.js';
import { HOST_A } from '../support/http-harness.js';
import { connectClient, structured, type ConnectedClient } from '../support/mcp-harness.js';
import { sampleArgs } from '../support/tool-args.js';

/*
 * The model reads a tool's text content (and /v1/tools' `text`), not its structured result: the
 * text carries the answer once, as sentences, and names everything the next step needs.
 */

const textOf = (result: CallToolResult) => result.content.map((part) => (part.type === 'text' ? part.text : '')).join('\n');

/** Every string in a structured result, with the key it sits under. */
function leaves(value: unknown, key = ''): Array<[string, string]> {
  if (typeof value === 'string') return [[key, value]];
  if (Array.isArray(value)) return value.flatMap((item) => leaves(item, key));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([name, item]) => leaves(item, name));
  return [];
}

const ID = /^(in|ch|sub|req|price|cus)_[A-Za-z0-9_-]+$/;

/** Ids the text leaves out on purpose: an invoice's subscription (its description names the plan). */
const NOT_NEEDED = new Set(['get_invoice_history subscription_id']);

const fixture = actionsFixtures();
let fx: ActionsFixture;
let alice: ConnectedClient;
beforeAll(async () => {
  fx = await fixture({ policy: { ...EXAMPLE_POLICY, retry_payment: { enabled: true }, plan_change: { enabled: true, max_amount: { usd: 10_000 } } } });
  alice = await connectClient({ customer: DEMO.emails.alice }, { env: { WRITE_TOOLS: 'all' }, runtime: fx.runtime });
});
afterAll(async () => {
  await alice?.close();
  await fx?.close();
});

describe('what the model reads of an answer', () => {
  it('is the summary alone, naming every id and link of the answer, for every tool alice can call', async () => {
    const { tools } = await alice.client.listTools();
    let answered = 0;
    for (const tool of tools.filter((candidate) => !candidate.name.startsWith('verify_email_'))) {
      const result = (await alice.call(tool.name, sampleArgs(tool.name))) as CallToolResult;
      if (result.isError) continue;
      answered += 1;
      const text = textOf(result);
      // No copy of the JSON beside the sentences.
      expect(text, tool.name).not.toContain('{"');
      const output = structured(result);
      for (const [key, value] of leaves(output)) {
        if (ID.test(value) && !NOT_NEEDED.has(`${tool.name} ${key}`)) expect(text, `${tool.name}: ${key} ${value}`).toContain(value);
        // One link per invoice (its page, which also offers the PDF); every other link is in the text.
        if (value.startsWith('https://') && key !== 'invoice_pdf') expect(text, `${tool.name}: ${key}`).toContain(value);
      }
    }
    expect(answered).toBeGreaterThan(15);
  });

  it('lists the 5 latest invoices with amount, status and one link each, and more when asked', async () => {
    const five = (await alice.call('get_invoice_history')) as CallToolResult;
    const { invoices } = structured<{ invoices: Array<{ id: string; number?: string; status: string; total: { formatted: string }; hosted_invoice_url?: string; invoice_pdf?: string }> }>(five);
    expect(invoices).toHaveLength(5);
    const lines = textOf(five).split('\n').filter((line) => line.startsWith('- '));
    expect(lines).toHaveLength(5);
    invoices.forEach((invoice, index) => {
      const line = lines[index]!;
      expect(line).toContain(invoice.id);
      if (invoice.number) expect(line).toContain(`"${invoice.number}"`);
      expect(line).toContain(`${invoice.total.formatted} ${invoice.status}`);
      if (invoice.hosted_invoice_url) expect(line).toContain(invoice.hosted_invoice_url);
      if (invoice.invoice_pdf) expect(line).not.toContain(invoice.invoice_pdf);
    });

    const two = (await alice.call('get_invoice_history', { limit: 2 })) as CallToolResult;
    expect(textOf(two).split('\n').filter((line) => line.startsWith('- '))).toHaveLength(2);
    expect(textOf(two)).toContain('Older invoices exist: ask again with a larger limit');
    expect(textOf(five)).not.toContain('Older invoices exist');
  });

  it('gives the overview with her plan, next payment, card and invoices, not one line', async () => {
    const result = (await alice.call('get_customer_overview')) as CallToolResult;
    const overview = structured<{ subscriptions: Array<{ id: string; next_payment?: { amount: { formatted: string }; date: string } }> }>(result);
    const pro = overview.subscriptions.find((sub) => sub.id === 'sub_DemoAlicePro')!;
    const text = textOf(result);
    expect(text).toContain('sub_DemoAlicePro "Pro", $49.00 per month, active');
    expect(text).toContain(`next payment ${pro.next_payment!.amount.formatted} on ${pro.next_payment!.date.slice(0, 10)}`);
    expect(text).toContain('Visa ending in 4242');
    expect(text).toContain('"ALICE-0003" in_DemoAlice0003');
    expect(text).toContain('Recent payment issues:');
  });

  it('names the price ids a plan change needs, and the amount the change makes due', async () => {
    const plans = textOf((await alice.call('get_available_plans')) as CallToolResult);
    expect(plans).toContain(`${DEMO.prices.teamMonthly} "Team": $99.00 per month`);
    const result = (await alice.call('preview_plan_change', { price: DEMO.prices.teamMonthly })) as CallToolResult;
    const { preview } = structured<{ preview: { date: string; amount_due: { formatted: string } } }>(result);
    expect(textOf(result)).toContain(`Next invoice ${preview.date.slice(0, 10)}: ${preview.amount_due.formatted} due`);
  });

  it('says over /v1/tools what it says over MCP, with the full data in `result`', async () => {
    const token = await fx.token(DEMO.emails.alice);
    const response = await fetch(`${fx.url}/v1/tools/get_invoice_history`, {
      method: 'POST',
      headers: { authorization: `Bearer ${HOST_A}`, 'x-customer-token': token, 'content-type': 'application/json' },
      body: '{}',
    });
    const body = (await response.json()) as { text: string; result: { invoices: unknown[] } };
    expect(body.text).toBe(textOf((await alice.call('get_invoice_history')) as CallToolResult));
    expect(body.result.invoices).toHaveLength(5);
  });

  it('still tells the model first when the customer was matched by a typed email (trust-email)', async () => {
    const session = await connectClient(customerPrincipal(DEMO.emails.alice, 'trust-email'), { runtime: fx.runtime });
    const result = (await session.call('get_subscription_status')) as CallToolResult;
    await session.close();
    expect(textOf(result).split('\n')[0]).toBe(UNVERIFIED_IDENTITY_NOTICE);
    expect(structured(result).identity_notice).toBe(UNVERIFIED_IDENTITY_NOTICE);
  });
});
