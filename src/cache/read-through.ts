import type { Logger } from '../log.js';
import { currentStripeCaller } from '../stripe/caller-context.js';
import type { CacheBackend } from './cache-backend.js';

/** Larger values are answered but not cached: an entry is a projection, never a bulk export. */
const MAX_ENTRY_BYTES = 256 * 1024;

interface Entry {
  /** The tags' tokens when the Stripe read started. */
  t: string[];
  v: unknown;
}

export interface ReadSpec<T> {
  key: string;
  /** What the entry depends on; an invalidation of any of them makes it miss. */
  tags: readonly string[];
  /** How long the value may be served; 0 or less: answer it without caching it. */
  ttlMs: (value: T) => number;
  load: () => Promise<T>;
}

export type CacheOutcome = 'hit' | 'miss' | 'error';

/**
 * Read-through caching with tag tokens (see CacheBackend) and one Stripe read per key and
 * token set in flight per process: ten conversations asking for the catalogue at once make
 * one request. A cache that fails is skipped (the answer comes from Stripe), never an error.
 */
export class ReadThroughCache {
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private lastFailureLog = 0;
  /** Told of every read's outcome (metrics). */
  observe: (outcome: CacheOutcome) => void = () => {};

  constructor(
    readonly backend: CacheBackend,
    private readonly log: Logger,
  ) {}

  async read<T>(spec: ReadSpec<T>): Promise<T> {
    let tokens: string[] | undefined;
    try {
      const found = await this.backend.read(spec.key, spec.tags);
      tokens = found.tokens;
      if (found.value !== undefined) {
        const entry = JSON.parse(found.value) as Entry;
        if (entry.t.length === tokens.length && entry.t.every((token, i) => token === tokens![i])) {
          this.observe('hit');
          return entry.v as T;
        }
      }
      this.observe('miss');
    } catch (error) {
      this.observe('error');
      this.logFailure(error);
    }
    // Per caller too: the shared read spends its starter's share of the Stripe budget, so a caller
    // whose share is used up must not make another caller's identical read fail as busy.
    const flightKey = `${spec.key}|${tokens ? tokens.join(',') : 'uncached'}|${currentStripeCaller() ?? ''}`;
    const pending = this.inFlight.get(flightKey);
    if (pending) return pending as Promise<T>;
    const flight = this.loadAndStore(spec, tokens).finally(() => this.inFlight.delete(flightKey));
    this.inFlight.set(flightKey, flight);
    return flight;
  }

  async invalidate(tags: readonly string[]): Promise<void> {
    await this.backend.invalidate(tags);
  }

  private async loadAndStore<T>(spec: ReadSpec<T>, tokens: string[] | undefined): Promise<T> {
    const value = await spec.load();
    const ttlMs = spec.ttlMs(value);
    if (tokens && ttlMs > 0) {
      const serialized = JSON.stringify({ t: tokens, v: value ?? null } satisfies Entry);
      if (serialized.length <= MAX_ENTRY_BYTES) {
        this.backend.write(spec.key, serialized, ttlMs).catch((error: unknown) => this.logFailure(error));
      }
    }
    return value;
  }

  private logFailure(error: unknown): void {
    const now = Date.now();
    if (now - this.lastFailureLog < 60_000) return;
    this.lastFailureLog = now;
    this.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'cache unavailable: answering from Stripe directly');
  }
}
