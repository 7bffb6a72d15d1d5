import type { SlimCharge } from '../cache/projections.js';
import { z } from 'zod';
import { maskCard, type MaskedPaymentMethod } from '../format/card.js';
import { isoDate } from '../format/dates.js';
import { money } from '../format/money.js';
import { quoted } from '../format/untrusted-text.js';
import { listAcrossRecords } from './lib/across-records.js';
import type { ToolContext } from './lib/context.js';
import { day } from './lib/answer-text.js';
import { defineTool } from './lib/define-tool.js';
import { boundedInteger, defaultedInput, isoDateSchema, maskedPaymentMethodSchema, moneySchema } from './lib/schemas.js';

const paymentSchema = z.object({
  id: z.string(),
  date: isoDateSchema,
  amount: moneySchema,
  status: z.string().describe('succeeded, failed or pending'),
  description: z.string().optional(),
  payment_method: maskedPaymentMethodSchema.optional(),
  failure_reason: z.string().optional(),
  refund: z.string().optional().describe('refund state in words'),
  amount_refunded: moneySchema.optional(),
  receipt_url: z.string().optional(),
  receipt_note: z.string().optional(),
});

type PaymentView = z.input<typeof paymentSchema>;

/**
 * Only brand, last4 and expiry leave this function: never the fingerprint, BIN, country,
 * network ids or checks that `payment_method_details.card` also carries.
 */
function maskChargePaymentMethod(details: SlimCharge['payment_method_details'] | null): MaskedPaymentMethod | undefined {
  if (!details) return undefined;
  const card = details.card;
  if (details.type === 'card' && card?.brand && card.last4) {
    return maskCard({ brand: card.brand, last4: card.last4, exp_month: card.exp_month, exp_year: card.exp_year }, card.wallet?.type ?? null);
  }
  const last4 = details.sepa_debit?.last4 ?? details.us_bank_account?.last4 ?? undefined;
  const label = details.type.replace(/_/g, ' ');
  return last4 ? { type: details.type, last4, description: `${label} ending in ${last4}` } : { type: details.type, description: label };
}

/**
 * Why a payment failed, in words the customer can act on. `failure_message` is Stripe's
 * customer-facing text; `seller_message` is meant for the merchant (it can mention risk
 * checks), so only staff see it. Stripe's own words are quoted, ours are not.
 */
function failureReason(charge: SlimCharge, ctx: ToolContext): string | undefined {
  if (charge.status !== 'failed') return undefined;
  const fromStripe = (ctx.principal.kind === 'staff' ? charge.outcome?.seller_message : undefined) ?? charge.failure_message;
  const reason = fromStripe
    ? `${quoted(fromStripe)}${/[.!?]$/.test(fromStripe) ? '' : '.'}`
    : charge.outcome?.type === 'issuer_declined'
      ? 'The card was declined by the bank.'
      : 'The payment did not go through.';
  return `${reason} Updating the payment method in the billing portal usually fixes this.`;
}

function refundOf(charge: SlimCharge): Pick<PaymentView, 'refund' | 'amount_refunded'> {
  if (charge.amount_refunded <= 0) return {};
  return {
    refund: charge.refunded ? 'Fully refunded.' : 'Partly refunded.',
    amount_refunded: money(charge.amount_refunded, charge.currency),
  };
}

function viewCharge(charge: SlimCharge, ctx: ToolContext): PaymentView {
  return {
    id: charge.id,
    date: isoDate(charge.created),
    amount: money(charge.amount, charge.currency),
    status: charge.status,
    description: charge.description ?? charge.calculated_statement_descriptor ?? undefined,
    payment_method: maskChargePaymentMethod(charge.payment_method_details),
    failure_reason: failureReason(charge, ctx),
    ...refundOf(charge),
    ...(charge.receipt_url ? { receipt_url: charge.receipt_url } : { receipt_note: 'No receipt link for this payment.' }),
  };
}

export default defineTool({
  name: 'get_payment_history',
  title: 'Payment history',
  description:
    "The customer's recent payments (charges), newest first: amount, status, card used (masked), why a payment failed, refunds, receipt links. Use for 'was I charged', 'why did my payment fail', 'where is my receipt', 'did I get my refund'. Read-only.",
  audience: 'customer',
  discloses: ['payments', 'refunds', 'payment_method.brand', 'payment_method.last4', 'payment_method.expiry'],
  permissions: ['rak_customer_read', 'rak_charge_read'],
  inputSchema: {
    limit: defaultedInput(boundedInteger(1, 24), 10).describe('How many payments (1–24, default 10).'),
  },
  outputSchema: {
    payments: z.array(paymentSchema),
    more_available: z.boolean().describe('older payments exist beyond this list'),
    summary: z.string(),
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
  async handler(input, ctx) {
    const { customers } = await ctx.customer();
    const { items, more } = await listAcrossRecords(customers, input.limit, (customer, limit) => ctx.reads.charges(customer, limit));
    const payments = items.map((charge) => viewCharge(charge, ctx));
    const failed = payments.filter((payment) => payment.status === 'failed').length;
    const refunded = payments.filter((payment) => payment.amount_refunded).length;
    const notes = [failed > 0 ? `${failed} failed` : '', refunded > 0 ? `${refunded} refunded` : ''].filter(Boolean);
    const summary =
      payments.length === 0
        ? 'No payments found.'
        : `${payments.length} payment${payments.length === 1 ? '' : 's'}, newest first${notes.length > 0 ? ` (${notes.join(', ')})` : ''}.`;
    return { payments, more_available: more, summary };
  },
  summarize(output) {
    // Every payment listed, with its id (request_refund takes it) and its receipt link; the card
    // is named once when every payment used the same one.
    const cards = new Set(output.payments.map((payment) => payment.payment_method?.description));
    const oneCard = cards.size === 1 && output.payments.length > 1 ? [...cards][0] : undefined;
    const lines = output.payments.map((payment) => {
      const card = payment.payment_method && !oneCard ? ` with ${payment.payment_method.description}` : '';
      const what = payment.description ? ` for ${quoted(payment.description)}` : '';
      const refund = payment.refund ? ` ${payment.refund.replace(/\.$/, '')}${payment.amount_refunded ? ` (${payment.amount_refunded.formatted})` : ''}.` : '';
      const failure = payment.failure_reason ? ` ${payment.failure_reason}` : '';
      const receipt = payment.receipt_url ? ` Receipt: ${payment.receipt_url}` : '';
      return `- ${payment.id} ${day(payment.date)}: ${payment.amount.formatted} ${payment.status}${what}${card}.${refund}${failure}${receipt}`;
    });
    const more = output.more_available ? ['Older payments exist: ask again with a larger limit (up to 24).'] : [];
    return [output.summary, ...(oneCard ? [`All with ${oneCard}.`] : []), ...lines, ...more].join('\n');
  },
});
