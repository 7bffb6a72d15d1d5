import { describe, expect, it } from 'vitest';
import { createStripeClient } from '../src/stripe/client.js';
import { mapStripeError } from '../src/stripe/errors.js';

/** A Stripe account of three customers, listed one per page, as Stripe's own list endpoint pages. */
function fakeAccount() {
  const customers = ['cus_1', 'cus_2', 'cus_3'].map((id) => ({ id, object: 'customer', email: `${id}@example.com` }));
  const requests: string[] = [];
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'request-id': 'req_test' } });
  const fetch = async (input: string | URL | Request) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    requests.push(`${url.pathname}${url.search}`);
    const one = /^\/v1\/customers\/(\w+)$/.exec(url.pathname);
    if (one) {
      const customer = customers.find((candidate) => candidate.id === one[1]);
      return customer ? json(200, customer) : json(404, { error: { type: 'invalid_request_error', code: 'resource_missing', message: `No such customer: '${one[1]}'` } });
    }
    const after = url.searchParams.get('starting_after');
    const start = after ? customers.findIndex((customer) => customer.id === after) + 1 : 0;
    return json(200, { object: 'list', url: '/v1/customers', data: customers.slice(start, start + 1), has_more: start + 1 < customers.length });
  };
  return { fetch, requests };
}

const client = (fetch: ReturnType<typeof fakeAccount>['fetch']) => createStripeClient({ apiKey: 'rk_test_fake_51H_abcdefgh_1234', fetch, maxNetworkRetries: 0 }).stripe;

describe('the Stripe client, used before its SDK has loaded', () => {
  it('makes no request until it is used, then answers a call made at once', async () => {
    const account = fakeAccount();
    const stripe = client(account.fetch);
    expect(account.requests).toEqual([]);
    await expect(stripe.customers.retrieve('cus_2')).resolves.toMatchObject({ id: 'cus_2', email: 'cus_2@example.com' });
    expect(account.requests).toEqual(['/v1/customers/cus_2']);
  });

  it('pages through a list iterated with for await, one request per page', async () => {
    const account = fakeAccount();
    const ids: string[] = [];
    for await (const customer of client(account.fetch).customers.list({ limit: 1 })) ids.push(customer.id);
    expect(ids).toEqual(['cus_1', 'cus_2', 'cus_3']);
    expect(account.requests).toHaveLength(3);
  });

  it("gives the first page when a list is awaited, and Stripe's errors as the SDK's own", async () => {
    const account = fakeAccount();
    const stripe = client(account.fetch);
    const [page, missing] = await Promise.all([stripe.customers.list({ limit: 1 }), stripe.customers.retrieve('cus_none').catch((error: unknown) => error)]);
    expect(page.data.map((customer) => customer.id)).toEqual(['cus_1']);
    expect(page.has_more).toBe(true);
    // Recognised as Stripe's 404 (src/stripe/sdk.ts StripeErrors), so the customer hears "not found".
    expect(mapStripeError(missing, 'test').kind).toBe('not_found');
  });
});
