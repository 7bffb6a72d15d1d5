import { describe, expect, it } from 'vitest';
import { DEMO } from '../../src/demo/fake-stripe/index.js';
import { useFakeStripe } from '../support/fake-stripe-msw.js';
import { connectClient, errorText, callOnce, type Who } from '../support/mcp-harness.js';

const stripe = useFakeStripe({ now: 1_790_000_000 });

interface Invoice {
  id: string;
  number?: string;
  status: string;
  total: { formatted: string };
  hosted_invoice_url?: string;
  invoice_pdf?: string;
  links_note?: string;
  subscription_id?: string;
  created: string;
}
interface Result {
  invoices: Invoice[];
  more_available: boolean;
  summary: string;
}

const invoicesOf = (who: Who, args: Record<string, unknown> = {}) => callOnce<Result>(who, 'get_invoice_history', args);

describe('get_invoice_history', () => {
  it('renders a zero-decimal (JPY) history compactly, with links and the subscription from parent', async () => {
    expect(await invoicesOf({ customer: DEMO.emails.erin })).toMatchInlineSnapshot(`
      {
        "invoices": [
          {
            "amount_due": {
              "amount": 2000,
              "currency": "jpy",
              "formatted": "¥2,000",
            },
            "amount_paid": {
              "amount": 2000,
              "currency": "jpy",
              "formatted": "¥2,000",
            },
            "amount_remaining": {
              "amount": 0,
              "currency": "jpy",
              "formatted": "¥0",
            },
            "created": "2026-09-01T14:13:20.000Z",
            "description": "1 × Pro monthly (JPY)",
            "hosted_invoice_url": "https://invoice.stripe.com/i/acct_1DemoFakeAccount/test_DemoErin0002",
            "id": "in_DemoErin0002",
            "invoice_pdf": "https://pay.stripe.com/invoice/acct_1DemoFakeAccount/test_DemoErin0002/pdf",
            "number": "ERIN-0002",
            "paid_at": "2026-09-01T14:13:20.000Z",
            "period": {
              "end": "2026-10-01T14:13:20.000Z",
              "start": "2026-09-01T14:13:20.000Z",
            },
            "status": "paid",
            "subscription_id": "sub_DemoErinJpy",
            "total": {
              "amount": 2000,
              "currency": "jpy",
              "formatted": "¥2,000",
            },
          },
          {
            "amount_due": {
              "amount": 2000,
              "currency": "jpy",
              "formatted": "¥2,000",
            },
            "amount_paid": {
              "amount": 2000,
              "currency": "jpy",
              "formatted": "¥2,000",
            },
            "amount_remaining": {
              "amount": 0,
              "currency": "jpy",
              "formatted": "¥0",
            },
            "created": "2026-08-02T14:13:20.000Z",
            "description": "1 × Pro monthly (JPY)",
            "hosted_invoice_url": "https://invoice.stripe.com/i/acct_1DemoFakeAccount/test_DemoErin0001",
            "id": "in_DemoErin0001",
            "invoice_pdf": "https://pay.stripe.com/invoice/acct_1DemoFakeAccount/test_DemoErin0001/pdf",
            "number": "ERIN-0001",
            "paid_at": "2026-08-02T14:13:20.000Z",
            "period": {
              "end": "2026-09-01T14:13:20.000Z",
              "start": "2026-08-02T14:13:20.000Z",
            },
            "status": "paid",
            "subscription_id": "sub_DemoErinJpy",
            "total": {
              "amount": 2000,
              "currency": "jpy",
              "formatted": "¥2,000",
            },
          },
        ],
        "more_available": false,
        "summary": "2 invoices, newest first.",
      }
    `);
  });

  it("merges all of one person's records (alice@ and Alice@), newest first", async () => {
    const result = await invoicesOf({ customer: DEMO.emails.alice });
    const ids = result.invoices.map((invoice) => invoice.id);
    expect(ids).toEqual([DEMO.invoices.aliceDraft, ...[...DEMO.invoices.alicePaid].reverse(), DEMO.invoices.aliceUppercase]);
    const created = result.invoices.map((invoice) => invoice.created);
    expect([...created].sort().reverse()).toEqual(created);
    // Another person with a look-alike email is never merged in.
    expect(ids).not.toContain(DEMO.invoices.aliceWork);
    expect(ids).not.toContain(DEMO.invoices.bobAlice);
  });

  it('says a draft has no link yet instead of returning null links', async () => {
    const result = await invoicesOf({ customer: DEMO.emails.alice });
    const draft = result.invoices.find((invoice) => invoice.id === DEMO.invoices.aliceDraft)!;
    expect(draft).toMatchObject({ status: 'draft', links_note: 'Draft: no link until the invoice is finalized.' });
    expect(draft).not.toHaveProperty('hosted_invoice_url');
    expect(draft).not.toHaveProperty('invoice_pdf');
    expect(draft).not.toHaveProperty('number');
    expect(JSON.stringify(result)).not.toContain('null');
  });

  it('filters by status and honours the limit across records', async () => {
    const paid = await invoicesOf({ customer: DEMO.emails.alice }, { status: 'paid', limit: 2 });
    expect(paid.invoices.map((invoice) => invoice.id)).toEqual([DEMO.invoices.alicePaid[2], DEMO.invoices.alicePaid[1]]);
    expect(paid.more_available).toBe(true);
    const open = await invoicesOf({ customer: DEMO.emails.carol }, { status: 'open' });
    expect(open.invoices).toHaveLength(1);
    expect(open.invoices[0]).toMatchObject({ id: DEMO.invoices.carolOpen, status: 'open', total: { formatted: '$19.00' } });
    const listCalls = stripe.fake().requests.filter((request) => request.path === '/v1/invoices');
    expect(listCalls.every((request) => request.params.status !== undefined)).toBe(true);
  });

  it('rejects a limit outside 1–24', async () => {
    const session = await connectClient({ customer: DEMO.emails.alice });
    expect(errorText(await session.call('get_invoice_history', { limit: 25 }))).toMatch(/limit/);
    await session.close();
  });

  it('never leaks metadata, emails, account name or other customers', async () => {
    const result = JSON.stringify(await invoicesOf({ customer: DEMO.emails.alice }, { limit: 24 }));
    for (const secret of [
      ...Object.keys(DEMO.secrets.aliceMetadata),
      DEMO.secrets.aliceMetadata.crm_note!,
      'enterprise-trial-upsell',
      DEMO.emails.alice,
      DEMO.emails.aliceUppercase,
      DEMO.emails.aliceWork,
      DEMO.emails.bobAlice,
      'Demo Merchant',
      'Alice Example',
    ]) {
      expect(result).not.toContain(secret);
    }
  });

  it('lets staff choose the customer by email (all records) or by customer_id (one record)', async () => {
    const byEmail = await invoicesOf('staff', { email: DEMO.emails.aliceUppercase });
    expect(byEmail.invoices).toHaveLength(5);
    const byId = await invoicesOf('staff', { customer_id: DEMO.customers.aliceUppercase });
    expect(byId.invoices.map((invoice) => invoice.id)).toEqual([DEMO.invoices.aliceUppercase]);
  });

  it('answers an empty history plainly', async () => {
    const result = await invoicesOf({ customer: DEMO.emails.bob }, { status: 'void' });
    expect(result).toEqual({ invoices: [], more_available: false, summary: 'No void invoices found.' });
  });
});
