import type { ToolErrorKind } from '../errors.js';
import { memoizedByBytes } from '../memo.js';
import { sha256 } from '../sha256.js';
import type { Principal } from '../verify/principal.js';
import type { AuditEntry, AuditSurface, AuditWrite, DataCategory } from './record.js';

/**
 * A conversation key as the trail stores it. The README asks hosts for unguessable conversation
 * ids, so the hash cannot be walked back; `audit --conversation` hashes a key the same way.
 * Every call of a conversation is recorded under it: hashed once per conversation (the ids are in
 * memory anyway, as the call limits' keys), the most recent 1 MB of them kept.
 */
export const conversationHash: (conversation: string) => string = memoizedByBytes((conversation) => sha256(`sbm-conversation\n${conversation}`, 'hex').slice(0, 32), 1024 * 1024);

// Refusals are the server saying no (nothing was shown); errors are things that went wrong.
const REFUSALS: ReadonlySet<string> = new Set<ToolErrorKind | 'audit_unavailable'>(['not_verified', 'input', 'not_found', 'busy', 'refused', 'audit_unavailable']);

/**
 * Text as both databases store it byte for byte: no control characters (Postgres refuses NUL)
 * and no lone surrogate halves (stored as U+FFFD, which would then fail verification).
 */
export function storable(text: string): string;
export function storable(text: string | null): string | null;
export function storable(text: string | null): string | null {
  if (text === null) return null;
  // Most text (tool names, callers, emails, ids) is already storable: returned as it is, without a copy.
  if (text.length <= 500 && !CONTROL.test(text) && text.isWellFormed()) return text;
  return text.toWellFormed().replace(CONTROLS, '').slice(0, 500);
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f]/g;

export interface CallFacts {
  surface: AuditSurface;
  caller: string | undefined;
  conversation: string | undefined;
  principal: Principal;
  tool: string;
  /** undefined when the call succeeded; else the error kind. */
  failure: string | undefined;
  disclosed: readonly DataCategory[];
  write: AuditWrite | undefined;
  email: string | null;
  customerIds: readonly string[];
  tenantId?: string | null | undefined;
}

export function callEntry(facts: CallFacts): AuditEntry {
  const { principal } = facts;
  const customer = principal.kind === 'customer' ? principal : undefined;
  return {
    at: new Date().toISOString(),
    kind: 'call',
    tenant_id: storable(facts.tenantId ?? null),
    surface: facts.surface,
    caller: storable(facts.caller ?? (principal.kind === 'staff' ? `staff:${principal.name}` : null)),
    conversation: facts.conversation ? conversationHash(facts.conversation) : null,
    principal: principal.kind,
    verified_by: customer?.verifiedBy ?? null,
    issuer: storable(customer?.issuer ?? null),
    unverified: customer?.verifiedBy === 'trust-email',
    tool: storable(facts.tool),
    outcome: facts.failure === undefined ? 'ok' : REFUSALS.has(facts.failure) ? 'refused' : 'error',
    reason: facts.failure ?? null,
    disclosed: facts.failure === undefined ? [...facts.disclosed] : [],
    write: facts.failure === undefined ? (facts.write ?? null) : null,
    detail: null,
    email: storable(facts.email),
    customer_ids: [...new Set(facts.customerIds.map((id) => storable(id)))],
  };
}
