/**
 * What the merchant's policy says about one request, before anything is created:
 *
 *   decide(policy, request, history, now?) →
 *     { outcome: 'refused', reason }           the policy does not allow it: answer with an isError
 *                                               result carrying `reason` (a sentence the model can
 *                                               relay to the customer) and create no request;
 *     { outcome: 'auto_approve' }              within every auto_approve limit: carry it out once
 *                                               the customer confirms;
 *     { outcome: 'needs_approval', because }   allowed, but beyond an auto_approve limit: after the
 *                                               customer confirms, it waits for a staff approval;
 *                                               `because` names each limit it went past.
 *
 * A pure function: `history` (this customer's earlier requests of the same kind within the
 * policy's window, COUNT_WINDOW_DAYS) comes from the requests table in the database, never from
 * memory that can be evicted, and `now` is passed for tests. Which earlier requests count is the
 * caller's rule; counting every request not denied, canceled, expired or failed keeps two quick
 * requests from both slipping under a limit of one.
 */
import { money } from '../format/money.js';
import { REFUND_REASONS, type ActionKind, type ActionsPolicy } from './policy.js';

export type ActionRequest =
  | {
      kind: 'refund';
      /** Minor units of `currency`, the part of the payment to refund. */
      amount: number;
      currency: string;
      reason: string;
      /** When the payment was made, Unix seconds (Stripe's `created`). */
      payment_created: number;
    }
  | { kind: 'credit'; amount: number; currency: string }
  /** `days`: from now until collection resumes. */
  | { kind: 'pause'; days: number }
  /** `amount_due_now`: what the change charges at once (the preview's proration; ≤ 0 for a credit). */
  | { kind: 'plan_change'; amount_due_now: number; currency: string }
  /** `amount`: what paying the open invoice now charges (its amount remaining). */
  | { kind: 'retry_payment'; amount: number; currency: string };

/** The windows the policy's per-customer counts are over (their field names say the same). */
export const COUNT_WINDOW_DAYS = { refund: 30, pause: 365, plan_change: 30, retry_payment: 30 } as const satisfies Partial<Record<ActionKind, number>>;

/** This customer's earlier requests of each kind within COUNT_WINDOW_DAYS, from the database. */
export type CustomerHistory = Readonly<Record<keyof typeof COUNT_WINDOW_DAYS, number>>;

/** One auto_approve limit a request went past: the policy field, and a sentence for staff. */
export interface ApprovalReason {
  limit: string;
  message: string;
}

export type Decision = { outcome: 'refused'; reason: string } | { outcome: 'auto_approve' } | { outcome: 'needs_approval'; because: ApprovalReason[] };

const DAY_MS = 86_400_000;

const NOUN: Record<ActionKind, { plural: string; one: string }> = {
  refund: { plural: 'Refunds', one: 'refund' },
  credit: { plural: 'Account credits', one: 'account credit' },
  pause: { plural: 'Subscription pauses', one: 'pause' },
  plan_change: { plural: 'Plan changes', one: 'plan change' },
  retry_payment: { plural: 'Payment attempts', one: 'payment attempt' },
};

const POLICY = "this merchant's policy";
const refused = (reason: string): Decision => ({ outcome: 'refused', reason });
const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
const days = (count: number) => `${count} day${count === 1 ? '' : 's'}`;
const shown = (amount: number, currency: string) => money(amount, currency).formatted;
const listed = (items: readonly string[]) => (items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`);

function settled(because: ApprovalReason[]): Decision {
  return because.length === 0 ? { outcome: 'auto_approve' } : { outcome: 'needs_approval', because };
}

function positiveWholeAmount(amount: number): boolean {
  return Number.isSafeInteger(amount) && amount > 0;
}

/** The amount rules every money action shares: a named currency, and not above its limit. */
function amountRefusal(kind: ActionKind, limits: Readonly<Record<string, number>> | undefined, amount: number, currency: string): string | undefined {
  const code = currency.toLowerCase();
  const limit = limits?.[code];
  if (limit === undefined) {
    const named = Object.keys(limits ?? {}).map((c) => c.toUpperCase());
    return `${NOUN[kind].plural} in ${code.toUpperCase()} are not allowed by ${POLICY}${named.length > 0 ? ` (only in ${listed(named)})` : ''}.`;
  }
  if (amount > limit) return `${NOUN[kind].plural} above ${shown(limit, code)} are not allowed by ${POLICY}.`;
  return undefined;
}

/** An auto_approve money limit: above it, or a currency it does not name, waits for staff. */
function amountApproval(kind: ActionKind, auto: Readonly<Record<string, number>>, amount: number, currency: string): ApprovalReason | undefined {
  const code = currency.toLowerCase();
  const limit = auto[code];
  const field = `${kind}.auto_approve.max_amount.${code}`;
  if (limit === undefined) return { limit: field, message: `${NOUN[kind].plural} in ${code.toUpperCase()} always need a staff approval.` };
  if (amount > limit) {
    return {
      limit: field,
      message: limit === 0 ? `Every ${NOUN[kind].one} of an amount needs a staff approval.` : `${shown(amount, code)} is above the ${shown(limit, code)} that ${POLICY} approves without staff.`,
    };
  }
  return undefined;
}

function countRefusal(kind: keyof typeof COUNT_WINDOW_DAYS, max: number | undefined, earlier: number): string | undefined {
  if (max === undefined || earlier < max) return undefined;
  return `${POLICY.replace(/^t/, 'T')} allows at most ${plural(max, NOUN[kind].one)} per customer in ${COUNT_WINDOW_DAYS[kind]} days, and this customer has had ${earlier} already.`;
}

function countApproval(kind: keyof typeof COUNT_WINDOW_DAYS, field: string, max: number | undefined, earlier: number): ApprovalReason | undefined {
  if (max === undefined || earlier + 1 <= max) return undefined;
  return {
    limit: `${kind}.auto_approve.${field}`,
    message: `This would be the customer's ${ordinal(earlier + 1)} ${NOUN[kind].one} in ${COUNT_WINDOW_DAYS[kind]} days; ${POLICY} approves ${max === 0 ? 'none' : `up to ${max}`} without staff.`,
  };
}

function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th';
  return `${n}${suffix}`;
}

function noAutoApproval(kind: ActionKind): ApprovalReason {
  return { limit: `${kind}.auto_approve`, message: `${POLICY.replace(/^t/, 'T')} approves no ${NOUN[kind].one} without staff.` };
}

function disabled(kind: ActionKind): Decision {
  return refused(`${NOUN[kind].plural} cannot be requested here: ${POLICY} does not allow them. The merchant's support team can help.`);
}

export function decide(policy: ActionsPolicy | undefined, request: ActionRequest, history: CustomerHistory, now: number = Date.now()): Decision {
  switch (request.kind) {
    case 'refund':
      return decideRefund(policy?.refund, request, history.refund, now);
    case 'credit':
      return decideCredit(policy?.credit, request);
    case 'pause':
      return decidePause(policy?.pause, request, history.pause);
    case 'plan_change':
      return decidePlanChange(policy?.plan_change, request, history.plan_change);
    case 'retry_payment':
      return decideRetryPayment(policy?.retry_payment, request, history.retry_payment);
  }
}

function decideRefund(policy: ActionsPolicy['refund'], request: Extract<ActionRequest, { kind: 'refund' }>, earlier: number, now: number): Decision {
  if (!policy?.enabled || !policy.max_amount || !policy.reasons || policy.max_age_days === undefined) return disabled('refund');
  if (!positiveWholeAmount(request.amount)) return refused('A refund must be for a positive amount.');
  const currency = amountRefusal('refund', policy.max_amount, request.amount, request.currency);
  if (currency) return refused(currency);
  if (!(policy.reasons as readonly string[]).includes(request.reason)) {
    const allowed = policy.reasons.map((reason) => reason.replace(/_/g, ' '));
    const known = (REFUND_REASONS as readonly string[]).includes(request.reason);
    return refused(`${known ? `Refunds for the reason "${request.reason.replace(/_/g, ' ')}" are not allowed by ${POLICY}` : 'That is not a refund reason this merchant accepts'}; the reasons it accepts: ${listed(allowed)}.`);
  }
  // Exact to the millisecond: "older than 30 days" means more than 30 × 24 h ago.
  const ageMs = Math.max(0, now - request.payment_created * 1000);
  if (ageMs > policy.max_age_days * DAY_MS) return refused(`Refunds of payments older than ${days(policy.max_age_days)} are not allowed by ${POLICY}.`);
  const count = countRefusal('refund', policy.max_per_customer_per_30_days, earlier);
  if (count) return refused(count);

  const auto = policy.auto_approve;
  if (!auto) return settled([noAutoApproval('refund')]);
  const because: ApprovalReason[] = [];
  const amount = amountApproval('refund', auto.max_amount, request.amount, request.currency);
  if (amount) because.push(amount);
  if (auto.max_age_days !== undefined && ageMs > auto.max_age_days * DAY_MS) {
    because.push({ limit: 'refund.auto_approve.max_age_days', message: `The payment is more than ${days(auto.max_age_days)} old; ${POLICY} approves refunds of older payments only with staff.` });
  }
  const repeat = countApproval('refund', 'max_per_customer_per_30_days', auto.max_per_customer_per_30_days, earlier);
  if (repeat) because.push(repeat);
  return settled(because);
}

function decideCredit(policy: ActionsPolicy['credit'], request: Extract<ActionRequest, { kind: 'credit' }>): Decision {
  if (!policy?.enabled || !policy.max_amount) return disabled('credit');
  if (!positiveWholeAmount(request.amount)) return refused('An account credit must be for a positive amount.');
  const currency = amountRefusal('credit', policy.max_amount, request.amount, request.currency);
  if (currency) return refused(currency);
  if (!policy.auto_approve) return settled([noAutoApproval('credit')]);
  const amount = amountApproval('credit', policy.auto_approve.max_amount, request.amount, request.currency);
  return settled(amount ? [amount] : []);
}

function decidePause(policy: ActionsPolicy['pause'], request: Extract<ActionRequest, { kind: 'pause' }>, earlier: number): Decision {
  if (!policy?.enabled || policy.max_days === undefined) return disabled('pause');
  if (!Number.isSafeInteger(request.days) || request.days < 1) return refused('A pause must last at least one whole day.');
  if (request.days > policy.max_days) return refused(`Pauses longer than ${days(policy.max_days)} are not allowed by ${POLICY}.`);
  const count = countRefusal('pause', policy.max_per_customer_per_365_days, earlier);
  if (count) return refused(count);
  const auto = policy.auto_approve;
  if (!auto) return settled([noAutoApproval('pause')]);
  const because: ApprovalReason[] = [];
  if (auto.max_days !== undefined && request.days > auto.max_days) {
    because.push({ limit: 'pause.auto_approve.max_days', message: `A pause of ${days(request.days)} is longer than the ${days(auto.max_days)} ${POLICY} approves without staff.` });
  }
  const repeat = countApproval('pause', 'max_per_customer_per_365_days', auto.max_per_customer_per_365_days, earlier);
  if (repeat) because.push(repeat);
  return settled(because);
}

function decidePlanChange(policy: ActionsPolicy['plan_change'], request: Extract<ActionRequest, { kind: 'plan_change' }>, earlier: number): Decision {
  if (!policy?.enabled || !policy.max_amount) return disabled('plan_change');
  if (!Number.isSafeInteger(request.amount_due_now)) return refused('The plan change has no whole amount due; preview it again.');
  // A change that charges nothing now (a downgrade's credit) is within any amount limit, in a named currency.
  const charged = Math.max(0, request.amount_due_now);
  const currency = amountRefusal('plan_change', policy.max_amount, charged, request.currency);
  if (currency) return refused(currency);
  const count = countRefusal('plan_change', policy.max_per_customer_per_30_days, earlier);
  if (count) return refused(count);
  const auto = policy.auto_approve;
  if (!auto) return settled([noAutoApproval('plan_change')]);
  const because: ApprovalReason[] = [];
  const amount = amountApproval('plan_change', auto.max_amount, charged, request.currency);
  if (amount) because.push(amount);
  const repeat = countApproval('plan_change', 'max_per_customer_per_30_days', auto.max_per_customer_per_30_days, earlier);
  if (repeat) because.push(repeat);
  return settled(because);
}

/**
 * Paying an invoice the customer owes: no limit unless the policy names one, and no staff
 * approval unless auto_approve asks for it (policy.ts says why).
 */
function decideRetryPayment(policy: ActionsPolicy['retry_payment'], request: Extract<ActionRequest, { kind: 'retry_payment' }>, earlier: number): Decision {
  if (!policy?.enabled) return disabled('retry_payment');
  if (!positiveWholeAmount(request.amount)) return refused('There is nothing to pay on this invoice.');
  if (policy.max_amount) {
    const currency = amountRefusal('retry_payment', policy.max_amount, request.amount, request.currency);
    if (currency) return refused(currency);
  }
  const count = countRefusal('retry_payment', policy.max_per_customer_per_30_days, earlier);
  if (count) return refused(count);
  const auto = policy.auto_approve;
  if (!auto) return settled([]);
  const because: ApprovalReason[] = [];
  const amount = auto.max_amount ? amountApproval('retry_payment', auto.max_amount, request.amount, request.currency) : undefined;
  if (amount) because.push(amount);
  const repeat = countApproval('retry_payment', 'max_per_customer_per_30_days', auto.max_per_customer_per_30_days, earlier);
  if (repeat) because.push(repeat);
  return settled(because);
}
