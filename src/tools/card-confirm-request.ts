import { cardRequestInput, cardRequestOutput, decideFromCard } from './lib/card-requests.js';
import { defineTool } from './lib/define-tool.js';

export default defineTool({
  name: 'card_confirm_request',
  title: 'Billing card: confirm a request',
  description: "Behind the billing card's Confirm button: the person confirms their refund, credit, pause, plan change or payment request, proven by the confirmation token only the card was given. Only the card calls it.",
  audience: 'customer',
  visibility: 'app',
  action: 'any',
  discloses: ['refunds', 'credit_balance', 'subscription'],
  permissions: ['rak_customer_read'],
  inputSchema: cardRequestInput,
  outputSchema: cardRequestOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(input, ctx) {
    return decideFromCard(ctx, input.token, 'confirm');
  },
  summarize(output) {
    return output.message;
  },
});
