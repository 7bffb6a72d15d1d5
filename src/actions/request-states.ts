/**
 * Every state an action request can be in, and every move between them, in one table.
 *
 * Each move is one compare-and-set UPDATE on the stored row (see requests.ts): it applies only
 * if the row is still in a `from` state at the version that was read, so of two moves made at
 * once exactly one applies. The only way into `executing` is a move in this table, and
 * `executing` is left only for `done` or `failed`: a request reaches Stripe's side at most one
 * claim at a time, and the idempotency key (execute-request.ts) makes a repeated call harmless.
 */

export const REQUEST_STATES = ['awaiting_confirmation', 'awaiting_approval', 'executing', 'done', 'failed', 'denied', 'expired', 'canceled'] as const;
export type RequestState = (typeof REQUEST_STATES)[number];

export interface Move {
  from: readonly RequestState[];
  to: RequestState;
  /** Who makes it, for a reader. */
  by: string;
}

export const MOVES = {
  // The customer's click on a channel the model cannot reach; the policy chose where it goes.
  confirm_for_approval: { from: ['awaiting_confirmation'], to: 'awaiting_approval', by: 'the customer (within policy, above auto_approve)' },
  confirm_and_execute: { from: ['awaiting_confirmation'], to: 'executing', by: 'the customer (within auto_approve); staff mode: the staff call itself' },
  approve: { from: ['awaiting_approval'], to: 'executing', by: 'a staff key other than the one that created the request' },
  deny: { from: ['awaiting_approval'], to: 'denied', by: 'a staff key, with a note' },
  cancel: { from: ['awaiting_confirmation', 'awaiting_approval'], to: 'canceled', by: 'the customer (the Cancel button) or staff' },
  expire: { from: ['awaiting_confirmation'], to: 'expired', by: 'the clock: 15 minutes without a confirmation' },
  // A crashed or timed-out executor's claim, taken over: the same idempotency key again.
  resume: { from: ['executing'], to: 'executing', by: 'the resumer, after the executor went quiet' },
  succeed: { from: ['executing'], to: 'done', by: 'the executor: Stripe answered with the object' },
  fail: { from: ['executing'], to: 'failed', by: 'the executor: Stripe refused for good' },
} as const satisfies Record<string, Move>;

export type MoveName = keyof typeof MOVES;

/** States nothing leaves. */
export const FINAL_STATES: readonly RequestState[] = REQUEST_STATES.filter((state) => !Object.values(MOVES).some((move) => (move.from as readonly RequestState[]).includes(state)));

export function canMove(name: MoveName, from: RequestState): boolean {
  return (MOVES[name].from as readonly RequestState[]).includes(from);
}

export function isRequestState(value: unknown): value is RequestState {
  return typeof value === 'string' && (REQUEST_STATES as readonly string[]).includes(value);
}
