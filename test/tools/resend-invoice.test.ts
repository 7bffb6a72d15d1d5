import { describe, expect, it } from 'vitest';
import { DEMO } from '../../src/demo/fake-stripe/index.js';
import { ALL_TOOLS, selectTools } from '../../src/tools/registry.js';
import { useFakeStripe } from '../support/fake-stripe-msw.js';
import { connectClient, errorText, structured, type ConnectedClient } from '../support/mcp-harness.js';

const stripe = useFakeStripe({ now: 1_790_000_000 });

interface Result {
  invoice: { id: string; number?: string; status: string; hosted_invoice_url?: string; invoice_pdf?: string };
  outcome: string;
  note: string;
}

const sends = () => stripe.fake().requests.filter((r) => r.method === 'POST' && /^\/v1\/invoices\/[^/]+\/send$/.test(r.path));
const numberOf = (id: string) => stripe.fake().store.invoices.get(id)!.number!;

async function withClient<T>(who: Parameters<typeof connectClient>[0], run: (client: ConnectedClient) => Promise<T>, options: Parameters<typeof connectClient>[1] = {}): Promise<T> {
  const session = await connectClient(who, options);
  try {
    return await run(session);
  } finally {
    await session.close();
  }
}

describe('resend_invoice', () => {
  it('emails an open send_invoice invoice once, with an idempotency key, and refuses a second send within 10 minutes', async () => {
    const number = numberOf(DEMO.invoices.daveSendInvoice);
    await withClient({ customer: DEMO.emails.dave }, async (client) => {
      const first = structured<Result>(await client.call('resend_invoice', { invoice: number }));
      expect(first).toMatchInlineSnapshot(`
        {
          "invoice": {
            "amount_due": {
              "amount": 9900,
              "currency": "usd",
              "formatted": "$99.00",
            },
            "due_date": "2026-10-11T14:13:20.000Z",
            "hosted_invoice_url": "https://invoice.stripe.com/i/acct_1DemoFakeAccount/test_DemoDaveSendInvoice",
            "id": "in_DemoDaveSendInvoice",
            "invoice_pdf": "https://pay.stripe.com/invoice/acct_1DemoFakeAccount/test_DemoDaveSendInvoice/pdf",
            "number": "DAVE-0002",
            "status": "open",
          },
          "note": "The invoice was emailed to the billing email on file. It can take a few minutes to arrive; ask the customer to check spam. They can also open it at the link.",
          "outcome": "sent",
          "summary": "Invoice \"DAVE-0002\" emailed again.",
        }
      `);
      const second = structured<Result>(await client.call('resend_invoice', { invoice: number.toLowerCase() }));
      expect(second.outcome).toBe('recently_sent');
      expect(second.invoice.hosted_invoice_url).toBe(first.invoice.hosted_invoice_url);
    });
    expect(sends()).toHaveLength(1);
    expect(sends()[0]!.idempotencyKey).toMatch(new RegExp(`^resend_invoice:${DEMO.invoices.daveSendInvoice}:[0-9a-f-]{36}$`));
    expect(stripe.fake().store.sentInvoices.map((s) => s.invoice)).toEqual([DEMO.invoices.daveSendInvoice]);
  });

  it('accepts the invoice id as well as the number', async () => {
    const result = await withClient({ customer: DEMO.emails.dave }, async (client) => structured<Result>(await client.call('resend_invoice', { invoice: DEMO.invoices.daveSendInvoice })));
    expect(result.outcome).toBe('sent');
    expect(sends()).toHaveLength(1);
  });

  it('lets the customer retry when Stripe failed to send', async () => {
    await withClient({ customer: DEMO.emails.dave }, async (client) => {
      stripe.fake().failNext({ status: 500, path: /\/send$/ });
      expect(errorText(await client.call('resend_invoice', { invoice: DEMO.invoices.daveSendInvoice }))).toMatch(/temporarily unavailable/);
      expect(structured<Result>(await client.call('resend_invoice', { invoice: DEMO.invoices.daveSendInvoice })).outcome).toBe('sent');
    });
    expect(stripe.fake().store.sentInvoices).toHaveLength(1);
  });

  it.each([
    ['a paid invoice', DEMO.emails.alice, DEMO.invoices.alicePaid[0], /already paid/, true],
    ['an open invoice charged automatically', DEMO.emails.carol, DEMO.invoices.carolOpen, /charged automatically/, true],
    ['a draft', DEMO.emails.alice, DEMO.invoices.aliceDraft, /still a draft/, false],
  ] as const)('returns links instead of sending %s', async (_label, email, invoiceId, note, hasLinks) => {
    const result = await withClient({ customer: email }, async (client) => structured<Result>(await client.call('resend_invoice', { invoice: invoiceId })));
    expect(result.outcome).toBe('not_sendable');
    expect(result.note).toMatch(note);
    expect(Boolean(result.invoice.hosted_invoice_url && result.invoice.invoice_pdf)).toBe(hasLinks);
    expect(sends()).toEqual([]);
  });

  it("answers another customer's invoice exactly like a nonexistent one", async () => {
    const [byNumber, byId, missing] = await withClient({ customer: DEMO.emails.alice }, async (client) => [
      errorText(await client.call('resend_invoice', { invoice: numberOf(DEMO.invoices.daveSendInvoice) })),
      errorText(await client.call('resend_invoice', { invoice: DEMO.invoices.daveSendInvoice })),
      errorText(await client.call('resend_invoice', { invoice: 'NOPE-9999' })),
    ]);
    expect(byNumber).toBe(missing);
    expect(byId).toBe(missing);
    expect(missing).toMatch(/No invoice with that number/);
    expect(sends()).toEqual([]);
  });

  it('finds invoices on every record of the customer', async () => {
    const result = await withClient({ customer: DEMO.emails.alice }, async (client) => structured<Result>(await client.call('resend_invoice', { invoice: numberOf(DEMO.invoices.aliceUppercase) })));
    expect(result.invoice.id).toBe(DEMO.invoices.aliceUppercase);
  });

  it('rejects input that is neither a number nor an id', async () => {
    const text = await withClient({ customer: DEMO.emails.dave }, async (client) => errorText(await client.call('resend_invoice', { invoice: 'in_x" OR 1=1' })));
    expect(text).toMatch(/Invalid arguments/);
  });

  it('is not listed, and cannot be called, unless WRITE_TOOLS enables it', async () => {
    const tools = selectTools({ allowlist: [], writeTools: [] }, ALL_TOOLS);
    await withClient(
      { customer: DEMO.emails.dave },
      async (client) => {
        const names = (await client.client.listTools()).tools.map((tool) => tool.name);
        expect(names).not.toContain('resend_invoice');
        expect(names).toContain('cancel_subscription');
        const result = await client.call('resend_invoice', { invoice: DEMO.invoices.daveSendInvoice });
        expect(result.isError).toBe(true);
      },
      { tools },
    );
    expect(sends()).toEqual([]);
  });
});
