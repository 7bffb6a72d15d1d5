/**
 * Stripe's idempotency: a POST retried with the same `Idempotency-Key` (per API key) replays the
 * first response verbatim (`Idempotent-Replayed: true`); the same key with different parameters
 * or another endpoint is refused with an `idempotency_error`, so a write can never apply twice.
 *
 * Stripe saves the result of any request that began executing, a 500 included, and replays it.
 * Failures injected with `failNext` (and dropped connections) are deliberately NOT saved: they
 * stand for failures before the endpoint ran (a load balancer 503, a 429, a network error), so
 * a retry with the same key executes for real — the case our retry logic has to get right.
 */
import { idempotencyMismatch } from './errors.js';

export interface SavedResponse {
  status: number;
  body: string;
}

interface Entry {
  fingerprint: string;
  response: SavedResponse;
}

export class IdempotencyCache {
  private readonly entries = new Map<string, Entry>();

  private static slot(apiKey: string, key: string): string {
    return `${apiKey}\u0000${key}`;
  }

  /** The saved response to replay, or undefined for a first use; throws on a mismatched reuse. */
  replay(apiKey: string, key: string, fingerprint: string): SavedResponse | undefined {
    const entry = this.entries.get(IdempotencyCache.slot(apiKey, key));
    if (!entry) return undefined;
    if (entry.fingerprint !== fingerprint) throw idempotencyMismatch(key);
    return entry.response;
  }

  save(apiKey: string, key: string, fingerprint: string, response: SavedResponse): void {
    this.entries.set(IdempotencyCache.slot(apiKey, key), { fingerprint, response });
  }
}
