/**
 * Stripe's rate limiter as the fake enforces it on demand: token buckets holding one second's
 * worth, for the account (global), each endpoint and search, answering 429 with
 * `Stripe-Rate-Limited-Reason` like Stripe. It also records the most requests it saw in any
 * one-second span, so a test can show a burst never went past a limit.
 */

export interface FakeRateLimits {
  /** Requests per second for the account (Stripe: 25 in a sandbox, 100 live). */
  global: number;
  /** Per endpoint (method + path pattern); Stripe: 25. */
  endpoint?: number;
  /** Search API; Stripe: 20. */
  search?: number;
}

class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(private readonly rate: number) {
    this.tokens = rate;
    this.at = performance.now();
  }

  hasToken(now: number): boolean {
    this.tokens = Math.min(this.rate, this.tokens + ((now - this.at) / 1000) * this.rate);
    this.at = now;
    return this.tokens >= 1;
  }

  take(): void {
    this.tokens -= 1;
  }
}

/** The most arrivals in any window of `spanMs`, kept as the arrivals come. */
class BusiestSpan {
  private readonly arrivals: number[] = [];
  max = 0;

  constructor(private readonly spanMs: number) {}

  add(now: number): void {
    this.arrivals.push(now);
    while (this.arrivals.length > 0 && this.arrivals[0]! <= now - this.spanMs) this.arrivals.shift();
    this.max = Math.max(this.max, this.arrivals.length);
  }
}

export interface RateLimitStats {
  /** 429s the fake answered because a limit was hit (injected failures not counted). */
  limited: number;
  /** The most requests that arrived within any one second, per limit (global, search, busiest endpoint). */
  busiestSecond: { global: number; search: number; endpoint: number };
}

export class FakeRateLimiter {
  private readonly global: TokenBucket;
  private readonly endpoints = new Map<string, TokenBucket>();
  private readonly search: TokenBucket;
  private readonly seen = { global: new BusiestSpan(1000), search: new BusiestSpan(1000), endpoints: new Map<string, BusiestSpan>() };
  private limited = 0;

  constructor(private readonly limits: FakeRateLimits) {
    this.global = new TokenBucket(limits.global);
    this.search = new TokenBucket(limits.search ?? 20);
  }

  /** The 429 reason when the request is over a limit; undefined when it may go ahead. */
  admit(endpoint: string): string | undefined {
    const now = performance.now();
    const isSearch = endpoint.endsWith('/search');
    this.seen.global.add(now);
    if (isSearch) this.seen.search.add(now);
    let span = this.seen.endpoints.get(endpoint);
    if (!span) this.seen.endpoints.set(endpoint, (span = new BusiestSpan(1000)));
    span.add(now);

    let bucket = this.endpoints.get(endpoint);
    if (!bucket) this.endpoints.set(endpoint, (bucket = new TokenBucket(this.limits.endpoint ?? 25)));
    const reason = !this.global.hasToken(now) ? 'global-rate' : !bucket.hasToken(now) ? 'endpoint-rate' : isSearch && !this.search.hasToken(now) ? 'endpoint-rate' : undefined;
    if (reason) {
      this.limited++;
      return reason;
    }
    this.global.take();
    bucket.take();
    if (isSearch) this.search.take();
    return undefined;
  }

  stats(): RateLimitStats {
    const endpoint = Math.max(0, ...[...this.seen.endpoints.values()].map((span) => span.max));
    return { limited: this.limited, busiestSecond: { global: this.seen.global.max, search: this.seen.search.max, endpoint } };
  }
}
