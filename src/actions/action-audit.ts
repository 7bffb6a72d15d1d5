/**
 * One audit record per step of an action request: requested (by which principal, through which
 * host and conversation), confirmed (by which channel), approved or denied (by which staff key,
 * with the note), executed (the Stripe object id) or failed, canceled, expired. The records join
 * the same keyed chain as the disclosure records (`kind: 'action'`); the request's id ties them
 * together. Never the confirmation secret.
 */
import { storable } from '../audit/call-entry.js';
import type { AuditEntry, AuditSurface } from '../audit/record.js';
import type { ActionRequest, ConfirmChannel } from './requests.js';

export const ACTION_STEPS = ['requested', 'confirmed', 'approved', 'denied', 'canceled', 'expired', 'executed', 'failed'] as const;
export type ActionStep = (typeof ACTION_STEPS)[number];

export interface StepFacts {
  /** `host:acme-bot`, `staff:alice`, `panel:alice`, `stdio`, `customer` (the email page), `system`. */
  by: string;
  surface?: AuditSurface | null;
  /** The raw conversation is never here: the request row already holds its hash. */
  channel?: ConfirmChannel | null;
  note?: string | null;
}

export function actionEntry(step: ActionStep, request: ActionRequest, facts: StepFacts): AuditEntry {
  const amount = typeof request.params.amount === 'number' ? request.params.amount : undefined;
  const currency = typeof request.params.currency === 'string' ? request.params.currency : undefined;
  return {
    at: new Date().toISOString(),
    kind: 'action',
    tenant_id: request.tenant_id,
    surface: facts.surface ?? null,
    caller: storable(facts.by),
    conversation: request.conversation,
    principal: request.principal,
    verified_by: null,
    issuer: null,
    unverified: false,
    tool: `action.${request.kind}`,
    outcome: step === 'failed' ? 'error' : step === 'denied' ? 'refused' : 'ok',
    reason: step === 'failed' ? storable(request.failure_reason) : null,
    disclosed: [],
    write: null,
    detail: {
      request: request.id,
      action: request.kind,
      step,
      state: request.state,
      ...(facts.channel ? { channel: facts.channel } : {}),
      ...(amount !== undefined ? { amount } : {}),
      ...(currency ? { currency } : {}),
      ...(facts.note ? { note: storable(facts.note) } : {}),
      ...(step === 'executed' && request.stripe_object_id ? { stripe_object: request.stripe_object_id } : {}),
    },
    email: request.email,
    customer_ids: [request.customer_id],
  };
}
