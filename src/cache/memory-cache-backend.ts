import { LRUCache } from 'lru-cache';
import { newToken, TAG_TTL_MS, type CacheBackend } from './cache-backend.js';

/** The single-process cache: bounded in bytes, in its own LRU, apart from the security store. */
export class MemoryCacheBackend implements CacheBackend {
  private readonly maxBytes: number;
  private lrus: { entries: LRUCache<string, string>; tokens: LRUCache<string, string>; notes: LRUCache<string, string> } | undefined;

  constructor(options: { maxBytes?: number } = {}) {
    this.maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  }

  /**
   * Made on first use: an LRU with `max` allocates all its slots up front (about 45 ms for these
   * two), which a stdio launch that answers tools/list should not pay.
   */
  private get caches() {
    return (this.lrus ??= {
      entries: new LRUCache<string, string>({ maxSize: this.maxBytes, sizeCalculation: (value, key) => value.length + key.length + 64, ttlAutopurge: false }),
      // An evicted token only makes its entries miss: a new random one never matches them.
      tokens: new LRUCache<string, string>({ max: 200_000, ttl: TAG_TTL_MS }),
      // Small facts with their own TTL (event ids, object owners, the last event): never pushed out by entries.
      notes: new LRUCache<string, string>({ max: 200_000 }),
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
