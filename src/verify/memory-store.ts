import { BUSY_MESSAGE, ToolError } from '../errors.js';
import type { Store } from './store.js';

/** Entries the single-process store holds at most (grants, sessions, codes, limits, claims). */
export const DEFAULT_MEMORY_STORE_CAPACITY = 100_000;

/** A full store looks for expired entries at most this often (a purge walks every entry). */
const PURGE_INTERVAL_MS = 1_000;

/**
 * The store cannot take a NEW key right now (the memory store is at capacity with live entries, or
 * a Redis with `noeviction` is at its maxmemory). Nothing live was dropped to make room: the caller's
 * new state is refused instead, as the clean `busy` tool error.
 */
export class StoreFullError extends ToolError {
  constructor(logDetail: Record<string, unknown>) {
    super('busy', BUSY_MESSAGE, { store: 'full', ...logDetail }, 2);
    this.name = 'StoreFullError';
  }
}

/** Every key here must expire; a TTL is rounded up to whole ms. */
function boundedTtl(ttlMs: number): number {
  if (!Number.isFinite(ttlMs)) throw new RangeError('Store TTLs must be finite');
  return Math.max(1, Math.ceil(ttlMs));
}

interface Entry {
  value: string;
  /** On the monotonic clock (`performance.now()`), like the TTLs. */
  expiresAt: number;
}

export interface MemoryStoreOptions {
  /** Live entries at most; a new key beyond it is refused with StoreFullError. */
  maxEntries?: number;
}

/**
 * The single-process store: bounded in count and in time. It never evicts a live key to make room
 * (that would drop grants, sessions, lockouts and code budgets — anyone able to create keys could
 * flush them); when full of live entries it refuses new keys, while existing ones can always be
 * updated, counted and deleted. Expired entries are reclaimed when room is needed.
 */
export class MemoryStore implements Store {
  private readonly entries = new Map<string, Entry>();
  readonly capacity: number;
  /** No entry expires before this (a lower bound): a purge before it would find nothing. */
  private earliestExpiry = Number.POSITIVE_INFINITY;
  private lastPurge = Number.NEGATIVE_INFINITY;

  constructor(options: MemoryStoreOptions = {}) {
    const capacity = options.maxEntries ?? DEFAULT_MEMORY_STORE_CAPACITY;
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('maxEntries must be a positive integer');
    this.capacity = capacity;
  }

  /** Entries held, expired ones not yet reclaimed included. */
  get size(): number {
    return this.entries.size;
  }

  async get(key: string): Promise<string | undefined> {
    return this.live(key)?.value;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.write(key, value, ttlMs);
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.live(key)) return false;
    this.write(key, value, ttlMs);
    return true;
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    const current = this.live(key);
    if (current === undefined) {
      this.write(key, '1', ttlMs);
      return 1;
    }
    // Keep the original expiry: a counter's window starts with its first hit.
    const next = Number(current.value) + 1;
    current.value = String(next);
    return next;
  }

  async compareAndSet(key: string, expected: string, next: string, ttlMs: number): Promise<boolean> {
    if (this.live(key)?.value !== expected) return false;
    this.write(key, next, ttlMs);
    return true;
  }

  async compareAndDelete(key: string, expected: string): Promise<boolean> {
    if (this.live(key)?.value !== expected) return false;
    this.entries.delete(key);
    return true;
  }

  async ttl(key: string): Promise<number | undefined> {
    const entry = this.live(key);
    if (!entry) return undefined;
    return Math.max(0, Math.round(entry.expiresAt - performance.now()));
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async deleteByPrefix(prefix: string): Promise<number> {
    let deleted = 0;
    for (const key of [...this.entries.keys()]) {
      if (key.startsWith(prefix) && this.entries.delete(key)) deleted += 1;
    }
    return deleted;
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.earliestExpiry = Number.POSITIVE_INFINITY;
  }

  /** The key's entry if it has not expired; an expired one is dropped. */
  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= performance.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Sets the key; a key not held yet needs room, which is never made by dropping a live entry. */
  private write(key: string, value: string, ttlMs: number): void {
    const expiresAt = performance.now() + boundedTtl(ttlMs);
    const existing = this.live(key);
    if (existing) {
      existing.value = value;
      existing.expiresAt = expiresAt;
    } else {
      this.makeRoom();
      this.entries.set(key, { value, expiresAt });
    }
    if (expiresAt < this.earliestExpiry) this.earliestExpiry = expiresAt;
  }

  private makeRoom(): void {
    if (this.entries.size < this.capacity) return;
    this.purgeExpired();
    if (this.entries.size >= this.capacity) throw new StoreFullError({ capacity: this.capacity });
  }

  /** Drops every expired entry, unless none can have expired yet or a purge ran just now. */
  private purgeExpired(): void {
    const now = performance.now();
    if (now < this.earliestExpiry || now - this.lastPurge < PURGE_INTERVAL_MS) return;
    this.lastPurge = now;
    let earliest = Number.POSITIVE_INFINITY;
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt <= now) this.entries.delete(key);
      else if (entry.expiresAt < earliest) earliest = entry.expiresAt;
    }
    this.earliestExpiry = earliest;
  }
}
