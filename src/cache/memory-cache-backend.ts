import { LRUCache } from 'lru-cache';
import { newToken, TAG_TTL_MS, type CacheBackend } from './cache-backend.js';

/** The single-process cache: bounded in bytes, in its own LRU, apart from the security store. */
export class MemoryCacheBackend implements CacheBackend {
  private readonly entries: LRUCache<string, string>;
  private readonly tokens: LRUCache<string, string>;
  /** Small facts with their own TTL (event ids, object owners, the last event): never pushed out by entries. */
  private readonly notes: LRUCache<string, string>;

  constructor(options: { maxBytes?: number } = {}) {
    const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.entries = new LRUCache<string, string>({ maxSize: maxBytes, sizeCalculation: (value, key) => value.length + key.length + 64, ttlAutopurge: false });
    // An evicted token only makes its entries miss: a new random one never matches them.
    this.tokens = new LRUCache<string, string>({ max: 200_000, ttl: TAG_TTL_MS });
    this.notes = new LRUCache<string, string>({ max: 200_000 });
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

  async claim(key: string, ttlMs: number): Promise<boolean> {
    if (this.notes.has(key)) return false;
    this.notes.set(key, '1', { ttl: Math.max(1, Math.ceil(ttlMs)) });
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
    this.entries.clear();
    this.tokens.clear();
    this.notes.clear();
  }
}
