import { invalidApiKey } from './errors.js';
import type { FakeStripe } from './index.js';

/**
 * Several Stripe accounts behind one fake API, chosen by the API key of each request, as Stripe
 * does: a key belongs to exactly one account. Platform-mode tests hold two accounts that both
 * have a customer with the same email; a key no account holds gets Stripe's 401.
 */
export class FakeStripeAccounts {
  private readonly byKey = new Map<string, FakeStripe>();

  /** `apiKey` (rk_test_…/sk_test_…) now reaches `account`. */
  add(apiKey: string, account: FakeStripe): this {
    this.byKey.set(apiKey, account);
    return this;
  }

  accountOf(apiKey: string): FakeStripe | undefined {
    return this.byKey.get(apiKey);
  }

  handle(request: Request): Promise<Response> {
    const apiKey = /^Bearer\s+(.+)$/i.exec(request.headers.get('authorization') ?? '')?.[1]?.trim() ?? '';
    const account = this.byKey.get(apiKey);
    if (account) return account.handle(request);
    const error = invalidApiKey(apiKey);
    return Promise.resolve(new Response(JSON.stringify({ error: error.body }), { status: error.status, headers: { 'Content-Type': 'application/json' } }));
  }
}
