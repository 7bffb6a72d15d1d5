/**
 * Reading a stored request's preview where staff see it (the panel's Requests page, the approval
 * webhook): the one-line summary and the policy's reasons it needs an approval. The tools' own
 * view of a request is src/tools/lib/action-requests.ts.
 */
import type { ActionRequest } from './requests.js';

/** Staff notes (approve, deny) are kept in the trail and shown in the panel: short, one reason. */
export const MAX_NOTE_CHARS = 500;

/** The policy's reasons a request waits for staff, as the engine stored them in its preview. */
export function approvalBecause(request: ActionRequest): string[] {
  const because = request.preview.approval_because;
  return Array.isArray(because) ? because.filter((reason): reason is string => typeof reason === 'string') : [];
}

/** The preview's one-line summary ("Refund $74.00 of your $99.00 payment of …"), or the kind when there is none. */
export function previewSummary(request: ActionRequest): string {
  return typeof request.preview.summary === 'string' ? request.preview.summary : `A ${request.kind} request`;
}
