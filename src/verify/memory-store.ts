import { BUSY_MESSAGE, ToolError } from '../errors.js';
import type { Store } from './store.js';
import { withOwner, type StoreOwner } from './store-quotas.js';

/** Entries the single-process store holds at most (grants, sessions, codes, limits, claims). */
export const DEFAULT_MEMORY_STORE_CAPACITY = 100_000;

/** A full store looks for expired entries at most this often (a purge walks every entry). */
const PURGE_INTERVAL_MS = 1_000;
/**
 * Below capacity, expired entries are reclaimed each time the store has doubled since the last
 * reclaim (from at least this many): each walk is paid for by as many new keys as it visits, and
 * entries whose TTL passed never outnumber the live ones for long, however far capacity is.
 */
const RECLAIM_FROM_ENTRIES = 1_000;

/**
 * The store cannot take a NEW key right now (the memory store is at capacity with live entries, a
 * Redis with `noeviction` is at its maxmemory, or the caller's owner holds its whole quota). Nothing
 * live was dropped to make room: the caller's new state is refused instead, as the clean `busy` tool error.
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
  /** The owners this entry is charged to (their ids), from the view that created it. */
  owners: readonly string[];
}

/** One owner's live entries: counted exactly, since every removal of an entry goes through `remove`. */
interface Account {
  keys: Set<string>;
  lastPurge: number;
}

/** What every view of one memory store shares. */
interface MemoryState {
  entries: Map<string, Entry>;
  accounts: Map<string, Account>;
  /** No entry expires before this (a lower bound): a purge before it would find nothing. */
  earliestExpiry: number;
  lastPurge: number;
  /** Entries held at which expired ones are next reclaimed, below capacity. */
  reclaimAt: number;
}

export interface MemoryStoreOptions {
  /** Live entries at most; a new key beyond it is refused with StoreFullError. */
  maxEntries?: number;
}

/**
 * The single-process store: bounded in count and in time. It never evicts a live key to make room
 * (that would drop grants, sessions, lockouts and code budgets — anyone able to create keys could
 * flush them); when full of live entries it refuses new keys, while existing ones can always be
 * updated, counted and deleted. Expired entries are reclaimed when room is needed. A view from
 * `ownedBy` charges the keys it creates to its owners, each refused beyond its quota.
 */
export class MemoryStore implements Store {
  private state: MemoryState = { entries: new Map(), accounts: new Map(), earliestExpiry: Number.POSITIVE_INFINITY, lastPurge: Number.NEGATIVE_INFINITY, reclaimAt: RECLAIM_FROM_ENTRIES };
  readonly capacity: number;
  /** Who pays for the keys this view creates, outermost first (none: the store itself). */
  private owners: readonly StoreOwner[] = [];
  /** Their ids, one array shared by every entry this view creates. */
  private ownerIds: readonly string[] = [];

  constructor(options: MemoryStoreOptions = {}) {
    const capacity = options.maxEntries ?? DEFAULT_MEMORY_STORE_CAPACITY;
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('maxEntries must be a positive integer');
    this.capacity = capacity;
  }

  private get entries(): Map<string, Entry> {
    return this.state.entries;
  }

  /** Entries held, expired ones not yet reclaimed included. */
  get size(): number {
    return this.entries.size;
  }

  /** The same store; the keys this view creates are also charged to `owner`, within `share` of this view's quota. */
  ownedBy(owner: string, share: number): MemoryStore {
    const view = new MemoryStore({ maxEntries: this.capacity });
    view.state = this.state;
    view.owners = withOwner(this.owners, owner, share, this.capacity);
    view.ownerIds = view.owners.map((each) => each.id);
    return view;
  }

  /** Live entries charged to `owner` (expired ones not yet reclaimed included). */
  entriesOwnedBy(owner: string): number {
    return this.state.accounts.get(owner)?.keys.size ?? 0;
  }

  /** Live entries whose key starts with `prefix` (one tenant's slice): walks every entry, for reports and tests. */
  liveEntries(prefix = ''): number {
    const now = performance.now();
    let live = 0;
    for (const [key, entry] of this.entries) if (entry.expiresAt > now && key.startsWith(prefix)) live += 1;
    return live;
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
    this.remove(key);
    return true;
  }

  async ttl(key: string): Promise<number | undefined> {
    const entry = this.live(key);
    if (!entry) return undefined;
    return Math.max(0, Math.round(entry.expiresAt - performance.now()));
  }

  async delete(key: string): Promise<void> {
    this.remove(key);
  }

  async deleteByPrefix(prefix: string): Promise<number> {
    let deleted = 0;
    for (const key of [...this.entries.keys()]) {
      if (key.startsWith(prefix) && this.remove(key)) deleted += 1;
    }
    return deleted;
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.state.accounts.clear();
    this.state.earliestExpiry = Number.POSITIVE_INFINITY;
    this.state.reclaimAt = RECLAIM_FROM_ENTRIES;
  }

  /** The key's entry if it has not expired; an expired one is dropped. */
  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= performance.now()) {
      this.remove(key);
      return undefined;
    }
    return entry;
  }

  /** Drops the entry and its charge to every owner; true when there was one. */
  private remove(key: string): boolean {
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    this.entries.delete(key);
    for (const owner of entry.owners) {
      const account = this.state.accounts.get(owner);
      account?.keys.delete(key);
      if (account?.keys.size === 0) this.state.accounts.delete(owner);
    }
    return true;
  }

  /** Sets the key; a key not held yet needs room, which is never made by dropping a live entry. */
  private write(key: string, value: string, ttlMs: number): void {
    const expiresAt = performance.now() + boundedTtl(ttlMs);
    const existing = this.live(key);
    if (existing) {
      // An update stays charged to whoever created the key.
      existing.value = value;
      existing.expiresAt = expiresAt;
    } else {
      for (const owner of this.owners) this.makeRoomFor(owner);
      this.reclaimExpired();
      this.makeRoom();
      const owners = this.ownerIds;
      this.entries.set(key, { value, expiresAt, owners });
      for (const owner of owners) {
        let account = this.state.accounts.get(owner);
        if (!account) this.state.accounts.set(owner, (account = { keys: new Set(), lastPurge: Number.NEGATIVE_INFINITY }));
        account.keys.add(key);
      }
    }
    if (expiresAt < this.state.earliestExpiry) this.state.earliestExpiry = expiresAt;
  }

  /** Keeps what expired from piling up to capacity (a store of per-conversation keys mostly holds the dead). */
  private reclaimExpired(): void {
    if (this.entries.size < this.state.reclaimAt) return;
    if (this.purgeExpired()) this.state.reclaimAt = Math.max(RECLAIM_FROM_ENTRIES, 2 * this.entries.size);
  }

  private makeRoom(): void {
    if (this.entries.size < this.capacity) return;
    this.purgeExpired();
    if (this.entries.size >= this.capacity) throw new StoreFullError({ capacity: this.capacity });
  }

  /** The owner is under its quota, once its own expired entries are reclaimed (at most every second: a walk of its keys). */
  private makeRoomFor(owner: StoreOwner): void {
    const account = this.state.accounts.get(owner.id);
    if (!account || account.keys.size < owner.limit) return;
    const now = performance.now();
    if (now - account.lastPurge >= PURGE_INTERVAL_MS) {
      account.lastPurge = now;
      for (const key of [...account.keys]) this.live(key);
    }
    if (account.keys.size >= owner.limit) throw new StoreFullError({ owner: owner.id, quota: owner.limit });
  }

  /** Drops every expired entry, unless none can have expired yet or a purge ran just now (then false). */
  private purgeExpired(): boolean {
    const now = performance.now();
    if (now < this.state.earliestExpiry) return true;
    if (now - this.state.lastPurge < PURGE_INTERVAL_MS) return false;
    this.state.lastPurge = now;
    let earliest = Number.POSITIVE_INFINITY;
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt <= now) this.remove(key);
      else if (entry.expiresAt < earliest) earliest = entry.expiresAt;
    }
    this.state.earliestExpiry = earliest;
    return true;
  }
}
