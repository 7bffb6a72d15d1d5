/**
 * Action requests (refunds, credits, pauses) in the trail's database: SQLite by default,
 * Postgres with DATABASE_URL, through the audit store's `SqlRunner` (migration 4 in
 * src/audit/schema.ts makes the `action_requests` table).
 *
 * Every change of state is ONE compare-and-set statement,
 *   UPDATE action_requests SET state = <to>, state_version = state_version + 1, …
 *   WHERE id = ? AND state = <read state> AND state_version = <read version>
 * allowed by the table in request-states.ts. Of two changes made at once (a double click, two
 * processes on one Postgres, a retry) exactly one applies; the other is told so and reads the
 * row again. Counts for the policy's per-customer limits come from this table, never from memory.
 *
 * How the next session plugs in:
 *   const requests = new RequestStore(auditStore.sql, { keys: confirmationKeysFrom(auditStore.auditKeys) });
 *   // a tool, after the policy allowed it (customer mode):
 *   const { request, secret } = await requests.create({ tenant_id, kind: 'refund', customer_id, … });
 *   //   `secret` goes to the person only (email link via confirmationToken(), the host's
 *   //   `confirmation` object, MCP `_meta`), never into text/structuredContent/errors/logs.
 *   // the confirming channel (email page POST, POST /v1/requests/{id}/confirm, elicitation):
 *   const result = await requests.confirm(id, secret, { channel: 'email', route: (r) => policyRoute(r) });
 *   //   route answers 'execute' (within auto_approve) or 'approval'.
 *   if (result.outcome === 'confirmed' && result.claim) await executeOnce(requests, result.claim, stripeCall);
 *   // staff: requests.approve(id, staffKeyName) → claim → executeOnce; requests.deny(id, staffKeyName, note)
 *   // staff mode's own action: requests.createByStaff(input, 'execute' | 'approval')
 *   // the email page's Cancel: requests.cancelWithSecret(id, secret)
 *   // a timer: requests.expireStale(tenantId); resumeQuietExecutions(requests, tenantId, stripeCallFor) (execute-request.ts)
 * The caller writes the audit record of each step from what these methods return.
 */
import { randomBytes } from 'node:crypto';
import type { SqlRunner } from '../audit/audit-store.js';
import { conversationHash } from '../audit/call-entry.js';
import { CONFIRMATION_TTL_MS, confirmationSecretMatches, hashConfirmationSecret, newConfirmationSecret, type ConfirmationKeys } from './confirmation-secret.js';
import type { ActionKind } from './policy.js';
import { canMove, isRequestState, MOVES, type MoveName, type RequestState } from './request-states.js';

/** The policy's kinds, and resuming a paused subscription (which the policy does not limit). */
export type RequestKind = ActionKind | 'resume';
/** How the person confirmed: the email page, the host's own button, MCP `_meta`/elicitation, or a staff key's own call. */
/** `card`: a button in the MCP Apps billing card (src/apps), pressed by the person. */
export type ConfirmChannel = 'email' | 'host' | 'mcp' | 'elicitation' | 'card' | 'staff';
type Json = Record<string, unknown>;

export interface ActionRequest {
  /** `req_` + 16 random bytes: unguessable, and the root of the Stripe idempotency key. */
  id: string;
  tenant_id: string | null;
  kind: RequestKind;
  customer_id: string;
  email: string | null;
  principal: 'customer' | 'staff';
  /** The host key's or staff key's name that asked. */
  created_by: string;
  /** conversationHash() of the conversation key, never the raw id. */
  conversation: string | null;
  /** What Stripe will be asked (amount, currency, charge, reason…), decided before the request was created. */
  params: Json;
  /** What the person was shown. */
  preview: Json;
  state: RequestState;
  state_version: number;
  confirm_expires_at: string | null;
  confirmed_via: ConfirmChannel | null;
  /** When the request first moved into `executing` (Stripe's first call is no earlier): a resume after its idempotency window is not safe. */
  claimed_at: string | null;
  decided_by: string | null;
  note: string | null;
  stripe_object_id: string | null;
  /** Safe words for the customer, never Stripe's own text. */
  failure_reason: string | null;
  created_at: string;
  updated_at: string;
}

/** What a new request is made from: the stored fields a caller decides (the rest are the store's). */
export interface NewRequest extends Pick<ActionRequest, 'tenant_id' | 'kind' | 'customer_id' | 'email' | 'principal' | 'created_by' | 'params' | 'preview'> {
  /** The raw conversation key; stored hashed. */
  conversation?: string | undefined;
}

declare const claimBrand: unique symbol;
/**
 * The right to call Stripe for one request: made only by a move into `executing` that applied
 * (a confirmation within auto_approve, an approval, a resume). Whoever holds it is the only one
 * whose outcome can be recorded at that version.
 */
export interface ExecutionClaim {
  readonly [claimBrand]: true;
  readonly request: ActionRequest;
}

export type Route = 'execute' | 'approval';

export type ConfirmResult =
  /** The move applied; `claim` when it went straight to `executing`. */
  | { outcome: 'confirmed'; request: ActionRequest; claim?: ExecutionClaim }
  /** No such request, a wrong secret, or not this customer's: the same answer, so it tells nothing. */
  | { outcome: 'invalid' }
  /** The right secret, too late: the request is now `expired`. */
  | { outcome: 'expired'; request: ActionRequest }
  /** The right secret, but the request has moved on (used already, canceled, or the other click won). */
  | { outcome: 'already_decided'; request: ActionRequest };

export type CancelResult = Exclude<ConfirmResult, { outcome: 'confirmed' }> | { outcome: 'canceled'; request: ActionRequest };

export type DecisionResult =
  | { outcome: 'applied'; request: ActionRequest; claim?: ExecutionClaim }
  | { outcome: 'not_found' }
  /** A staff key cannot approve a request it created. */
  | { outcome: 'own_request'; request: ActionRequest }
  /** The request is not in a state this decision applies to (or another decision won). */
  | { outcome: 'not_allowed'; request: ActionRequest };

/**
 * What a per-customer limit counts by default: every request not refused or abandoned. Waiting
 * ones count too, so two requests made at once cannot both slip under a limit of one.
 */
export const COUNTED_STATES: readonly RequestState[] = ['awaiting_confirmation', 'awaiting_approval', 'executing', 'done'];

const COLUMNS = [
  'id',
  'tenant_id',
  'kind',
  'customer_id',
  'email',
  'principal',
  'created_by',
  'conversation',
  'params',
  'preview',
  'state',
  'state_version',
  'confirm_hash',
  'confirm_expires_at',
  'confirmed_via',
  'claimed_at',
  'decided_by',
  'note',
  'stripe_object_id',
  'failure_reason',
  'created_at',
  'updated_at',
] as const;

type Column = (typeof COLUMNS)[number];
/** Columns a move may set besides state, version and time. */
type MoveFields = Partial<Pick<Record<Column, string | null>, 'confirmed_via' | 'claimed_at' | 'decided_by' | 'note' | 'stripe_object_id' | 'failure_reason'>>;

const text = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

function requestOf(row: Record<string, unknown>): ActionRequest {
  const state = String(row.state);
  if (!isRequestState(state)) throw new Error(`action request ${String(row.id)} has an unknown state`);
  return {
    id: String(row.id),
    tenant_id: text(row.tenant_id),
    kind: String(row.kind) as RequestKind,
    customer_id: String(row.customer_id),
    email: text(row.email),
    principal: row.principal === 'staff' ? 'staff' : 'customer',
    created_by: String(row.created_by),
    conversation: text(row.conversation),
    params: JSON.parse(String(row.params)) as Json,
    preview: JSON.parse(String(row.preview)) as Json,
    state,
    state_version: Number(row.state_version),
    confirm_expires_at: text(row.confirm_expires_at),
    confirmed_via: text(row.confirmed_via) as ConfirmChannel | null,
    claimed_at: text(row.claimed_at),
    decided_by: text(row.decided_by),
    note: text(row.note),
    stripe_object_id: text(row.stripe_object_id),
    failure_reason: text(row.failure_reason),
    created_at: String(row.created_at),
    updated_at: String(row.updated_at),
  };
}

function claimOf(request: ActionRequest): ExecutionClaim {
  return { request } as unknown as ExecutionClaim;
}

/**
 * Platform mode: which merchant a request belongs to (every tenant's requests share one table),
 * so an emailed link, which carries no bearer key, reaches that merchant's app. undefined: no such
 * request. Only the tenant's own engine then checks the secret.
 */
export async function tenantOfRequest(sql: SqlRunner, id: string): Promise<string | null | undefined> {
  const [row] = await sql.all(`SELECT tenant_id FROM action_requests WHERE id = ${sql.placeholder(1)}`, [id]);
  return row ? text(row.tenant_id) : undefined;
}

export function newRequestId(): string {
  return `req_${randomBytes(16).toString('base64url')}`;
}

export interface RequestStoreOptions {
  /** HMAC keys for confirmation secrets (confirmationKeysFrom(auditKeys)). */
  keys: ConfirmationKeys;
  /** Milliseconds since the epoch; tests move it. */
  now?: () => number;
}

export class RequestStore {
  private readonly keys: ConfirmationKeys;
  /** The store's clock (milliseconds): expiry, windows and the resumer all read this one. */
  readonly now: () => number;

  constructor(
    private readonly sql: SqlRunner,
    options: RequestStoreOptions,
  ) {
    this.keys = options.keys;
    this.now = options.now ?? Date.now;
  }

  private p(n: number): string {
    return this.sql.placeholder(n);
  }

  private iso(offsetMs = 0): string {
    return new Date(this.now() + offsetMs).toISOString();
  }

  /** `tenant_id = ?` that also matches the single-merchant null. */
  private sameTenant(n: number): string {
    return this.sql.backend === 'sqlite' ? `tenant_id IS ${this.p(n)}` : `tenant_id IS NOT DISTINCT FROM ${this.p(n)}`;
  }

  private async insert(input: NewRequest, state: RequestState, fields: { confirm_hash: string | null; confirm_expires_at: string | null; confirmed_via: ConfirmChannel | null }, id: string): Promise<ActionRequest> {
    const at = this.iso();
    const values: Record<Column, string | number | null> = {
      id,
      tenant_id: input.tenant_id,
      kind: input.kind,
      customer_id: input.customer_id,
      email: input.email,
      principal: input.principal,
      created_by: input.created_by,
      conversation: input.conversation ? conversationHash(input.conversation) : null,
      params: JSON.stringify(input.params),
      preview: JSON.stringify(input.preview),
      state,
      state_version: 1,
      confirm_hash: fields.confirm_hash,
      confirm_expires_at: fields.confirm_expires_at,
      confirmed_via: fields.confirmed_via,
      claimed_at: state === 'executing' ? at : null,
      decided_by: null,
      note: null,
      stripe_object_id: null,
      failure_reason: null,
      created_at: at,
      updated_at: at,
    };
    await this.sql.run(
      `INSERT INTO action_requests (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((_, i) => this.p(i + 1)).join(', ')})`,
      COLUMNS.map((column) => values[column]),
    );
    return requestOf(values);
  }

  /** A customer's request, waiting for their confirmation. The secret is returned once and stored only as an HMAC. */
  async create(input: NewRequest): Promise<{ request: ActionRequest; secret: string }> {
    const id = newRequestId();
    const secret = newConfirmationSecret();
    const request = await this.insert(
      input,
      'awaiting_confirmation',
      { confirm_hash: hashConfirmationSecret(this.keys, id, secret), confirm_expires_at: this.iso(CONFIRMATION_TTL_MS), confirmed_via: null },
      id,
    );
    return { request, secret };
  }

  /**
   * Staff mode: the staff key's own call is the confirmation, so the request starts where a
   * confirmation would have moved it (and with a claim when it executes at once).
   */
  async createByStaff(input: NewRequest, route: Route): Promise<{ request: ActionRequest; claim?: ExecutionClaim }> {
    const state = route === 'execute' ? MOVES.confirm_and_execute.to : MOVES.confirm_for_approval.to;
    const request = await this.insert({ ...input, principal: 'staff' }, state, { confirm_hash: null, confirm_expires_at: null, confirmed_via: 'staff' }, newRequestId());
    return route === 'execute' ? { request, claim: claimOf(request) } : { request };
  }

  async get(id: string): Promise<ActionRequest | undefined> {
    const [row] = await this.sql.all(`SELECT * FROM action_requests WHERE id = ${this.p(1)}`, [id]);
    return row ? requestOf(row) : undefined;
  }

  /** A customer's requests, newest first (get_request_status, the panel's customer page). */
  async listForCustomer(tenantId: string | null, customerId: string, limit = 20): Promise<ActionRequest[]> {
    const rows = await this.sql.all(
      `SELECT * FROM action_requests WHERE ${this.sameTenant(1)} AND customer_id = ${this.p(2)} ORDER BY created_at DESC, id LIMIT ${this.p(3)}`,
      [tenantId, customerId, limit],
    );
    return rows.map(requestOf);
  }

  /** Requests in one state, oldest first (the approval queue). */
  async listByState(tenantId: string | null, state: RequestState, limit = 100): Promise<ActionRequest[]> {
    const rows = await this.sql.all(
      `SELECT * FROM action_requests WHERE ${this.sameTenant(1)} AND state = ${this.p(2)} ORDER BY created_at, id LIMIT ${this.p(3)}`,
      [tenantId, state, limit],
    );
    return rows.map(requestOf);
  }

  /** Requests in any of `states`, most recently changed first (the panel's decided ones, GET /v1/requests for a settled state). */
  async listRecent(tenantId: string | null, states: readonly RequestState[], limit = 50): Promise<ActionRequest[]> {
    if (states.length === 0) return [];
    const params: Array<string | number | null> = [tenantId];
    const marks = states.map((state) => {
      params.push(state);
      return this.p(params.length);
    });
    params.push(limit);
    const rows = await this.sql.all(
      `SELECT * FROM action_requests WHERE ${this.sameTenant(1)} AND state IN (${marks.join(', ')}) ORDER BY updated_at DESC, id LIMIT ${this.p(params.length)}`,
      params,
    );
    return rows.map(requestOf);
  }

  /**
   * How many of a customer's requests of a kind were created in the last `withinDays` days, in
   * `states` (by default COUNTED_STATES), leaving out `excludeId` (the one
   * being decided).
   */
  async countForCustomer(options: { tenantId: string | null; customerId: string; kind: RequestKind; withinDays: number; states?: readonly RequestState[]; excludeId?: string }): Promise<number> {
    const states = options.states ?? COUNTED_STATES;
    if (states.length === 0) return 0;
    const params: Array<string | number | null> = [options.tenantId, options.customerId, options.kind, this.iso(-options.withinDays * 86_400_000), options.excludeId ?? ''];
    const marks = states.map((state) => {
      params.push(state);
      return this.p(params.length);
    });
    const [row] = await this.sql.all(
      `SELECT COUNT(*) AS n FROM action_requests WHERE ${this.sameTenant(1)} AND customer_id = ${this.p(2)} AND kind = ${this.p(3)} AND created_at >= ${this.p(4)} AND id <> ${this.p(5)} AND state IN (${marks.join(', ')})`,
      params,
    );
    return Number(row?.n ?? 0);
  }

  /**
   * The compare-and-set every change goes through: applies `name` only if the row is still at
   * `current`'s state and version. Resolves to the row after the move, or undefined when someone
   * else changed it first (or the table forbids the move from that state).
   */
  private async move(name: MoveName, current: ActionRequest, fields: MoveFields = {}): Promise<ActionRequest | undefined> {
    if (!canMove(name, current.state)) return undefined;
    const to = MOVES[name].to;
    const updatedAt = this.iso();
    const sets = Object.entries(fields) as Array<[Column, string | null]>;
    const params: Array<string | number | null> = [to, updatedAt, ...sets.map(([, value]) => value), current.id, current.state, current.state_version];
    const assignments = ['state = ' + this.p(1), 'state_version = state_version + 1', 'updated_at = ' + this.p(2), ...sets.map(([column], i) => `${column} = ${this.p(i + 3)}`)];
    const n = sets.length + 3;
    const changed = await this.sql.run(
      `UPDATE action_requests SET ${assignments.join(', ')} WHERE id = ${this.p(n)} AND state = ${this.p(n + 1)} AND state_version = ${this.p(n + 2)}`,
      params,
    );
    if (changed !== 1) return undefined;
    return { ...current, ...(fields as Partial<ActionRequest>), state: to, state_version: current.state_version + 1, updated_at: updatedAt };
  }

  /**
   * The person's confirmation. The secret is checked against the stored HMAC in constant time,
   * then one compare-and-set moves the request on: a second click, or the same click on another
   * process, finds it moved and gets `already_decided`. `route` is the policy's choice, asked
   * only once the secret is right. `owner`, when given (the host's button), must match too.
   */
  async confirm(
    id: string,
    secret: string,
    options: { channel: Exclude<ConfirmChannel, 'staff'>; route: (request: ActionRequest) => Route | Promise<Route>; owner?: { tenant_id: string | null; customer_id: string } },
  ): Promise<ConfirmResult> {
    const request = await this.withSecret(id, secret);
    if (!request) return { outcome: 'invalid' };
    if (options.owner && (options.owner.tenant_id !== request.tenant_id || options.owner.customer_id !== request.customer_id)) return { outcome: 'invalid' };
    const closed = await this.closedLink(request);
    if (closed) return closed;
    const route = await options.route(request);
    const moved =
      route === 'execute'
        ? await this.move('confirm_and_execute', request, { confirmed_via: options.channel, claimed_at: this.iso() })
        : await this.move('confirm_for_approval', request, { confirmed_via: options.channel });
    if (!moved) return this.settled(id);
    return route === 'execute' ? { outcome: 'confirmed', request: moved, claim: claimOf(moved) } : { outcome: 'confirmed', request: moved };
  }

  /**
   * Read-only: the request this secret confirms, or undefined (the same answer for no such id and
   * a wrong secret). The email page shows it before the click; nothing is used up.
   */
  peek(id: string, secret: string): Promise<ActionRequest | undefined> {
    return this.withSecret(id, secret);
  }

  /** The request whose confirmation secret this is, or undefined (no such id, or not its secret: one answer for both). */
  private async withSecret(id: string, secret: string): Promise<ActionRequest | undefined> {
    const [row] = await this.sql.all(`SELECT * FROM action_requests WHERE id = ${this.p(1)}`, [id]);
    // Checked even when there is no row, so a made-up id costs the same as a wrong secret.
    const matches = confirmationSecretMatches(this.keys, id, secret, row ? text(row.confirm_hash) : '0'.repeat(64));
    return row && matches ? requestOf(row) : undefined;
  }

  /**
   * The Cancel button beside Confirm (the email page): the same secret proves the click, then one
   * compare-and-set. Only while the link is good (unconfirmed, within its 15 minutes): a link is
   * single-use, so once it confirmed, whoever holds it later cannot withdraw the request.
   */
  async cancelWithSecret(id: string, secret: string): Promise<CancelResult> {
    const request = await this.withSecret(id, secret);
    if (!request) return { outcome: 'invalid' };
    const closed = await this.closedLink(request);
    if (closed) return closed;
    const moved = await this.move('cancel', request, { decided_by: 'customer' });
    return moved ? { outcome: 'canceled', request: moved } : this.settled(id);
  }

  /** Whether the request's confirmation window is over (its 15 minutes, or none): the link answers nothing any more. */
  confirmationLapsed(request: ActionRequest): boolean {
    return request.confirm_expires_at === null || request.confirm_expires_at <= this.iso();
  }

  /**
   * Why a link's request can no longer be confirmed or canceled: it moved on, or its window is over
   * (then expired on the click, as the sweep would). Undefined while the link is good.
   */
  private async closedLink(request: ActionRequest): Promise<Exclude<ConfirmResult, { outcome: 'confirmed' | 'invalid' }> | undefined> {
    if (request.state !== 'awaiting_confirmation') return { outcome: request.state === 'expired' ? 'expired' : 'already_decided', request };
    if (!this.confirmationLapsed(request)) return undefined;
    const expired = await this.move('expire', request);
    return expired ? { outcome: 'expired', request: expired } : this.settled(request.id);
  }

  /** After a lost compare-and-set: what the row is now. */
  private async settled(id: string): Promise<Exclude<ConfirmResult, { outcome: 'confirmed' | 'invalid' }>> {
    const now = (await this.get(id))!;
    return { outcome: now.state === 'expired' ? 'expired' : 'already_decided', request: now };
  }

  private async decide(id: string, name: MoveName, fields: MoveFields, check?: (request: ActionRequest) => DecisionResult | undefined): Promise<DecisionResult> {
    const request = await this.get(id);
    if (!request) return { outcome: 'not_found' };
    const refused = check?.(request);
    if (refused) return refused;
    const moved = await this.move(name, request, fields);
    if (!moved) return { outcome: 'not_allowed', request: (await this.get(id)) ?? request };
    return MOVES[name].to === 'executing' ? { outcome: 'applied', request: moved, claim: claimOf(moved) } : { outcome: 'applied', request: moved };
  }

  /**
   * A staff approval: moves a waiting request to `executing` and hands back the claim. Not by the
   * key that created it: `created_by` and `staffKeyName` share one namespace (`host:<name>`,
   * `staff:<name>`), so a host key and a staff key of the same name are not confused.
   */
  approve(id: string, staffKeyName: string, note?: string): Promise<DecisionResult> {
    return this.decide(id, 'approve', { decided_by: staffKeyName, note: note ?? null, claimed_at: this.iso() }, (request) =>
      request.created_by === staffKeyName ? { outcome: 'own_request', request } : undefined,
    );
  }

  deny(id: string, staffKeyName: string, note: string): Promise<DecisionResult> {
    return this.decide(id, 'deny', { decided_by: staffKeyName, note });
  }

  /** For callers that established who is asking (a staff key, the verified customer's own session); `by` says who. */
  cancel(id: string, by: string): Promise<DecisionResult> {
    return this.decide(id, 'cancel', { decided_by: by });
  }

  /**
   * Moves this merchant's unconfirmed requests past their 15 minutes to `expired`; resolves to their ids (for the trail).
   * Per tenant: in platform mode every merchant's requests share the table, and each engine records (and resumes) only its own.
   */
  async expireStale(tenantId: string | null): Promise<string[]> {
    const now = this.iso();
    const rows = await this.sql.all(
      `UPDATE action_requests SET state = ${this.p(1)}, state_version = state_version + 1, updated_at = ${this.p(2)} WHERE state = ${this.p(3)} AND confirm_expires_at <= ${this.p(4)} AND ${this.sameTenant(5)} RETURNING id`,
      [MOVES.expire.to, now, MOVES.expire.from[0], now, tenantId],
    );
    return rows.map((row) => String(row.id)).sort();
  }

  /**
   * This merchant's requests left in `executing` longer than `quietForMs` (a crashed executor, or retries that ran out).
   * Per tenant: another merchant's request must never be called with this merchant's Stripe key.
   */
  async quietExecutions(tenantId: string | null, quietForMs: number, limit = 100): Promise<ActionRequest[]> {
    const rows = await this.sql.all(
      `SELECT * FROM action_requests WHERE ${this.sameTenant(1)} AND state = 'executing' AND updated_at <= ${this.p(2)} ORDER BY updated_at, id LIMIT ${this.p(3)}`,
      [tenantId, this.iso(-quietForMs), limit],
    );
    return rows.map(requestOf);
  }

  /** Takes over a quiet execution's claim (one resumer wins, even across processes). */
  async resume(request: ActionRequest): Promise<ExecutionClaim | undefined> {
    const moved = await this.move('resume', request);
    return moved ? claimOf(moved) : undefined;
  }

  /** Records Stripe's answer for a claim; undefined when the claim was taken over meanwhile (its new holder records instead). */
  async finish(claim: ExecutionClaim, outcome: { stripe_object_id: string } | { failure_reason: string }): Promise<ActionRequest | undefined> {
    return 'stripe_object_id' in outcome
      ? this.move('succeed', claim.request, { stripe_object_id: outcome.stripe_object_id, failure_reason: null })
      : this.move('fail', claim.request, { failure_reason: outcome.failure_reason });
  }
}
