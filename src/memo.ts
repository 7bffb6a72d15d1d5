import { LRUCache } from 'lru-cache';

/**
 * A pure function's answers kept in a Map, for the formatting every warm answer repeats (the
 * same amounts, dates and names, call after call): a Map read is several times cheaper than
 * Intl, Date or a Unicode regex. Bounded by count: when full it starts again from empty (the
 * values repeat, so it refills with what is in use), so it never holds more than `limit`.
 */
export function memoized<K, V>(compute: (key: K) => V, limit: number): (key: K) => V {
  const known = new Map<K, V>();
  return (key) => {
    let value = known.get(key);
    if (value === undefined) {
      value = compute(key);
      if (known.size >= limit) known.clear();
      known.set(key, value);
    }
    return value;
  };
}

/** What a string key and value cost in a byte budget: as the Redis backend counts an entry. */
export const entryBytes = (value: string, key: string): number => key.length + value.length + 64;

/**
 * A string function's answers kept in an LRU bounded by bytes (by `max`, lru-cache reserves every
 * slot up front): for hashes made on every call of a conversation or customer.
 */
export function memoizedByBytes(compute: (key: string) => string, maxBytes: number): (key: string) => string {
  const kept = new LRUCache<string, string>({ maxSize: maxBytes, sizeCalculation: entryBytes });
  return (key) => {
    let value = kept.get(key);
    if (value === undefined) kept.set(key, (value = compute(key)));
    return value;
  };
}
