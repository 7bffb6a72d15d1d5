/**
 * Shared state with a TTL on every key, so nothing grows without bound. One interface, one
 * implementation per backend (memory by default; Redis for several processes).
 */
export interface Store {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Atomic: sets the key only when absent; true when this call set it (SET NX PX). */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Atomic counter; the TTL starts with the first increment (INCR + PEXPIRE NX). */
  increment(key: string, ttlMs: number): Promise<number>;
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}
