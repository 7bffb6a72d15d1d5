import { LRUCache } from 'lru-cache';
import { entryBytes } from '../memo.js';
import { newToken, TAG_TTL_MS, type CacheBackend } from './cache-backend.js';


/**
 * The single-process cache: bounded in bytes, in LRUs of its own, apart from the security store.
 * Entries have the whole budget; tag tokens and notes each a share of it on top, so that entries
 * never push them out. Every LRU is bounded by bytes, never by a count: an LRU with `max` reserves
 * all its slots up front (two of 200,000 held 17 MB of a 50 MB live heap, whichever load came),
 * and a heap that size grows to several times it between collections.
 */
export class MemoryCacheBackend implements CacheBackend {
  /** Tag tokens' share: two tags per customer and the catalogue (~100 bytes each). */
  static readonly TOKENS_SHARE = 1 / 8;
  /**
   * Notes' share (event ids, objects' owners, the last event). An owner is noted for each object an
   * entry names, in about a tenth of that object's bytes in the entry, and must outlive the entries
   * it helps invalidate (an event about an object whose owner was dropped invalidates nothing):
   * half the entries' budget holds the owners of about five full caches of entries.
   */
  static readonly NOTES_SHARE = 1 / 2;
  private readonly maxBytes: number;
  private lrus: { entries: LRUCache<string, string>; tokens: LRUCache<string, string>; notes: LRUCache<string, string> } | undefined;

  constructor(options: { maxBytes?: number } = {}) {
    this.maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  }

  /** Made on first use: a stdio launch that never reads Stripe holds nothing. */
  private get caches() {
    return (this.lrus ??= {
      entries: new LRUCache<string, string>({ maxSize: this.maxBytes, sizeCalculation: entryBytes }),
      // An evicted token only makes its entries miss: a new random one never matches them.
      tokens: new LRUCache<string, string>({ maxSize: Math.ceil(this.maxBytes * MemoryCacheBackend.TOKENS_SHARE), sizeCalculation: entryBytes, ttl: TAG_TTL_MS }),
      // Small facts with their own TTL: never pushed out by entries.
      notes: new LRUCache<string, string>({ maxSize: Math.ceil(this.maxBytes * MemoryCacheBackend.NOTES_SHARE), sizeCalculation: entryBytes }),
    });
  }

  private get entries() {
    return this.caches.entries;
  }

  private get tokens() {
    return this.caches.tokens;
  }

  private get notes() {
    return this.caches.notes;
  }

  async read(key: string, tags: readonly string[]): Promise<{ value: string | undefined; tokens: string[] }> {
    const tokens = tags.map((tag) => {
      let token = this.tokens.get(tag);
      if (token === undefined) {
        token = newToken();
        this.tokens.set(tag, token);
      }
      return token;
    });
    return { value: this.entries.get(key), tokens };
  }

  async write(key: string, value: string, ttlMs: number): Promise<void> {
    this.entries.set(key, value, { ttl: Math.max(1, Math.ceil(ttlMs)) });
  }

  async invalidate(tags: readonly string[]): Promise<void> {
    for (const tag of tags) this.tokens.set(tag, newToken());
  }

  async claim(key: string, ttlMs: number, value = '1'): Promise<boolean> {
    if (this.notes.has(key)) return false;
    this.notes.set(key, value, { ttl: Math.max(1, Math.ceil(ttlMs)) });
    return true;
  }

  async get(key: string): Promise<string | undefined> {
    return this.notes.get(key);
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.notes.set(key, value, { ttl: Math.max(1, Math.ceil(ttlMs)) });
  }

  async delete(key: string): Promise<void> {
    this.notes.delete(key);
  }

  async close(): Promise<void> {
    this.lrus = undefined;
  }
}
