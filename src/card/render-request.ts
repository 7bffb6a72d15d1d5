/**
 * A request (refund, credit, pause, resume, plan change, payment retry): its preview and state,
 * and Confirm/Cancel when this result handed the card the person's confirmation for it
 * (`_meta["stripe-billing/confirmation"]`) and it is still waiting for them. After a press the
 * request is drawn again from the server's answer: once it has left awaiting_confirmation the
 * buttons are gone, so a second press cannot happen.
 */
import { el, row } from './dom.js';
import { formatDateTime } from './format.js';
import { amount, buttonRow, forPerson, header, statusChip, type RenderContext } from './render-common.js';
import type { RequestDecision, RequestResult, RequestView } from './types.js';

const KIND_TITLES: Record<string, string> = {
  refund: 'Refund',
  credit: 'Account credit',
  pause: 'Pause billing',
  resume: 'Resume billing',
  plan_change: 'Plan change',
  retry_payment: 'Payment retry',
};

/**
 * Answers to presses, by request id: a redraw (the host changed the locale) shows the request
 * as the server last described it, not as the original tool result did.
 */
const decisions = new Map<string, { request: RequestView; message: string }>();

/**
 * What the card says after a press. Confirmed or canceled: what now happens to the request (the
 * same words as its state shows); expired or already decided: the server's explanation.
 */
function decisionText(decision: RequestDecision, latest: RequestView): string {
  return decision.outcome === 'confirmed' || decision.outcome === 'canceled' ? nextText(latest, false) : forPerson(decision.message);
}

/** A new tool result starts afresh. */
export function forgetDecisions(): void {
  decisions.clear();
}

/** What happens next, said to the person (the tool's `next` is written for the model in the waiting states). */
function nextText(request: RequestView, canDecide: boolean): string {
  switch (request.state) {
    case 'awaiting_confirmation':
      return canDecide ? 'Nothing has happened yet. Confirm to go ahead, or cancel.' : 'Nothing has happened yet: it is waiting for your confirmation.';
    case 'awaiting_approval':
      return 'Confirmed. It now waits for the merchant’s team to approve it.';
    case 'executing':
      return 'Confirmed and being carried out now.';
    default:
      return forPerson(request.next ?? '');
  }
}

function requestBlock(request: RequestView, context: RenderContext, message?: string): HTMLElement {
  const confirmation = context.confirmation;
  const canDecide = request.state === 'awaiting_confirmation' && confirmation !== undefined && confirmation.request_id === request.id && typeof confirmation.token === 'string';
  const block = el(
    'article',
    { class: 'request', 'data-testid': 'request', 'data-request-id': request.id, 'data-kind': request.kind },
    el(
      'div',
      { class: 'title-row' },
      el('h2', {}, KIND_TITLES[request.kind] ?? 'Request'),
      statusChip(request.state, { 'data-testid': 'request-state', 'data-state': request.state }),
    ),
    el('p', { class: 'summary', 'data-testid': 'request-summary' }, request.preview.summary),
    request.preview.amount && row('Amount', amount(request.preview.amount, context, { 'data-testid': 'request-amount' })),
    // "When" is a sentence ("Refunds reach the card in 5–10 business days"): a line of its own, not a right-aligned value.
    request.preview.when && el('p', { class: 'muted', 'data-testid': 'request-when' }, request.preview.when),
    // The reasons themselves are written for staff; the customer needs to know a person decides.
    request.state === 'awaiting_confirmation' && request.approval_because && request.approval_because.length > 0 && el('p', { class: 'muted' }, 'After you confirm, the merchant’s team approves it before it is carried out.'),
    // After a press, its answer takes the place of "what happens next" (and gets the focus).
    message
      ? el('p', { class: 'next decision', role: 'status', 'data-testid': 'decision-message', tabindex: '-1' }, message)
      : el('p', { class: 'next', 'data-testid': 'request-next' }, nextText(request, canDecide)),
  );
  if (canDecide && confirmation) {
    block.append(el('p', { class: 'muted' }, `Confirm by ${formatDateTime(confirmation.expires_at, context.where)}.`));
    const confirm = el('button', { type: 'button', class: 'primary', 'data-action': 'confirm' }, 'Confirm');
    const cancel = el('button', { type: 'button', class: 'secondary', 'data-action': 'cancel' }, 'Cancel');
    const group = buttonRow('decision', confirm, cancel)!;
    const decided = (decision: RequestDecision) => {
      const latest = decision.request ?? request;
      const message = decisionText(decision, latest);
      decisions.set(request.id, { request: latest, message });
      const replacement = requestBlock(latest, context, message);
      block.replaceWith(replacement);
      // The pressed button is gone: keyboard focus moves to what happened.
      replacement.querySelector<HTMLElement>('[data-testid=decision-message]')?.focus();
    };
    confirm.addEventListener('click', () => void context.actions.decide('confirm', confirmation.token, [confirm, cancel], group, decided));
    cancel.addEventListener('click', () => void context.actions.decide('cancel', confirmation.token, [confirm, cancel], group, decided));
    block.append(group);
  }
  return block;
}

export function renderRequest(data: RequestResult, context: RenderContext): HTMLElement[] {
  const requests = data.request ? [data.request] : (data.requests ?? []);
  const title = data.request ? 'Your request' : 'Your requests';
  const parts: HTMLElement[] = [header(title, context)];
  if (requests.length === 0) parts.push(el('p', {}, 'No requests.'));
  parts.push(
    ...requests.map((request) => {
      const decided = decisions.get(request.id);
      return decided ? requestBlock(decided.request, context, decided.message) : requestBlock(request, context);
    }),
  );
  return parts;
}
