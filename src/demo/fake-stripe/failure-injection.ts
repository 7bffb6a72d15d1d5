/**
 * Failures on demand: Stripe-shaped 429/5xx answers and dropped connections, so tests can show
 * how our server behaves when Stripe is slow, down or rate-limiting.
 */

export type InjectedStatus = 429 | 500 | 502 | 503;

export interface FailureMatcher {
  path?: string | RegExp | undefined;
  method?: string | undefined;
}

interface Pending<T> extends FailureMatcher {
  remaining: number;
  value: T;
}

/** The error `handle()` rejects with for `dropNext`; msw turns it into a network error. */
export class FakeConnectionDropped extends Error {
  constructor(readonly method: string, readonly path: string) {
    super(`Fake Stripe dropped the connection (${method} ${path})`);
    this.name = 'FakeConnectionDropped';
  }
}

function matches(m: FailureMatcher, method: string, path: string): boolean {
  if (m.method !== undefined && m.method.toUpperCase() !== method) return false;
  if (m.path === undefined) return true;
  return typeof m.path === 'string' ? m.path === path : m.path.test(path);
}

/**
 * A request paused inside the endpoint (after validation, before it executes), so a test can
 * send a concurrent request meanwhile — e.g. the same idempotency key while the first is in
 * flight (409), or two confirmations racing.
 */
export class FakeHold {
  private arrive!: () => void;
  private let!: () => void;
  /** Resolves once a request has reached the hold. */
  readonly reached = new Promise<void>((resolve) => (this.arrive = resolve));
  /** The held request waits on this. */
  readonly released = new Promise<void>((resolve) => (this.let = resolve));

  /** Called by the dispatcher when the request arrives. */
  enter(): Promise<void> {
    this.arrive();
    return this.released;
  }

  release(): void {
    this.let();
  }
}

/** A queue of one-shot (or n-shot) injections, consumed first-registered first. */
export class InjectionQueue<T> {
  private pending: Pending<T>[] = [];

  add(value: T, matcher: FailureMatcher, times = 1): void {
    this.pending.push({ ...matcher, value, remaining: times });
  }

  /** Consumes one use of the first injection matching this request, if any. */
  take(method: string, path: string): T | undefined {
    const hit = this.pending.find((p) => matches(p, method, path));
    if (!hit) return undefined;
    hit.remaining -= 1;
    if (hit.remaining <= 0) this.pending = this.pending.filter((p) => p !== hit);
    return hit.value;
  }

  clear(): void {
    this.pending = [];
  }
}
