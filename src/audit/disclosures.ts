/**
 * What the assistant showed about a customer, as support agents and staff API callers read it:
 * the panel's "What the assistant showed" section, /v1/insight and GET /v1/audit.
 */
import { loggedDbError } from './audit-store.js';
import type { Logger } from '../log.js';
import type { AuditTrail } from './audit-trail.js';
import type { AuditFilter, AuditRow, AuditSurface } from './record.js';

/** The assistant's surfaces; panel and /v1/insight look-ups are staff reading, not the assistant. */
export const ASSISTANT_SURFACES: readonly AuditSurface[] = ['stdio', 'mcp', 'tools'];

export interface DisclosureView {
  seq: number;
  at: string;
  surface: AuditRow['surface'];
  caller: string | null;
  conversation: string | null;
  tool: string | null;
  outcome: AuditRow['outcome'];
  reason: string | null;
  principal: AuditRow['principal'];
  verified_by: AuditRow['verified_by'];
  issuer: string | null;
  unverified: boolean;
  disclosed: AuditRow['disclosed'];
  write: AuditRow['write'];
  email: string | null;
  customer_ids: string[];
  tenant_id: string | null;
}

export type Disclosures = { available: true; records: DisclosureView[] } | { available: false; message: string };

export const AUDIT_UNREADABLE_MESSAGE = 'The audit trail cannot be read right now; try again in a minute.';

/** A record as staff see it: everything but the chain's own fields and the salt. */
export function disclosureView(row: AuditRow): DisclosureView {
  return {
    seq: row.seq,
    at: row.at,
    surface: row.surface,
    caller: row.caller,
    conversation: row.conversation,
    tool: row.tool,
    outcome: row.outcome,
    reason: row.reason,
    principal: row.principal,
    verified_by: row.verified_by,
    issuer: row.issuer,
    unverified: row.unverified,
    disclosed: row.disclosed,
    write: row.write,
    email: row.email,
    customer_ids: row.customer_ids,
    tenant_id: row.tenant_id,
  };
}

/** Call records matching `filter`, or why they cannot be read (the log has the detail). */
export async function findDisclosures(trail: AuditTrail, filter: AuditFilter, log: Logger): Promise<Disclosures> {
  try {
    const rows = await trail.store.find(filter);
    return { available: true, records: rows.filter((row) => row.kind === 'call').map(disclosureView) };
  } catch (error) {
    log.warn({ err: loggedDbError(error) }, 'audit trail: read failed');
    return { available: false, message: AUDIT_UNREADABLE_MESSAGE };
  }
}
