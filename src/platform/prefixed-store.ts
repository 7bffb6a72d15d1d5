import type { Store } from '../verify/store.js';

/**
 * One tenant's view of the shared store: every key it reads or writes starts with the tenant's
 * prefix, so grants, codes, sessions and limits of one merchant can never be found by another's
 * requests, and removing the tenant deletes them all.
 */
export class PrefixedStore implements Store {
  constructor(
    private readonly inner: Store,
    readonly prefix: string,
  ) {}

  get(key: string) {
    return this.inner.get(this.prefix + key);
  }

  set(key: string, value: string, ttlMs: number) {
    return this.inner.set(this.prefix + key, value, ttlMs);
  }

  setIfAbsent(key: string, value: string, ttlMs: number) {
    return this.inner.setIfAbsent(this.prefix + key, value, ttlMs);
  }

  increment(key: string, ttlMs: number) {
    return this.inner.increment(this.prefix + key, ttlMs);
  }

  compareAndSet(key: string, expected: string, next: string, ttlMs: number) {
    return this.inner.compareAndSet(this.prefix + key, expected, next, ttlMs);
  }

  compareAndDelete(key: string, expected: string) {
    return this.inner.compareAndDelete(this.prefix + key, expected);
  }

  ttl(key: string) {
    return this.inner.ttl(this.prefix + key);
  }

  delete(key: string) {
    return this.inner.delete(this.prefix + key);
  }

  deleteByPrefix(prefix: string) {
    return this.inner.deleteByPrefix(this.prefix + prefix);
  }

  /** The owner is named inside this prefix, so a removed tenant's counts go with its keys. */
  ownedBy(owner: string, share: number): PrefixedStore {
    return new PrefixedStore(this.inner.ownedBy(this.prefix + owner, share), this.prefix);
  }

  ping() {
    return this.inner.ping();
  }

  /** The shared store outlives every tenant: the platform closes it. */
  async close(): Promise<void> {}
}
