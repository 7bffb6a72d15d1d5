/**
 * Stripe's idempotency: a POST retried with the same `Idempotency-Key` (per API key) replays the
 * first response verbatim (`Idempotent-Replayed: true`, `Original-Request` naming the first
 * request); the same key with different parameters or another endpoint is refused with a 400
 * `idempotency_error`, so a write can never apply twice.
 *
 * - Keys are kept 24 hours (by the fake's clock, see FakeStripe.advanceClock); after that the
 *   key is free again and a reuse executes as a new request.
 * - While a request holding a key is still executing, another request with that key gets 409
 *   `idempotency_key_in_use` (nothing is saved for it, so it can be retried). The SDK retries
 *   409s by itself when `maxNetworkRetries` > 0.
 * - Stripe saves the result of any request that began executing, a 500 included, and replays
 *   it. Requests refused before executing (bad parameters, a missing permission, a conflict)
 *   save nothing. Failures injected with `failNext` / `dropNext` stand for failures before the
 *   endpoint ran (a load balancer 503, a 429, a network error) and save nothing either, so a
 *   retry with the same key executes for real — unless injected with `afterExecution: true`
 *   (the endpoint ran and its result was saved, but the answer was lost on the way back).
 */
import { StripeHttpError, idempotencyMismatch } from './errors.js';

export interface SavedResponse {
  status: number;
  body: string;
  /** Request-Id of the request that executed, sent back as `Original-Request` on replays. */
  requestId: string;
}

interface Entry {
  fingerprint: string;
  response: SavedResponse;
  savedAt: number;
}

/** How long Stripe keeps an idempotency key (at least 24 hours). */
export const IDEMPOTENCY_KEY_TTL_SECONDS = 24 * 3600;

export const idempotencyKeyInUse = (key: string): StripeHttpError =>
  new StripeHttpError(409, {
    type: 'invalid_request_error',
    code: 'idempotency_key_in_use',
    doc_url: 'https://stripe.com/docs/error-codes/idempotency-key-in-use',
    message:
      `There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, ` +
      `and the other request is still going through): ${key}. Please try again later.`,
  });

export class IdempotencyCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Set<string>();

  private static slot(apiKey: string, key: string): string {
    return `${apiKey}\u0000${key}`;
  }

  /**
   * The saved response to replay, or undefined for a first use (or a use after expiry);
   * throws 409 while the key's first request is executing, 400 on a mismatched reuse.
   */
  replay(apiKey: string, key: string, fingerprint: string, now: number): SavedResponse | undefined {
    const slot = IdempotencyCache.slot(apiKey, key);
    if (this.inFlight.has(slot)) throw idempotencyKeyInUse(key);
    const entry = this.entries.get(slot);
    if (!entry) return undefined;
    if (now - entry.savedAt >= IDEMPOTENCY_KEY_TTL_SECONDS) {
      this.entries.delete(slot);
      return undefined;
    }
    if (entry.fingerprint !== fingerprint) throw idempotencyMismatch(key);
    return entry.response;
  }

  /** Marks the key as held by an executing request until `release`. */
  begin(apiKey: string, key: string): void {
    this.inFlight.add(IdempotencyCache.slot(apiKey, key));
  }

  release(apiKey: string, key: string): void {
    this.inFlight.delete(IdempotencyCache.slot(apiKey, key));
  }

  save(apiKey: string, key: string, fingerprint: string, response: SavedResponse, now: number): void {
    this.entries.set(IdempotencyCache.slot(apiKey, key), { fingerprint, response, savedAt: now });
  }
}
