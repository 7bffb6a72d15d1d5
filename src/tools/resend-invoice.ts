import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { z } from 'zod';
import { isoDate } from '../format/dates.js';
import { money } from '../format/money.js';
import { quoted, untrustedTextOrNull } from '../format/untrusted-text.js';
import { ToolError } from '../errors.js';
import { defineTool } from './lib/define-tool.js';
import { findOwnInvoice } from './lib/own-invoice.js';
import { boundedString, isoDateSchema, matching, moneySchema } from './lib/schemas.js';

/** One message for "no such invoice" and "someone else's invoice", so numbers and ids cannot be probed. */
export const INVOICE_NOT_FOUND_MESSAGE =
  'No invoice with that number was found on this account. Check the number on the invoice email, or call get_invoice_history to list this customer’s invoices.';

/** At most one email per invoice in this window, across every conversation and process sharing the store. */
export const RESEND_COOLDOWN_MS = 10 * 60_000;

const NOT_SENDABLE_NOTES: Record<string, string> = {
  paid: 'This invoice is already paid, so it is not emailed again; here are its links to view or download it.',
  charge_automatically: 'This invoice is charged automatically to the payment method on file, so Stripe does not email it; the customer can view and pay it at the link.',
  draft: 'This invoice is still a draft: it has not been issued yet, so there is nothing to send or download.',
  void: 'This invoice was voided: nothing is owed on it. Its links are below for reference.',
  uncollectible: 'This invoice was marked uncollectible, so it is not emailed again; it can still be viewed and paid at the link.',
};

function linksOf(invoice: Stripe.Invoice): { hosted_invoice_url?: string; invoice_pdf?: string } {
  return {
    ...(invoice.hosted_invoice_url ? { hosted_invoice_url: invoice.hosted_invoice_url } : {}),
    ...(invoice.invoice_pdf ? { invoice_pdf: invoice.invoice_pdf } : {}),
  };
}

export default defineTool({
  name: 'resend_invoice',
  title: 'Resend invoice email',
  description:
    "Emails an open invoice (one the customer pays by bank transfer or from the invoice page) to the billing email again; for any other invoice it returns the links instead. Use for 'I never got my invoice'. Sends at most once per invoice per 10 minutes.",
  audience: 'customer',
  discloses: ['invoices'],
  writes: 'invoice_resent',
  write: true,
  permissions: ['rak_customer_read', 'rak_invoice_read', 'rak_invoice_write'],
  // The once-per-10-minutes claim per invoice.
  usesStore: true,
  inputSchema: {
    invoice: matching(boundedString({ min: 1, max: 64, trim: true }), /^[A-Za-z0-9_-]+$/, 'give the invoice number (e.g. ABCD-0002) or id (in_…)').describe(
      'The invoice number as printed (e.g. ABCD-0002) or its id (in_…).',
    ),
  },
  outputSchema: {
    invoice: z.object({
      id: z.string(),
      number: z.string().optional(),
      status: z.string(),
      amount_due: moneySchema,
      due_date: isoDateSchema.optional(),
      hosted_invoice_url: z.string().optional().describe('page where the customer can view and pay it'),
      invoice_pdf: z.string().optional(),
    }),
    outcome: z.enum(['sent', 'recently_sent', 'not_sendable']),
    note: z.string(),
    summary: z.string(),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(input, ctx) {
    const { customers } = await ctx.customer();
    const invoice = await findOwnInvoice(ctx, customers, input.invoice);
    if (!invoice) throw new ToolError('not_found', INVOICE_NOT_FOUND_MESSAGE);

    // Read live, not through the cache's projection: the number is text the merchant can set.
    const number = untrustedTextOrNull(invoice.number);
    const label = number ? quoted(number) : 'the draft invoice';
    const view = {
      id: invoice.id,
      number: number ?? undefined,
      status: invoice.status ?? 'unknown',
      amount_due: money(invoice.amount_due, invoice.currency),
      due_date: isoDate(invoice.due_date),
      ...linksOf(invoice),
    };

    if (invoice.collection_method !== 'send_invoice' || invoice.status !== 'open') {
      const reason = invoice.status === 'open' ? 'charge_automatically' : (invoice.status ?? 'draft');
      return {
        invoice: view,
        outcome: 'not_sendable' as const,
        note: NOT_SENDABLE_NOTES[reason] ?? 'This invoice cannot be emailed again; here are its links.',
        summary: `Invoice ${label} was not emailed (${invoice.status ?? 'unknown'}).`,
      };
    }

    const claimKey = `resend:${invoice.id}`;
    const claim = randomUUID();
    const claimed = await ctx.store.setIfAbsent(claimKey, claim, RESEND_COOLDOWN_MS);
    if (!claimed) {
      return {
        invoice: view,
        outcome: 'recently_sent' as const,
        note: 'This invoice was already emailed in the last few minutes, so it was not sent again. Emails can take a few minutes and may land in spam; meanwhile the customer can open it at the link.',
        summary: `Invoice ${label} was sent recently; not sent again.`,
      };
    }
    try {
      // One key per claim: the SDK's network retries of this send cannot email twice. Not a
      // time bucket: Stripe replays a saved failure (even a 500) for a reused key, which would
      // block the retry the catch below allows.
      await ctx.stripe.invoices.sendInvoice(invoice.id, {}, { idempotencyKey: `resend_invoice:${invoice.id}:${claim}` });
    } catch (error) {
      // Nothing was sent: let the customer try again rather than wait out the cooldown.
      await ctx.store.delete(claimKey);
      throw error;
    }
    return {
      invoice: view,
      outcome: 'sent' as const,
      note: 'The invoice was emailed to the billing email on file. It can take a few minutes to arrive; ask the customer to check spam. They can also open it at the link.',
      summary: `Invoice ${label} emailed again.`,
    };
  },
  summarize(output) {
    const { invoice } = output;
    const link = invoice.hosted_invoice_url ?? invoice.invoice_pdf;
    const facts = `Invoice ${invoice.id}: ${invoice.amount_due.formatted} due, ${invoice.status}${invoice.due_date ? `, due ${invoice.due_date.slice(0, 10)}` : ''}.`;
    return `${output.summary} ${output.note}\n${facts}${link ? ` ${link}` : ''}`;
  },
});
