/**
 * Shared state with a TTL on every key, so nothing grows without bound. One interface, one
 * implementation per backend (memory by default; Redis for several processes). Every
 * operation that decides something (claim, count, consume) is atomic in both backends.
 */
export interface Store {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Atomic: sets the key only when absent; true when this call set it (SET NX PX). */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Atomic counter; the TTL starts with the first increment and is not extended by later ones. */
  increment(key: string, ttlMs: number): Promise<number>;
  /** Atomic: replaces the value only if it is still `expected` (what the caller read); true when it did. */
  compareAndSet(key: string, expected: string, next: string, ttlMs: number): Promise<boolean>;
  /** Atomic: deletes the key only if its value is still `expected`; true when it did. */
  compareAndDelete(key: string, expected: string): Promise<boolean>;
  /** Remaining lifetime in ms, or undefined when the key does not exist. */
  ttl(key: string): Promise<number | undefined>;
  delete(key: string): Promise<void>;
  /** Deletes every key that starts with `prefix` (a removed tenant's state); resolves to how many. */
  deleteByPrefix(prefix: string): Promise<number>;
  /**
   * The same store, but every key this view creates is also charged to `owner` (a merchant, a host
   * key, anonymous callers), which may hold at most `share` of this view's own quota (of the whole
   * store at the root) in live entries; beyond it a new key is refused as `busy` (StoreFullError).
   * Keys are charged to whoever created them; updates, reads and deletes are free. src/verify/store-quotas.ts
   */
  ownedBy(owner: string, share: number): Store;
  /** Reachable? (readiness probes) */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
