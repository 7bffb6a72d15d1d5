import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Who a Stripe request is made for (`host:acme-bot`, `staff:support`), so the request budget can
 * charge it to that caller's share. Set around a tool call; background work (probes, warm-up)
 * runs outside any caller and spends only the shared budget.
 */
const current = new AsyncLocalStorage<string>();

export function withStripeCaller<T>(caller: string | undefined, work: () => Promise<T>): Promise<T> {
  return caller === undefined ? work() : current.run(caller, work);
}

export function currentStripeCaller(): string | undefined {
  return current.getStore();
}
