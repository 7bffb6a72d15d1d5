import type Stripe from 'stripe';

/**
 * Who a Stripe request is made for (`host:acme-bot`, `staff:support`), so the request budget can
 * charge it to that caller's share and serve waiting callers in turn. Made per tool call and
 * handed along explicitly (the call's `stripe` and `reads` are views bound to it): an
 * AsyncLocalStorage would turn on Node's promise hooks for every promise in the process.
 * Work outside any caller (probes) spends only the shared budget; background work (warming,
 * revalidation) is marked as such, and the budget gives it only room that no waiting answer needs.
 */
export interface StripeWork {
  caller: string | undefined;
  /** Mutable: a background read that a waiting answer joins is promoted (see ReadThroughCache). */
  background: boolean;
  /** Set by the request budget while this work waits there as background: hears of a promotion. */
  onPromoted?: (() => void) | undefined;
}

/** An answer now waits for this background work: it is an answer's from now on, and a budget it waits in hears so at once. */
export function promoteToAnswer(work: StripeWork): void {
  if (!work.background) return;
  work.background = false;
  work.onPromoted?.();
}

/** A caller's answer; no caller (stdio, probes): no work, the shared budget only. */
export function answerWork(caller: string | undefined): StripeWork | undefined {
  return caller === undefined ? undefined : { caller, background: false };
}

/** Background work of its own (each warming read, each revalidation): a promotion promotes only it. */
export function backgroundWork(): StripeWork {
  return { caller: undefined, background: true };
}

/**
 * The request header that carries a request's work from a view (below) through the SDK to
 * BudgetedHttpClient, which takes it out before the request leaves: Stripe never sees it. Its
 * value is the work object itself (the SDK copies header values as they are), so a promotion of
 * a request waiting in the budget is seen there, and nothing needs registering or forgetting.
 */
export const STRIPE_WORK_HEADER = 'X-Sbm-Work';

type Args = unknown[];

/** Work for a call made before the SDK was loaded (src/stripe/client.ts places it once it is). */
class PendingWork {
  constructor(readonly work: StripeWork) {}
}

/**
 * The call's arguments with the work in its request options. Every resource method of the SDK
 * takes its options last (`retrieve(id, params, options)`, `list(params, options)`), so their
 * place is the method's arity; a call given fewer arguments gets `undefined` for those left out.
 */
function withWork(method: { readonly length: unknown }, args: Args, work: StripeWork): Args {
  // A method of the client before its SDK is loaded has no arity yet (its `length` is a deferred member).
  const arity: unknown = method.length;
  const at = typeof arity === 'number' ? arity - 1 : -1;
  if (at < 0) return [...args, new PendingWork(work)];
  const given = [...args];
  while (given.length < at) given.push(undefined);
  const options = given[at] as { headers?: Record<string, unknown> } | undefined;
  given[at] = { ...options, headers: { ...options?.headers, [STRIPE_WORK_HEADER]: work } };
  return given;
}

/** src/stripe/client.ts, once the SDK is loaded: a call's pending work, put where the method takes it. */
export function placePendingWork(method: { readonly length: unknown }, args: Args): Args {
  const last = args.at(-1);
  return last instanceof PendingWork ? withWork(method, args.slice(0, -1), last.work) : args;
}

/**
 * The Stripe client as seen by one piece of work: every resource method call
 * (`stripe.customers.retrieve(…)`, `stripe.billingPortal.sessions.create(…)`) carries the work
 * to the request budget; everything else is the client's own. No work: the client itself.
 */
export function stripeFor(stripe: Stripe, work: StripeWork | undefined): Stripe {
  return work ? (view(stripe, undefined, work, 0) as Stripe) : stripe;
}

/**
 * A member of the client at `depth` (0: the client; 1: `customers`, `billingPortal`, `on`; 2:
 * `customers.retrieve`, `billingPortal.sessions`; …), got through `owner`. Every member is both
 * walked and called through the view: before the SDK is loaded, resources are functions too
 * (src/stripe/client.ts). Calls from depth 2 on are resource methods: they carry the work.
 */
/**
 * Members a proxy of the client leaves alone: not a promise (`await` would wait for a call never
 * made), not serialisable or a class (JSON.stringify, a logger or a symbol lookup must not call it).
 */
export const inertMember = (name: PropertyKey): boolean => typeof name === 'symbol' || name === 'then' || name === 'toJSON' || name === 'constructor';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a walk along the SDK client's resources
function view(target: any, owner: unknown, work: StripeWork, depth: number): unknown {
  const members = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(self, name) {
      const value = self[name];
      if (inertMember(name) || value === null || (typeof value !== 'object' && typeof value !== 'function')) return value;
      // Signature checks make no request, and take no request options.
      if (depth === 0 && name === 'webhooks') return value;
      let member = members.get(name);
      if (member === undefined) members.set(name, (member = view(value, self, work, depth + 1)));
      return member;
    },
    apply(method, _this, args: Args) {
      return Reflect.apply(method, owner, depth >= 2 ? withWork(method, args, work) : args);
    },
  });
}

/** BudgetedHttpClient: the request's work, taken out of its headers so it never reaches Stripe. */
export function takeStripeWork(headers: Record<string, unknown> | undefined): StripeWork | undefined {
  if (!headers || !(STRIPE_WORK_HEADER in headers)) return undefined;
  const work = headers[STRIPE_WORK_HEADER] as StripeWork;
  delete headers[STRIPE_WORK_HEADER];
  return work;
}
