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
