import type { Settings } from '../config.js';
import { ConfigurationError } from '../errors.js';
import type { Logger } from '../log.js';
import type { CacheBackend } from './cache-backend.js';
import { MemoryCacheBackend } from './memory-cache-backend.js';
import { RedisCacheBackend } from './redis-cache-backend.js';

/**
 * CACHE_URL (default: STORE_URL) names a Redis shared by every process; none: this process's
 * memory. Either way the cache has a byte budget of its own (CACHE_MAX_MB), apart from grants,
 * sessions and limits (in memory, tag tokens and notes have 3/8 of it more: MemoryCacheBackend).
 */
export function createCacheBackend(settings: Pick<Settings, 'CACHE_URL' | 'STORE_URL' | 'CACHE_MAX_MB'>, log: Logger): CacheBackend {
  const url = settings.CACHE_URL ?? settings.STORE_URL;
  const maxBytes = settings.CACHE_MAX_MB * 1024 * 1024;
  if (url === undefined || url.trim() === '') return new MemoryCacheBackend({ maxBytes });
  if (!/^rediss?:\/\//i.test(url)) {
    throw new ConfigurationError('CACHE_URL must be empty (in-memory cache) or a Redis URL of the form redis://[user:password@]host:port[/db] or rediss://…');
  }
  let warned = false;
  return new RedisCacheBackend(url, {
    maxBytes,
    onConnectionError: (error) => {
      if (warned) return;
      warned = true;
      log.warn({ err: error.message }, 'cache Redis unreachable: answering from Stripe directly until it is back');
    },
  });
}
