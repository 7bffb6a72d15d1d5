/**
 * Where cached Stripe reads live: one process's memory or a Redis shared by every process.
 *
 * Freshness works by tags. Every entry names the tags it depends on (a customer record, an
 * email, the catalogue) and records the token each tag had when its Stripe read STARTED. An
 * invalidation gives the tag a new random token, so every entry recorded under the old one is
 * dead at once, and a read that was in flight when the event came writes back an entry that
 * is already dead. Tokens are random, never counters: a token lost to eviction is replaced by
 * a new one, never by an old value that would revive stale entries.
 *
 * A cache backend never holds security state (grants, sessions, limits): those live in the
 * Store, so filling the cache can neither evict them nor make the store refuse them.
 */
export interface CacheBackend {
  /**
   * The entry (if any) and the current token of each tag, in one round trip. A tag without a
   * token gets a new one, so the caller can record what it read under.
   */
  read(key: string, tags: readonly string[]): Promise<{ value: string | undefined; tokens: string[] }>;
  write(key: string, value: string, ttlMs: number): Promise<void>;
  /** A new token for each tag: every entry that depends on one of them is invalid from now on. */
  invalidate(tags: readonly string[]): Promise<void>;
  /**
   * SET NX: true for the first caller only (webhook event de-duplication, who reads a miss from
   * Stripe). `value` (default "1") says something about the holder; `get` reads it.
   */
  claim(key: string, ttlMs: number, value?: string): Promise<boolean>;
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}

/** Longest life of a tag's token; an entry never outlives it (entries live at most an hour). */
export const TAG_TTL_MS = 2 * 60 * 60_000;

export function newToken(): string {
  return `${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 10)}`;
}
