/**
 * A data subject's erasure (`stripe-billing-mcp audit erase --email …`) reaches their action
 * requests too: called by eraseEmail (src/audit/sql-trail.ts) inside the same transaction that
 * erases their trail records, so both tables change together or not at all.
 *
 * Which requests: those whose email is the person's (trimmed, case-folded, as the trail compares
 * emails), and those of a customer id the erasure resolved (the customer ids their trail records
 * and their requests name); with a tenant, that merchant's only.
 *
 * What happens to each, by state:
 * - awaiting_confirmation / awaiting_approval: canceled — the `cancel` move of request-states.ts,
 *   as ONE compare-and-set on state + state_version that also blanks the row (decided_by
 *   `erasure`). A request whose person asked to be forgotten must not be confirmed or approved
 *   later against a row that no longer says whose it is. A move that lost (a click on another
 *   process) re-reads the row and decides again.
 * - executing: left whole and reported as in flight. Nothing may stop it (the state machine
 *   leaves `executing` only for done/failed) and the executor still needs the customer id (a
 *   balance credit names it); once it finishes, running erase again blanks it.
 * - done, failed, denied, expired, canceled: blanked, guarded by the same state + version check
 *   so a concurrent change is never overwritten.
 *
 * Blanking: `email` NULL, `customer_id` '' (the column is NOT NULL), `preview` replaced by
 * {"erased":true} (free words that may name the person), and in `params`, `note` and
 * `failure_reason` every occurrence of the email or a resolved customer id replaced by
 * "[erased]", and params' personal keys (email, name, phone, address…) removed. What is left is
 * the merchant's bookkeeping: kind, state, amounts, currency, reason, the charge/subscription and
 * the Stripe object (refund) ids, times, and which keys asked and decided.
 */
import type { SqlDialect, SqlTx } from '../audit/sql-trail.js';
import { canMove, isRequestState, MOVES, type RequestState } from './request-states.js';

export interface RequestErasure {
  /** Requests whose personal fields were blanked (the canceled ones included). */
  erased: number;
  /** Of those, the ones that were waiting and were canceled first. */
  canceled: string[];
  /** Requests being carried out at Stripe right now: untouched; erase again once they finish. */
  in_flight: string[];
}

export const ERASED_PREVIEW = JSON.stringify({ erased: true });
export const ERASED_TEXT = '[erased]';
/** The decided_by of a request the erasure canceled. */
export const ERASURE_DECIDER = 'erasure';

/** Keys in params that hold a person's data whatever their value (Stripe's own names among them). */
const PERSONAL_KEYS = new Set(['email', 'receipt_email', 'customer_email', 'name', 'customer_name', 'phone', 'address', 'shipping', 'billing_details', 'customer', 'customer_id']);

// A lost compare-and-set means another process moved the request meanwhile; a few rounds settle it.
const ATTEMPTS = 5;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Replaces the email (any case) and each customer id in free text. */
function scrubber(email: string, customers: readonly string[]): (text: string) => string {
  const needles = [email, ...customers].filter((needle) => needle.length > 0).map(escapeRegExp);
  const pattern = new RegExp(needles.join('|'), 'gi');
  return (text) => text.replace(pattern, ERASED_TEXT);
}

function scrubJson(value: unknown, scrub: (text: string) => string): unknown {
  if (typeof value === 'string') return scrub(value);
  if (Array.isArray(value)) return value.map((item) => scrubJson(item, scrub));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([key]) => !PERSONAL_KEYS.has(key.toLowerCase()))
        .map(([key, item]) => [key, scrubJson(item, scrub)]),
    );
  }
  return value;
}

function scrubParams(params: unknown, scrub: (text: string) => string): string {
  try {
    return JSON.stringify(scrubJson(JSON.parse(String(params)), scrub));
  } catch {
    // Not JSON (never written so by requests.ts): nothing of it can be told safe.
    return '{}';
  }
}

const textOrNull = (value: unknown, scrub: (text: string) => string): string | null => (value === null || value === undefined ? null : scrub(String(value)));

/**
 * The customer ids the person's requests name (by email): the erasure adds them to those its
 * trail records name, so a customer known only from a request is erased everywhere too.
 */
export async function requestCustomerIds(tx: SqlTx, dialect: SqlDialect, email: string, tenantId?: string): Promise<string[]> {
  const p = dialect.placeholder;
  const rows = await tx.all(
    `SELECT DISTINCT customer_id FROM action_requests WHERE LOWER(TRIM(email)) = ${p(1)} AND customer_id <> ''${tenantId === undefined ? '' : ` AND tenant_id = ${p(2)}`}`,
    tenantId === undefined ? [email] : [email, tenantId],
  );
  return rows.map((row) => String(row.customer_id));
}

/** Cancels the person's waiting requests and blanks their personal fields; see the header. Call inside the erasure's transaction. */
export async function eraseRequests(tx: SqlTx, dialect: SqlDialect, options: { email: string; customers: readonly string[]; tenantId?: string | undefined; now?: () => Date }): Promise<RequestErasure> {
  const p = dialect.placeholder;
  const { email, customers, tenantId } = options;
  const now = () => (options.now ?? (() => new Date()))().toISOString();
  const scrub = scrubber(email, customers);

  const params: Array<string | number | null> = [email, ...customers];
  const who = [`LOWER(TRIM(email)) = ${p(1)}`, ...customers.map((_, i) => `customer_id = ${p(i + 2)}`)];
  if (tenantId !== undefined) params.push(tenantId);
  const matching = await tx.all(
    `SELECT id FROM action_requests WHERE (${who.join(' OR ')})${tenantId === undefined ? '' : ` AND tenant_id = ${p(params.length)}`} ORDER BY created_at, id`,
    params,
  );

  const result: RequestErasure = { erased: 0, canceled: [], in_flight: [] };
  for (const { id } of matching) {
    for (let attempt = 1; ; attempt++) {
      const [row] = await tx.all(`SELECT * FROM action_requests WHERE id = ${p(1)}`, [String(id)]);
      if (!row) break;
      const state = String(row.state);
      if (!isRequestState(state)) throw new Error(`action request ${String(id)} has an unknown state`);
      if (state === 'executing') {
        result.in_flight.push(String(id));
        break;
      }
      const cancel = canMove('cancel', state);
      const blank: Array<[string, string | null]> = [
        ['email', null],
        ['customer_id', ''],
        ['preview', ERASED_PREVIEW],
        ['params', scrubParams(row.params, scrub)],
        ['note', textOrNull(row.note, scrub)],
        ['failure_reason', textOrNull(row.failure_reason, scrub)],
        ['updated_at', now()],
        ...(cancel ? ([['state', MOVES.cancel.to satisfies RequestState], ['decided_by', ERASURE_DECIDER]] as Array<[string, string]>) : []),
      ];
      const values = [...blank.map(([, value]) => value), String(id), state, Number(row.state_version)];
      const n = blank.length;
      // The compare-and-set of requests.ts's move(): applies only at the state and version just read.
      const changed = await tx.run(
        `UPDATE action_requests SET ${blank.map(([column], i) => `${column} = ${p(i + 1)}`).join(', ')}${cancel ? ', state_version = state_version + 1' : ''} WHERE id = ${p(n + 1)} AND state = ${p(n + 2)} AND state_version = ${p(n + 3)}`,
        values,
      );
      if (changed === 1) {
        result.erased += 1;
        if (cancel) result.canceled.push(String(id));
        break;
      }
      if (attempt >= ATTEMPTS) throw Object.assign(new Error(`action request ${String(id)} kept changing during the erasure: run the command again`), { code: 'STALE_WRITE' });
    }
  }
  return result;
}
