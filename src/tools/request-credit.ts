import { z } from 'zod';
import { ToolError, UserInputError } from '../errors.js';
import { money } from '../format/money.js';
import { untrustedTextOrNull } from '../format/untrusted-text.js';
import { actionsOf, proposeAndConfirm, requestViewSchema, summarizeRequest } from './lib/action-requests.js';
import { defineTool } from './lib/define-tool.js';
import { boundedInteger, boundedString, matching, optionalInput } from './lib/schemas.js';

/** Long enough for "credit for the outage on 3 May"; the reason is the customer's words, kept short. */
const REASON_MAX = 120;

export default defineTool({
  name: 'request_credit',
  title: 'Request an account credit',
  description:
    "Asks for a credit to the customer's account balance, used for their next invoices (not money back to the card), within the merchant's policy. Nothing is credited until the customer confirms it themselves outside this chat; some credits also need the merchant's approval. The answer says what happens next.",
  audience: 'customer',
  card: 'request',
  action: 'credit',
  discloses: ['credit_balance'],
  permissions: ['rak_customer_read', 'rak_customer_balance_transaction_write'],
  inputSchema: {
    amount: boundedInteger(1, 99_999_999).describe('The credit, in minor units of the currency (500 is $5.00).'),
    currency: optionalInput(matching(z.string().trim().toLowerCase(), /^[a-z]{3}$/, 'currency is a 3-letter ISO code such as usd')).describe(
      "3-letter currency code (usd). Leave null for the customer's billing currency.",
    ),
    reason: boundedString({ min: 1, max: REASON_MAX, trim: true }).describe(`Why, in a few words (up to ${REASON_MAX} characters); shown on the credit.`),
  },
  outputSchema: { request: requestViewSchema, summary: z.string() },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  async handler(input, ctx) {
    const engine = actionsOf(ctx);
    const target = await ctx.customer();
    // The newest record with a currency is the one the customer is billed on now.
    const record = target.customers.find((customer) => customer.currency) ?? target.customers[0];
    if (!record) throw new ToolError('not_found', 'No billing account was found for this customer.');
    const allowed = Object.keys(engine.policy()?.credit?.max_amount ?? {});
    const currency = input.currency ?? record.currency ?? (allowed.length === 1 ? allowed[0] : undefined);
    if (!currency) throw new UserInputError(`This customer has no billing currency yet: pass currency (${allowed.join(', ') || 'e.g. usd'}).`);
    if (record.currency && currency !== record.currency) {
      // Stripe keeps one balance per customer, in the customer's currency.
      throw new ToolError('refused', `This account is billed in ${record.currency.toUpperCase()}, so a credit can only be in ${record.currency.toUpperCase()}.`);
    }
    // The customer's words are data: one flat, bounded line, quoted on the Stripe transaction.
    const reason = untrustedTextOrNull(input.reason);
    if (!reason) throw new UserInputError('Give the reason in a few words the customer would read (it is shown on the credit).');
    const credit = money(input.amount, currency);
    const request = await proposeAndConfirm(ctx, {
      kind: 'credit',
      customer_id: record.id,
      email: target.email,
      check: { kind: 'credit', amount: input.amount, currency },
      params: { amount: input.amount, currency, description: `Account credit: ${JSON.stringify(reason)}` },
      preview: {
        summary: `A credit of ${credit.formatted} to your account balance, used for your next invoices`,
        when: 'The credit is on the balance as soon as it is carried out',
        amount: credit,
        subject: `account credit: ${JSON.stringify(reason)}`,
      },
    });
    return { request, summary: `Credit of ${credit.formatted}: ${request.state}.` };
  },
  summarize(output) {
    return summarizeRequest(output.request);
  },
});
