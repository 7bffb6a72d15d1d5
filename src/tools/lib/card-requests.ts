import { z } from 'zod';
import { parseConfirmationToken } from '../../actions/confirmation-secret.js';
import type { ActionRequest } from '../../actions/requests.js';
import { ToolError } from '../../errors.js';
import { actionsOf, requestViewSchema, viewRequest } from './action-requests.js';
import type { ToolContext } from './context.js';
import { defineTool } from './define-tool.js';
import { matching } from './schemas.js';

/**
 * The card's Confirm and Cancel buttons (card_confirm_request, card_cancel_request): the press is
 * the person's answer, proven by the request's confirmation secret, which reached the card in
 * the action tool's result `_meta` and never the model. Without that secret, for another
 * customer's request, or through another chatbot's key, nothing changes and the answer is the
 * same `not_found` as for an unknown request.
 */

export const CARD_REQUEST_NOT_FOUND = 'This request is not waiting for this customer any more, or the card is out of date. Ask the assistant for the request’s status.';

const cardRequestInput = {
  token: matching(z.string().trim(), /^req_[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{20,100}$/, "token is the request's confirmation token the card was given").describe("The request's confirmation token (the result's _meta)."),
};

const cardRequestOutput = {
  outcome: z.enum(['confirmed', 'canceled', 'expired', 'already_decided']),
  message: z.string(),
  request: requestViewSchema,
};

type Outcome = z.input<z.ZodObject<typeof cardRequestOutput>>;

function answer(outcome: Outcome['outcome'], request: ActionRequest): Outcome {
  const view = viewRequest(request);
  const message =
    outcome === 'expired'
      ? 'This request was not confirmed within 15 minutes, so nothing was changed. Ask again to start over.'
      : outcome === 'already_decided'
        ? `This request is already ${request.state.replaceAll('_', ' ')}. ${view.next}`
        : view.next;
  return { outcome, message, request: view };
}

async function decideFromCard(ctx: ToolContext, token: string, decision: 'confirm' | 'cancel'): Promise<Outcome> {
  // Staff confirm by making the call; a staff card shows no buttons.
  if (ctx.principal.kind !== 'customer') throw new ToolError('not_found', CARD_REQUEST_NOT_FOUND);
  const engine = actionsOf(ctx);
  const parsed = parseConfirmationToken(token);
  if (!parsed) throw new ToolError('not_found', CARD_REQUEST_NOT_FOUND);
  // This merchant's request, made through this chatbot (as the host's own button), for this customer.
  const request = await engine.findForCaller(parsed.requestId, ctx.caller);
  if (!request || !engine.owns(ctx.principal, request)) throw new ToolError('not_found', CARD_REQUEST_NOT_FOUND);
  if (decision === 'confirm') {
    const result = await engine.confirm(parsed.requestId, parsed.secret, 'card', { owner: ctx.principal, by: ctx.caller ?? 'customer', surface: ctx.surface });
    if (result.outcome === 'invalid') throw new ToolError('not_found', CARD_REQUEST_NOT_FOUND);
    return answer(result.outcome, result.request);
  }
  const result = await engine.cancelWithSecret(parsed.requestId, parsed.secret, 'card');
  if (result.outcome === 'invalid') throw new ToolError('not_found', CARD_REQUEST_NOT_FOUND);
  return answer(result.outcome, result.request);
}

/** card_confirm_request and card_cancel_request: the same tool but for the decision the press makes. */
export function cardRequestTool(decision: 'confirm' | 'cancel', text: { name: string; title: string; description: string }) {
  return defineTool({
    ...text,
    audience: 'customer',
    visibility: 'app',
    action: 'any',
    discloses: ['refunds', 'credit_balance', 'subscription'],
    permissions: ['rak_customer_read'],
    inputSchema: cardRequestInput,
    outputSchema: cardRequestOutput,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    handler: (input, ctx) => decideFromCard(ctx, input.token, decision),
    summarize: (output) => output.message,
  });
}
