import { LRUCache } from 'lru-cache';
import type { Store } from './store.js';

/** lru-cache reads a TTL of 0 as "forever"; every key here must expire. */
function boundedTtl(ttlMs: number): number {
  if (!Number.isFinite(ttlMs)) throw new RangeError('Store TTLs must be finite');
  return Math.max(1, Math.ceil(ttlMs));
}

/** The single-process store: bounded in count and in time. */
export class MemoryStore implements Store {
  private readonly entries: LRUCache<string, string>;

  constructor(options: { maxEntries?: number } = {}) {
    this.entries = new LRUCache<string, string>({ max: options.maxEntries ?? 100_000, ttlAutopurge: false });
  }

  async get(key: string): Promise<string | undefined> {
    return this.entries.get(key);
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.entries.set(key, value, { ttl: boundedTtl(ttlMs) });
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.entries.has(key)) return false;
    this.entries.set(key, value, { ttl: boundedTtl(ttlMs) });
    return true;
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    const current = this.entries.get(key);
    if (current === undefined) {
      this.entries.set(key, '1', { ttl: boundedTtl(ttlMs) });
      return 1;
    }
    const next = Number(current) + 1;
    // Keep the original expiry: a counter's window starts with its first hit.
    this.entries.set(key, String(next), { ttl: this.entries.getRemainingTTL(key), noUpdateTTL: true });
    return next;
  }

  async compareAndSet(key: string, expected: string, next: string, ttlMs: number): Promise<boolean> {
    if (this.entries.get(key) !== expected) return false;
    this.entries.set(key, next, { ttl: boundedTtl(ttlMs) });
    return true;
  }

  async compareAndDelete(key: string, expected: string): Promise<boolean> {
    if (this.entries.get(key) !== expected) return false;
    this.entries.delete(key);
    return true;
  }

  async ttl(key: string): Promise<number | undefined> {
    if (!this.entries.has(key)) return undefined;
    return Math.max(0, Math.round(this.entries.getRemainingTTL(key)));
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}
