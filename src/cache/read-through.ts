import { LRUCache } from 'lru-cache';
import type { Logger } from '../log.js';
import { entryBytes } from '../memo.js';
import { backgroundWork, promoteToAnswer, type StripeWork } from '../stripe/caller-context.js';
import type { CacheBackend } from './cache-backend.js';

/** Larger values are answered but not cached: an entry is a projection, never a bulk export. */
const MAX_ENTRY_BYTES = 256 * 1024;
/** Parsed hits kept per process, by the bytes of their JSON: hits then skip JSON.parse. */
const PARSED_HITS_MAX_BYTES = 8 * 1024 * 1024;

/** How long a process may hold "I am reading this from Stripe" before others stop waiting for it. */
const FETCH_LOCK_MS = 6_000;
/** Polling for another process's result: quick at first (a Stripe read takes 50–300 ms), then slower. */
const POLL_FIRST_MS = 20;
const POLL_MAX_MS = 120;
const HOLDER_ANSWER = 'answer';
const HOLDER_BACKGROUND = 'background';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Entry {
  /** The tags' tokens when the Stripe read started. */
  t: string[];
  v: unknown;
  /** Fresh until (epoch ms). */
  f?: number;
  /** Past `f`, may still be served while a refresh runs until this (epoch ms); absent: never. */
  s?: number;
}

export interface ReadSpec<T> {
  key: string;
  /** What the entry depends on; an invalidation of any of them makes it miss. */
  tags: readonly string[];
  /** How long the value may be served; 0 or less: answer it without caching it. */
  ttlMs: (value: T) => number;
  /**
   * How long past its TTL an entry that no invalidation touched may still be served at once,
   * while a background read refreshes it (only where events invalidate entries: webhooks).
   */
  staleMs?: (value: T) => number;
  /** Reads Stripe for `work`: the reader's who started the read, or a revalidation's (background). */
  load: (work: StripeWork | undefined) => Promise<T>;
}

export type CacheOutcome = 'hit' | 'stale' | 'miss' | 'error';

export interface ReadThroughOptions {
  /** Tests move the clock that decides freshness. */
  now?: () => number;
  /** Told of each background revalidation as it settles (tests wait for it). */
  onRevalidated?: (key: string) => void;
}

/** A Stripe read in flight in this process, shared by its readers here. */
interface Flight {
  promise: Promise<unknown>;
  work: StripeWork | undefined;
  /** The cross-process lock this read holds as a background read, while it does. */
  backgroundLock?: string | undefined;
}

const sameTokens = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((token, i) => token === b[i]);

/** Deep-frozen: a parsed hit is handed to every later reader, so none may change it. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Read-through caching with tag tokens (see CacheBackend).
 *
 * One Stripe read per key and token set: in this process, readers of a key share its read in
 * flight; across processes, the first to miss takes a short lock in the cache and the others wait
 * for its entry (polling the cache, bounded, and fetching themselves if the holder dies or is
 * slow), so a burst of new customers costs each read once, not once per process.
 *
 * A cache that fails is skipped (the answer comes from Stripe), never an error. Hit values are
 * frozen and shared (parsed once per entry): callers must copy before changing anything.
 */
export class ReadThroughCache {
  private readonly inFlight = new Map<string, Flight>();
  private readonly revalidating = new Set<string>();
  private readonly parsed = new LRUCache<string, { raw: string; entry: Entry }>({ maxSize: PARSED_HITS_MAX_BYTES, sizeCalculation: (value, key) => entryBytes(value.raw, key) });
  private readonly now: () => number;
  private lastFailureLog = 0;
  /** Told of every read's outcome (metrics). */
  observe: (outcome: CacheOutcome) => void = () => {};

  constructor(
    readonly backend: CacheBackend,
    private readonly log: Logger,
    private readonly options: ReadThroughOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /** `work`: whose read this is (a tool call's caller, a warming read); none: nobody's. */
  async read<T>(spec: ReadSpec<T>, work?: StripeWork): Promise<T> {
    let tokens: string[] | undefined;
    try {
      const found = await this.backend.read(spec.key, spec.tags);
      tokens = found.tokens;
      const served = this.serve(spec.key, found.value, tokens);
      if (served) {
        this.observe(served.stale ? 'stale' : 'hit');
        if (served.stale) this.revalidate(spec, tokens);
        return served.value as T;
      }
      this.observe('miss');
    } catch (error) {
      this.observe('error');
      this.logFailure(error);
    }
    // Per caller too: the shared read spends its starter's share of the Stripe budget, so a caller
    // whose share is used up must not make another caller's identical read fail as busy.
    const base = `${spec.key}|${tokens ? tokens.join(',') : 'uncached'}`;
    const flightKey = `${base}|${work?.background ? '~background' : (work?.caller ?? '')}`;
    const pending = this.inFlight.get(flightKey) ?? (work?.background ? undefined : this.inFlight.get(`${base}|~background`));
    if (pending) {
      // An answer waits for a background read (warming): it is an answer's read from now on, and
      // other processes' answers wait for it instead of taking its place.
      if (pending.work?.background && !work?.background) {
        promoteToAnswer(pending.work);
        if (pending.backgroundLock) this.backend.set(pending.backgroundLock, HOLDER_ANSWER, FETCH_LOCK_MS).catch(() => {});
      }
      return pending.promise as Promise<T>;
    }
    const flight: Flight = { promise: Promise.resolve(), work };
    flight.promise = this.fetchOnce(spec, tokens, flight).finally(() => this.inFlight.delete(flightKey));
    this.inFlight.set(flightKey, flight);
    return flight.promise as Promise<T>;
  }

  async invalidate(tags: readonly string[]): Promise<void> {
    await this.backend.invalidate(tags);
  }

  /** The entry's value if it may be served: fresh, or stale within its window (then refreshed). */
  private serve(key: string, raw: string | undefined, tokens: readonly string[]): { value: unknown; stale: boolean } | undefined {
    if (raw === undefined) return undefined;
    const entry = this.parse(key, raw);
    if (!sameTokens(entry.t, tokens)) return undefined;
    const now = this.now();
    if (entry.f === undefined || now < entry.f) return { value: entry.v, stale: false };
    if (entry.s !== undefined && now < entry.s) return { value: entry.v, stale: true };
    return undefined;
  }

  private parse(key: string, raw: string): Entry {
    const known = this.parsed.get(key);
    if (known && known.raw === raw) return known.entry;
    const entry = deepFreeze(JSON.parse(raw) as Entry);
    this.parsed.set(key, { raw, entry });
    return entry;
  }

  /**
   * The Stripe read of a miss, made by one process: the lock's holder reads and writes the entry;
   * the others wait for it, then read it from the cache.
   */
  private async fetchOnce<T>(spec: ReadSpec<T>, tokens: string[] | undefined, flight: Flight): Promise<T> {
    if (!tokens) return this.loadAndStore(spec, flight.work, undefined);
    const deadline = Date.now() + FETCH_LOCK_MS;
    let poll = POLL_FIRST_MS;
    let current = tokens;
    let waited = false;
    const background = flight.work?.background === true;
    for (;;) {
      let lock = this.lockKey(spec.key, current);
      let claimed: boolean;
      try {
        claimed = await this.backend.claim(lock, FETCH_LOCK_MS, background ? HOLDER_BACKGROUND : HOLDER_ANSWER);
        // A background read (warming, revalidation) holds it: it may wait long for spare budget,
        // while answers everywhere wait. The first answer to come takes its place under a lock of
        // its own (one Stripe read for every process's answers); the background read still ends
        // on spare budget, and its entry is the same.
        if (!claimed && !background && (await this.backend.get(lock)) === HOLDER_BACKGROUND) {
          lock = `${lock}|answer`;
          claimed = await this.backend.claim(lock, FETCH_LOCK_MS, HOLDER_ANSWER);
        }
      } catch (error) {
        this.logFailure(error);
        return this.loadAndStore(spec, flight.work, undefined);
      }
      if (claimed) {
        // The holder we waited for may have written its entry just before letting go.
        if (waited) {
          const served = await this.backend
            .read(spec.key, spec.tags)
            .then((found) => this.serve(spec.key, found.value, found.tokens))
            .catch(() => undefined);
          if (served && !served.stale) {
            await this.backend.delete(lock).catch(() => {});
            return served.value as T;
          }
        }
        if (!background) return this.loadAndStore(spec, flight.work, current, lock);
        // Only while Stripe is being read: a promotion after that would leave a lock nobody deletes.
        flight.backgroundLock = lock;
        const load = (work: StripeWork | undefined) => spec.load(work).finally(() => (flight.backgroundLock = undefined));
        return this.loadAndStore({ ...spec, load }, flight.work, current, lock);
      }
      waited = true;
      // Waited as long as a holder may hold the lock: read Stripe ourselves (its answer is no less fresh).
      if (Date.now() >= deadline) return this.loadAndStore(spec, flight.work, current);
      await sleep(poll);
      poll = Math.min(POLL_MAX_MS, poll * 2);
      let found: { value: string | undefined; tokens: string[] };
      try {
        found = await this.backend.read(spec.key, spec.tags);
      } catch (error) {
        this.logFailure(error);
        return this.loadAndStore(spec, flight.work, undefined);
      }
      const served = this.serve(spec.key, found.value, found.tokens);
      if (served && !served.stale) return served.value as T;
      // An invalidation meanwhile: the read being waited for is already dead; wait for (or make) the next.
      current = found.tokens;
    }
  }

  /** Past its TTL, within its stale window: one background refresh per key across processes. */
  private revalidate<T>(spec: ReadSpec<T>, tokens: string[]): void {
    const flight = `${spec.key}|${tokens.join(',')}`;
    if (this.revalidating.has(flight)) return;
    this.revalidating.add(flight);
    void (async () => {
      const lock = this.lockKey(spec.key, tokens);
      // Another process refreshes it already.
      if (!(await this.backend.claim(lock, FETCH_LOCK_MS, HOLDER_BACKGROUND))) return;
      await this.loadAndStore(spec, backgroundWork(), tokens, lock);
    })()
      .catch(() => {})
      .finally(() => {
        this.revalidating.delete(flight);
        this.options.onRevalidated?.(spec.key);
      });
  }

  private lockKey(key: string, tokens: readonly string[]): string {
    return `${key}|fetching|${tokens.join(',')}`;
  }

  /** Reads Stripe and writes the entry; with a lock, the entry is written before the lock is let go, so waiters find it. */
  private async loadAndStore<T>(spec: ReadSpec<T>, work: StripeWork | undefined, tokens: string[] | undefined, lock?: string): Promise<T> {
    try {
      const value = await spec.load(work);
      const ttlMs = spec.ttlMs(value);
      if (tokens && ttlMs > 0) {
        const now = this.now();
        const staleMs = Math.max(0, spec.staleMs?.(value) ?? 0);
        const entry: Entry = { t: tokens, v: value ?? null, f: now + ttlMs, ...(staleMs > 0 ? { s: now + ttlMs + staleMs } : {}) };
        const serialized = JSON.stringify(entry);
        if (serialized.length <= MAX_ENTRY_BYTES) {
          this.parsed.set(spec.key, { raw: serialized, entry: deepFreeze(entry) });
          const written = this.backend.write(spec.key, serialized, ttlMs + staleMs).catch((error: unknown) => this.logFailure(error));
          if (lock) await written;
        }
      }
      return value;
    } finally {
      if (lock) await this.backend.delete(lock).catch(() => {});
    }
  }

  private logFailure(error: unknown): void {
    const now = Date.now();
    if (now - this.lastFailureLog < 60_000) return;
    this.lastFailureLog = now;
    this.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'cache unavailable: answering from Stripe directly');
  }
}
