import { ConfigurationError } from '../errors.js';
import { MemoryStore } from './memory-store.js';
import { RedisStore } from './redis-store.js';
import type { Store } from './store.js';

/**
 * STORE_URL unset → one process's memory; `redis://` or `rediss://` → shared Redis. `maxEntries`
 * (STORE_MAX_ENTRIES) is what the quotas are fractions of; in memory it is also the hard cap.
 */
export function createStore(storeUrl: string | undefined, options: { maxEntries?: number } = {}): Store {
  if (storeUrl === undefined || storeUrl.trim() === '') return new MemoryStore(options);
  if (/^rediss?:\/\//i.test(storeUrl)) return new RedisStore(storeUrl, options);
  // Never echo the value: a mistyped URL may still carry a password.
  throw new ConfigurationError(
    'STORE_URL must be empty (in-memory store) or a Redis URL of the form redis://[user:password@]host:port[/db] or rediss://…',
  );
}
