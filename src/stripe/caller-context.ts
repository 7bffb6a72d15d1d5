import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Who a Stripe request is made for (`host:acme-bot`, `staff:support`), so the request budget can
 * charge it to that caller's share and serve waiting callers in turn. Set around a tool call.
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

const current = new AsyncLocalStorage<StripeWork>();

export function withStripeCaller<T>(caller: string | undefined, work: () => Promise<T>): Promise<T> {
  return caller === undefined ? work() : current.run({ caller, background: false }, work);
}

/** Runs `work` as background Stripe work; the returned promise is the work's. */
export function withBackgroundStripeWork<T>(work: () => Promise<T>): Promise<T> {
  return current.run({ caller: undefined, background: true }, work);
}

export function currentStripeWork(): StripeWork | undefined {
  return current.getStore();
}
