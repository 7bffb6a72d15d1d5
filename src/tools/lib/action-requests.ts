/**
 * What every action tool shares: the request as the model sees it (never its confirmation
 * secret), what the customer must do next in plain words, and `proposeAndConfirm`, the one way
 * an action tool hands a proposal to the actions engine (src/actions/engine.ts).
 *
 * The confirmation goes to the person only: `ctx.handOff` (the host's `confirmation`, MCP
 * `_meta`), or the client's own question to the person (MCP form elicitation). Nothing this
 * module returns carries the token.
 */
import { z } from 'zod';
import { parseConfirmationToken } from '../../actions/confirmation-secret.js';
import type { Proposal } from '../../actions/engine.js';
import { ACTION_KINDS } from '../../actions/policy.js';
import type { ActionRequest, RequestKind } from '../../actions/requests.js';
import { REQUEST_STATES } from '../../actions/request-states.js';
import { ToolError } from '../../errors.js';
import { quoted } from '../../format/untrusted-text.js';
import type { ToolContext } from './context.js';
import { moneySchema } from './schemas.js';

export const ACTIONS_NOT_AVAILABLE_MESSAGE = 'Billing actions are not turned on for this account; the merchant’s support team can help.';

export const requestViewSchema = z.object({
  id: z.string(),
  kind: z.enum([...ACTION_KINDS, 'resume'] satisfies RequestKind[]),
  state: z.enum(REQUEST_STATES),
  preview: z.object({ summary: z.string(), when: z.string(), amount: moneySchema.optional(), subject: z.string().optional() }),
  approval_because: z.array(z.string()).optional().describe('why a staff member must approve it'),
  next: z.string().describe('what happens next, to tell the customer'),
  stripe_object_id: z.string().optional().describe('once done: the refund, balance transaction or subscription'),
  failure_reason: z.string().optional(),
  note: z.string().optional().describe("the merchant's note on a denial"),
  created_at: z.string(),
});

export type RequestView = z.input<typeof requestViewSchema>;

/** `a***@example.com`: enough for the customer to know which inbox, not enough to read out. */
export function maskedEmail(email: string): string {
  const at = email.lastIndexOf('@');
  return at <= 0 ? '***' : `${email[0]}***${email.slice(at)}`;
}

export interface ViewOptions {
  /** The address the confirmation link was emailed to, when it was. */
  emailedTo?: string | undefined;
  /** Staff see what staff do next (another staff key approves). */
  staff?: boolean;
  /** No button was handed to the person (an unproven email): the emailed link is the only way. */
  noButton?: boolean;
}

function doneText(request: ActionRequest): string {
  const preview = request.preview as { when?: unknown };
  const when = typeof preview.when === 'string' ? ` ${preview.when}.` : '';
  switch (request.kind) {
    case 'refund':
      return `Done: refund ${request.stripe_object_id ?? ''} was made. Refunds reach the card in 5–10 business days.`;
    case 'credit':
      return 'Done: the credit is on the account balance and is used for the next invoices.';
    case 'pause':
      return `Done: billing is paused.${when}`;
    case 'resume':
      return 'Done: billing has resumed.';
    case 'plan_change':
      return `Done.${when}`;
    case 'retry_payment':
      return 'Done: the invoice is paid.';
  }
}

/** What the customer (or staff) must do next, or what became of the request. */
export function nextStep(request: ActionRequest, options: ViewOptions = {}): string {
  switch (request.state) {
    case 'awaiting_confirmation': {
      const link = options.emailedTo ? `the link emailed to ${maskedEmail(options.emailedTo)}` : undefined;
      const where = link && options.noButton ? `${link},` : link ? `the button shown, or ${link},` : 'the button shown';
      return `Nothing has happened yet: the customer must confirm it themselves with ${where} within 15 minutes. It cannot be confirmed in this chat.`;
    }
    case 'awaiting_approval':
      return options.staff
        ? "Waiting for another staff member's approval (a staff key cannot approve its own request): the panel's Requests page or POST /v1/requests/{id}/approve."
        : "Confirmed. It now waits for the merchant's team to approve it; get_request_status shows their decision.";
    case 'executing':
      return 'Confirmed and being carried out now; get_request_status shows the outcome in a moment.';
    case 'done':
      return doneText(request);
    case 'failed':
      return `Not carried out: ${request.failure_reason ?? 'the billing system refused it.'} Nothing was changed.`;
    case 'denied':
      return `The merchant's team declined this request${request.note ? `: ${quoted(request.note)}` : '.'} Nothing was changed.`;
    case 'expired':
      return 'Not confirmed within 15 minutes, so nothing happened. Ask again to make a new request.';
    case 'canceled':
      return 'Canceled: nothing happened.';
  }
}

/** A stored request as a tool shows it: the preview, the state and what comes next; never a secret. */
export function viewRequest(request: ActionRequest, options: ViewOptions = {}): RequestView {
  const preview = request.preview as { summary?: unknown; when?: unknown; amount?: RequestView['preview']['amount']; subject?: unknown; approval_because?: unknown };
  const because = Array.isArray(preview.approval_because) ? preview.approval_because.filter((reason): reason is string => typeof reason === 'string') : [];
  return {
    id: request.id,
    kind: request.kind,
    state: request.state,
    preview: {
      summary: String(preview.summary ?? ''),
      when: String(preview.when ?? ''),
      ...(preview.amount ? { amount: preview.amount } : {}),
      ...(typeof preview.subject === 'string' ? { subject: preview.subject } : {}),
    },
    ...(because.length > 0 ? { approval_because: because } : {}),
    next: nextStep(request, options),
    ...(request.state === 'done' && request.stripe_object_id ? { stripe_object_id: request.stripe_object_id } : {}),
    ...(request.failure_reason ? { failure_reason: request.failure_reason } : {}),
    ...(request.state === 'denied' && request.note ? { note: request.note } : {}),
    created_at: request.created_at,
  };
}

/** The engine, or the answer that the merchant has not turned actions on. */
export function actionsOf(ctx: ToolContext): NonNullable<ToolContext['actions']> {
  if (!ctx.actions) throw new ToolError('not_available', ACTIONS_NOT_AVAILABLE_MESSAGE);
  return ctx.actions;
}

/**
 * Proposes a checked request and, in customer mode, puts its confirmation where only the
 * person can use it: asked directly where the client can (elicitation), else handed off to the
 * host's button or MCP `_meta`, and emailed by the engine when it can. Staff mode: the staff
 * call is the confirmation, so the engine carries it out (within auto_approve) or queues it.
 * Answers with the request's state after all that.
 */
export async function proposeAndConfirm(ctx: ToolContext, proposal: Proposal): Promise<RequestView> {
  const engine = actionsOf(ctx);
  const proposed = await engine.propose(proposal, { principal: ctx.principal, caller: ctx.caller, conversation: ctx.conversation, surface: ctx.surface });
  let request = proposed.request;
  const handoff = proposed.confirmation;
  if (handoff && ctx.askPerson) {
    const answer = await ctx.askPerson({ message: `${proposal.preview.summary} ${proposal.preview.when}. Do you want to go ahead?` });
    const parsed = parseConfirmationToken(handoff.token);
    const by = ctx.caller ?? 'stdio';
    if (answer === 'confirm' && parsed) {
      const result = await engine.confirm(parsed.requestId, parsed.secret, 'elicitation', { owner: ctx.principal, by, surface: ctx.surface });
      if (result.outcome !== 'invalid') request = result.request;
    } else if (answer === 'cancel') {
      const result = await engine.cancel(request.id, by, ctx.principal);
      if (result.outcome !== 'not_found') request = result.request;
    }
  }
  // Still waiting for the person: their host's button or card gets the token (never the output).
  if (handoff && request.state === 'awaiting_confirmation') ctx.handOff(handoff);
  return viewRequest(request, { emailedTo: proposed.emailed ? (proposal.email ?? undefined) : undefined, staff: ctx.principal.kind === 'staff', noButton: handoff === undefined });
}

/** A tool's one-line answer about a request: its summary, then what comes next. */
export function summarizeRequest(request: z.output<typeof requestViewSchema>): string {
  const because = request.approval_because?.length ? ` Needs a staff approval: ${request.approval_because.map((reason) => reason.replace(/\.$/, '')).join('; ')}.` : '';
  const when = request.preview.when ? ` ${request.preview.when}.` : '';
  return `${request.preview.summary} (${request.state}, request ${request.id}).${when}${because}\n${request.next}`;
}
