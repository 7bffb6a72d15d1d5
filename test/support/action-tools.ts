/**
 * Helpers for the action tools' tests (request_refund, request_credit, pause/resume,
 * get_request_status) on top of actions.ts: the person's confirmation through the host's channel,
 * the stored requests of a customer, and what the model can read of an answer.
 */
import { expect } from 'vitest';
import { parseConfirmationToken } from '../../src/actions/confirmation-secret.js';
import type { ConfirmOutcome } from '../../src/actions/engine.js';
import type { ActionRequest } from '../../src/actions/requests.js';
import { customerPrincipal } from '../../src/verify/principal.js';
import type { ActionsFixture, ToolAnswer } from './actions.js';

/** The request view a successful action tool answered with. */
export function requestOf(answer: ToolAnswer): { id: string; state: string; kind: string; next: string; preview: { summary: string; when: string; amount?: { formatted: string } }; approval_because?: string[]; stripe_object_id?: string } {
  expect(answer.body.is_error, JSON.stringify(answer.body.error)).toBe(false);
  return answer.body.result!.request as ReturnType<typeof requestOf>;
}

/** Everything of an answer the model reads: all but the `confirmation` beside it. */
export function modelVisible(answer: ToolAnswer): string {
  const { confirmation: _handedToPerson, ...rest } = answer.body;
  return JSON.stringify(rest);
}

/** The secret never reaches the model: not in result, text or error; only in `confirmation`. */
export function expectNoSecretForModel(answer: ToolAnswer): void {
  const token = answer.body.confirmation?.token;
  if (!token) return;
  const secret = parseConfirmationToken(token)!.secret;
  expect(modelVisible(answer)).not.toContain(secret);
  expect(JSON.stringify(answer.body.confirmation)).toContain(secret);
}

/** The person's click on the host's button (POST /v1/requests/{id}/confirm does the same). */
export async function confirmAsHost(fx: ActionsFixture, email: string, answer: ToolAnswer): Promise<ConfirmOutcome> {
  const handoff = answer.body.confirmation;
  expect(handoff, 'a customer-mode action answer hands a confirmation to the person').toBeDefined();
  const { requestId, secret } = parseConfirmationToken(handoff!.token)!;
  return fx.runtime.actions!.confirm(requestId, secret, 'host', { owner: customerPrincipal(email, 'identity-token'), by: 'host:host-a', surface: 'tools' });
}

/** The requests stored for one Stripe customer record, newest first. */
export function storedRequests(fx: ActionsFixture, customerId: string): Promise<ActionRequest[]> {
  return fx.runtime.actions!.requests.listForCustomer(fx.runtime.actions!.tenantId, customerId);
}
