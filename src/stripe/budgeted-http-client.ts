import Stripe from 'stripe';
import { takeStripeWork } from './caller-context.js';
import { endpointOf, LOCAL_BUDGET_CODE, StripeBudgetExhausted, type StripeRateBudget } from './rate-budget.js';

type HttpClient = ReturnType<typeof Stripe.createNodeHttpClient> | ReturnType<typeof Stripe.createFetchHttpClient>;
type HttpClientResponse = Awaited<ReturnType<HttpClient['makeRequest']>>;

/** Our own answer to a 429 (the SDK retries one only when Stripe sends Stripe-Should-Retry). */
const RATE_LIMIT_RETRIES = 3;
const RETRY_BASE_MS = 250;
const RETRY_BUDGET_MS = 4_000;

/** The answer a call gets when the budget stays full: a 429 the SDK raises as StripeRateLimitError, never retried. */
class BudgetExhaustedResponse extends Stripe.HttpClientResponse {
  constructor(private readonly retryAfterMs: number) {
    super(429, { 'stripe-should-retry': 'false', 'request-id': 'local_budget' });
  }
  override getRawResponse(): unknown {
    return undefined;
  }
  override toStream(): unknown {
    throw new Error('not a stream');
  }
  override toJSON(): Promise<unknown> {
    return Promise.resolve({
      error: { type: 'invalid_request_error', code: LOCAL_BUDGET_CODE, message: `Request budget exhausted; retry in ${Math.ceil(this.retryAfterMs / 1000)} s.` },
    });
  }
}

const header = (response: HttpClientResponse, name: string): string | undefined => {
  const value = response.getHeaders()[name];
  return Array.isArray(value) ? value[0] : value;
};

/** Our retries were the retries: the SDK must not start its own round on Stripe-Should-Retry. */
function withoutRetryHint(response: HttpClientResponse): HttpClientResponse {
  const headers = { ...response.getHeaders(), 'stripe-should-retry': 'false' };
  return Object.assign(Object.create(response) as HttpClientResponse, { getHeaders: () => headers });
}

/**
 * Every request to Stripe first takes room in the shared budget; a 429 Stripe still sends is
 * retried with jittered exponential backoff (bounded in count and time) and slows the shared
 * budget for the limit Stripe named.
 */
export class BudgetedHttpClient extends Stripe.HttpClient {
  constructor(
    private readonly inner: HttpClient,
    private readonly budget: StripeRateBudget,
    private readonly retries = RATE_LIMIT_RETRIES,
  ) {
    super();
  }

  override getClientName(): string {
    return this.inner.getClientName();
  }

  override async makeRequest(
    host: string,
    port: string,
    path: string,
    method: string,
    headers: Parameters<HttpClient['makeRequest']>[4],
    requestData: string,
    protocol: string,
    timeout: number,
  ): Promise<HttpClientResponse> {
    // Whose request this is travels in its headers (stripeFor); it never goes on to Stripe.
    const work = takeStripeWork(headers as Record<string, unknown> | undefined);
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        await this.budget.acquire(method, path, work?.caller, work);
      } catch (error) {
        if (error instanceof StripeBudgetExhausted) return new BudgetExhaustedResponse(error.retryAfterMs) as unknown as HttpClientResponse;
        // The shared budget is unreachable (Redis down): Stripe's own limit and the retries below still hold.
      }
      const response = await this.inner.makeRequest(host, port, path, method, headers, requestData, protocol, timeout);
      if (response.getStatusCode() !== 429) return response;
      const reason = header(response, 'stripe-rate-limited-reason') ?? 'unspecified';
      await this.budget.slowDown(reason, method, path).catch(() => {});
      const backoff = RETRY_BASE_MS * 2 ** attempt * (0.5 + Math.random());
      const endpoint = endpointOf(method, path);
      if (attempt >= this.retries || Date.now() + backoff - started > RETRY_BUDGET_MS) {
        this.budget.reportRateLimited({ reason, endpoint, outcome: 'gave_up' });
        return withoutRetryHint(response);
      }
      this.budget.reportRateLimited({ reason, endpoint, outcome: 'retried' });
      response.dispose?.();
      await new Promise((resolve) => setTimeout(resolve, backoff));
    }
  }
}
