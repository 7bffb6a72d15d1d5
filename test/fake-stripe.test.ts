/**
 * The fake Stripe behaves like Stripe where our code depends on it. Every test goes through the
 * real `stripe` SDK (routed by msw), so what passes here is what the SDK sees.
 */
import { bypass } from 'msw';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { DEMO, FakeStripe, ROUTE_PERMISSIONS } from '../src/demo/fake-stripe/index.js';
import { makeCustomer } from '../src/demo/fake-stripe/factories.js';
import { parseFormParams } from '../src/demo/fake-stripe/params.js';
import { matchesWordSequence, parseSearchQuery } from '../src/demo/fake-stripe/search-query.js';
import { serveFakeStripe } from '../src/demo/serve-fake-stripe.js';
import { failure, useFakeStripe } from './support/fake-stripe-msw.js';

const NOW = 1_790_000_000;
const KEY = 'rk_test_fake_suite_abcd';
const stripeApi = useFakeStripe({ now: NOW });
const sdk = (key = KEY) => new Stripe(key, { maxNetworkRetries: 0 });


describe('1. authentication', () => {
  it('accepts rk_/sk_ test/live keys', async () => {
    for (const key of ['rk_test_abc', 'sk_test_abc', 'rk_live_abc', 'sk_live_x_y']) {
      expect((await sdk(key).customers.list({ limit: 1 })).object).toBe('list');
    }
  });

  it('refuses malformed, publishable and revoked keys with 401 and a masked key', async () => {
    const bad = await failure(sdk('pk_test_123456abcd').customers.list());
    expect(bad).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(bad.statusCode).toBe(401);
    expect(bad.message).toBe('Invalid API Key provided: pk_test_******abcd');

    stripeApi.fake().revokeKey(KEY);
    const revoked = await failure(sdk().customers.list());
    expect(revoked).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(revoked.message).toMatch(/^Invalid API Key provided: rk_test_\*+abcd$/);
    expect(revoked.message).not.toContain('fake_suite');
  });
});

describe('2. parameters', () => {
  it('decodes bracket notation into nested objects and arrays', () => {
    const parsed = parseFormParams(
      new URLSearchParams('expand[]=a&expand[]=b&list[1]=y&list[0]=x&discounts[0][promotion_code]=p&flow_data[subscription_cancel][subscription]=sub_1&empty='),
    );
    expect(parsed).toEqual({
      expand: ['a', 'b'],
      list: ['x', 'y'],
      discounts: [{ promotion_code: 'p' }],
      flow_data: { subscription_cancel: { subscription: 'sub_1' } },
      empty: '',
    });
  });

  it('rejects an unknown parameter, top-level or nested, naming its bracketed path', async () => {
    const top = await failure(sdk().customers.list({ foo: 'x' } as Stripe.CustomerListParams));
    expect(top).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(top.statusCode).toBe(400);
    expect(top.code).toBe('parameter_unknown');
    expect(top.param).toBe('foo');
    expect(top.message).toBe('Received unknown parameter: foo');
    expect(top.doc_url).toBe('https://stripe.com/docs/error-codes/parameter-unknown');

    const nested = await failure(
      sdk().billingPortal.sessions.create({
        customer: DEMO.customers.alice,
        flow_data: { type: 'subscription_cancel', subscription_cancel: { subscription: DEMO.subscriptions.alice }, foo: 'x' } as Stripe.BillingPortal.SessionCreateParams.FlowData,
      }),
    );
    expect(nested.code).toBe('parameter_unknown');
    expect(nested.param).toBe('flow_data[foo]');
  });

  it('rejects the removed `coupon` parameter on subscriptions (basil moved it to discounts)', async () => {
    const error = await failure(sdk().subscriptions.update(DEMO.subscriptions.alice, { coupon: 'x' } as Stripe.SubscriptionUpdateParams));
    expect(error.code).toBe('parameter_unknown');
    expect(error.param).toBe('coupon');
  });

  it('requires required params and validates values', async () => {
    const missing = await failure(sdk().billingPortal.sessions.create({} as Stripe.BillingPortal.SessionCreateParams));
    expect(missing.code).toBe('parameter_missing');
    expect(missing.param).toBe('customer');

    const tooMany = await failure(sdk().customers.list({ limit: 101 }));
    expect(tooMany.code).toBe('parameter_invalid_integer');
    expect(tooMany.param).toBe('limit');
    const zero = await failure(sdk().customers.list({ limit: 0 }));
    expect(zero.code).toBe('parameter_invalid_integer');
    const notInt = await failure(sdk().customers.list({ limit: 'ten' as unknown as number }));
    expect(notInt.code).toBe('parameter_invalid_integer');

    const badEnum = await failure(sdk().subscriptions.list({ status: 'cancelled' as Stripe.SubscriptionListParams.Status }));
    expect(badEnum.code).toBe('parameter_invalid_string');
    expect(badEnum.param).toBe('status');
    expect(badEnum.message).toMatch(/must be one of/);
  });

  it('accepts the parameters a real client sends to customers.list', async () => {
    const list = await sdk().customers.list({ email: DEMO.emails.alice, limit: 5, created: { gte: 0 }, expand: ['data.invoice_settings.default_payment_method'] });
    expect(list.data.map((c) => c.id)).toEqual([DEMO.customers.alice]);
  });
});

describe('3. expand', () => {
  it('replaces expandable ids with objects and leaves others as ids', async () => {
    const sub = await sdk().subscriptions.retrieve(DEMO.subscriptions.alice, { expand: ['customer', 'discounts', 'items.data.price.product'] });
    expect(typeof sub.customer === 'object' && sub.customer.id).toBe(DEMO.customers.alice);
    expect(sub.items.data[0]!.price.product).toMatchObject({ object: 'product', id: DEMO.products.pro });
    expect(sub.discounts[0]).toMatchObject({ object: 'discount', id: DEMO.discounts.aliceLoyal5 });
    expect(sub.latest_invoice).toBe(DEMO.invoices.alicePaid[2]); // not asked for: stays an id
    expect(sub.default_payment_method).toBeNull();
  });

  it('expands nested paths on customers and lists', async () => {
    const customer = (await sdk().customers.retrieve(DEMO.customers.alice, { expand: ['invoice_settings.default_payment_method'] })) as Stripe.Customer;
    const pm = customer.invoice_settings.default_payment_method as Stripe.PaymentMethod;
    expect(pm.card).toMatchObject({ brand: 'visa', last4: '4242', exp_month: 12, exp_year: 2030 });

    const prices = await sdk().prices.list({ active: true, type: 'recurring', expand: ['data.product'] });
    expect(prices.data.every((p) => typeof p.product === 'object')).toBe(true);

    const codes = await sdk().promotionCodes.list({ code: 'welcome20', expand: ['data.promotion.coupon'] });
    expect(codes.data[0]!.promotion.coupon).toMatchObject({ object: 'coupon', percent_off: 20 });
  });

  it('expands a legacy card source (default_source)', async () => {
    const customer = (await sdk().customers.retrieve(DEMO.customers.heidi, { expand: ['default_source'] })) as Stripe.Customer;
    expect(customer.default_source).toMatchObject({ id: DEMO.sources.heidiVisa, object: 'card', last4: '1117', exp_month: 7, exp_year: 2028 });
    const plain = (await sdk().customers.retrieve(DEMO.customers.heidi)) as Stripe.Customer;
    expect(plain.default_source).toBe(DEMO.sources.heidiVisa);
  });

  it('refuses more than 4 levels and non-expandable paths', async () => {
    const deep = await failure(sdk().subscriptions.list({ expand: ['data.items.data.price.product'] }));
    expect(deep.statusCode).toBe(400);
    expect(deep.message).toBe('You cannot expand more than 4 levels of a property. Property: data.items.data.price.product');

    const notExpandable = await failure(sdk().customers.retrieve(DEMO.customers.alice, { expand: ['email'] }));
    expect(notExpandable.statusCode).toBe(400);
    expect(notExpandable.message).toBe('This property cannot be expanded (email).');
    const listWithoutData = await failure(sdk().customers.list({ expand: ['invoice_settings.default_payment_method'] }));
    expect(listWithoutData.message).toMatch(/cannot be expanded/);
  });
});

describe('4. lists', () => {
  it('orders newest first, paginates with cursors and has_more', async () => {
    const first = await sdk().charges.list({ customer: DEMO.customers.alice, limit: 2 });
    expect(first).toMatchObject({ object: 'list', has_more: true, url: '/v1/charges' });
    const all = await sdk().charges.list({ customer: DEMO.customers.alice, limit: 100 });
    const created = all.data.map((c) => c.created);
    expect(created).toEqual([...created].sort((a, b) => b - a));
    expect(all.data).toHaveLength(5);
    expect(first.data.map((c) => c.id)).toEqual(all.data.slice(0, 2).map((c) => c.id));

    const second = await sdk().charges.list({ customer: DEMO.customers.alice, limit: 2, starting_after: first.data[1]!.id });
    expect(second.data.map((c) => c.id)).toEqual(all.data.slice(2, 4).map((c) => c.id));
    const back = await sdk().charges.list({ customer: DEMO.customers.alice, limit: 2, ending_before: second.data[0]!.id });
    expect(back.data.map((c) => c.id)).toEqual(first.data.map((c) => c.id));
    expect(back.has_more).toBe(false);

    const defaultLimit = await sdk().customers.list();
    expect(defaultLimit.data).toHaveLength(10); // 10 live customers, the deleted one is not listed
  });

  it('filters customers by email exactly and case-sensitively', async () => {
    expect((await sdk().customers.list({ email: 'alice@example.com' })).data.map((c) => c.id)).toEqual([DEMO.customers.alice]);
    expect((await sdk().customers.list({ email: 'Alice@Example.com' })).data.map((c) => c.id)).toEqual([DEMO.customers.aliceUppercase]);
    expect((await sdk().customers.list({ email: 'ALICE@EXAMPLE.COM' })).data).toEqual([]);
    expect((await sdk().customers.list({ email: DEMO.emails.nobody })).data).toEqual([]);
  });

  it('omits canceled subscriptions unless status is all', async () => {
    const customer = DEMO.customers.aliceUppercase;
    expect((await sdk().subscriptions.list({ customer })).data).toEqual([]);
    const all = await sdk().subscriptions.list({ customer, status: 'all' });
    expect(all.data.map((s) => [s.id, s.status])).toEqual([[DEMO.subscriptions.aliceUppercaseCanceled, 'canceled']]);
    expect((await sdk().subscriptions.list({ status: 'trialing' })).data.map((s) => s.id)).toEqual([DEMO.subscriptions.bob]);
    expect((await sdk().subscriptions.list({ price: DEMO.prices.teamMonthly })).data.map((s) => s.id)).toEqual([DEMO.subscriptions.aliceWork]);
    const periodItem = (await sdk().subscriptions.retrieve(DEMO.subscriptions.alice)).items.data[0]!;
    expect(periodItem.current_period_end).toBeGreaterThan(NOW);
  });

  it('filters invoices, prices and promotion codes', async () => {
    const open = await sdk().invoices.list({ customer: DEMO.customers.dave, status: 'open', collection_method: 'send_invoice' });
    expect(open.data.map((i) => i.id)).toEqual([DEMO.invoices.daveSendInvoice]);
    const bySub = await sdk().invoices.list({ subscription: DEMO.subscriptions.alice });
    expect(bySub.data.map((i) => i.id)).toEqual([...DEMO.invoices.alicePaid].reverse());
    expect(bySub.data[0]!.parent?.subscription_details?.subscription).toBe(DEMO.subscriptions.alice);
    const draft = await sdk().invoices.retrieve(DEMO.invoices.aliceDraft);
    expect([draft.status, draft.hosted_invoice_url, draft.invoice_pdf]).toEqual(['draft', null, null]);

    const plans = await sdk().prices.list({ active: true, type: 'recurring', limit: 100 });
    expect(plans.data.map((p) => p.id).sort()).toEqual(
      [DEMO.prices.starterMonthly, DEMO.prices.proMonthly, DEMO.prices.proYearly, DEMO.prices.teamMonthly, DEMO.prices.jpyMonthly, DEMO.prices.enterpriseAcme].sort(),
    );
    expect((await sdk().prices.list({ lookup_keys: ['pro_yearly'] })).data.map((p) => p.id)).toEqual([DEMO.prices.proYearly]);
    expect((await sdk().prices.list({ currency: 'jpy' })).data.map((p) => p.id)).toEqual([DEMO.prices.jpyMonthly]);

    expect((await sdk().promotionCodes.list({ code: 'Welcome20', active: true })).data.map((p) => p.id)).toEqual([DEMO.promotionCodes.WELCOME20.id]);
    expect((await sdk().promotionCodes.list({ code: 'INACTIVE', active: true })).data).toEqual([]);
  });

  it('lists customer balance transactions (negative = credit)', async () => {
    const txns = await sdk().customers.listBalanceTransactions(DEMO.customers.frank);
    expect(txns.data.map((t) => [t.amount, t.ending_balance])).toEqual([
      [1900, -2500],
      [-4400, -4400],
    ]);
    // The same numbers as the customer and the invoice the credit was applied to.
    expect((await sdk().customers.retrieve(DEMO.customers.frank)) as Stripe.Customer).toMatchObject({ balance: -2500 });
    const invoice = await sdk().invoices.retrieve(DEMO.invoices.frankPaid);
    expect([invoice.total, invoice.starting_balance, invoice.ending_balance, invoice.amount_due]).toEqual([1900, -4400, -2500, 0]);
  });
});

describe('5. customer search', () => {
  const emails = async (query: string) => (await sdk().customers.search({ query })).data.map((c) => c.email).sort();

  it('matches email by case-insensitive word sequence, like Stripe', async () => {
    expect(await emails('email:"alice@example.com"')).toEqual(['Alice@Example.com', 'alice@example.com', 'bob.alice@example.com'].sort());
    expect(matchesWordSequence('alice+work@example.com', 'alice@example.com')).toBe(false);
    expect(matchesWordSequence('bob.alice@example.com', 'ALICE@example.com')).toBe(true);
  });

  it('supports ~, negation, metadata, created, AND / OR', async () => {
    expect(await emails('email~"carol"')).toEqual(['carol@example.com']);
    expect(await emails('email:"alice@example.com" AND -email:"bob.alice@example.com"')).toEqual(['Alice@Example.com', 'alice@example.com'].sort());
    expect(await emails('metadata["risk_score"]:"12"')).toEqual(['alice@example.com']);
    expect(await emails('email:"bob@example.com" OR email:"carol@example.com"')).toEqual(['bob@example.com', 'carol@example.com']);
    expect(await emails(`created>${NOW - 10 * 86_400}`)).toEqual(['bob@example.com']);
    expect(parseSearchQuery('name:"a \\"quoted\\" \\\\ name"').clauses[0]!.value).toBe('a "quoted" \\ name');
  });

  it('rejects syntax errors and mixed AND/OR with 400', async () => {
    for (const query of ['email:alice', 'email:"unterminated', 'email:"a" and name:"b"', 'email:"a" AND name:"b" OR phone:"c"', 'nosuchfield:"x"']) {
      const error = await failure(sdk().customers.search({ query }));
      expect(error, query).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
      expect(error.statusCode, query).toBe(400);
    }
  });

  it('pages with next_page and honours the search lag', async () => {
    const page1 = await sdk().customers.search({ query: 'email~"example"', limit: 4 });
    expect(page1).toMatchObject({ object: 'search_result', has_more: true, url: '/v1/customers/search' });
    expect(page1.next_page).toEqual(expect.any(String));
    const page2 = await sdk().customers.search({ query: 'email~"example"', limit: 4, page: page1.next_page! });
    expect(page2.data.map((c) => c.id)).not.toContain(page1.data[0]!.id);

    const lagging = new FakeStripe({ now: NOW, searchLagSeconds: 60 });
    lagging.store.customers.set('cus_New', makeCustomer({ id: 'cus_New', created: NOW - 5, email: 'new@example.com', name: null }));
    const search = (fake: FakeStripe) =>
      fake.handle(new Request('http://fake/v1/customers/search?query=email%3A%22new%40example.com%22', { headers: { Authorization: `Bearer ${KEY}` } }));
    expect(((await (await search(lagging)).json()) as { data: unknown[] }).data).toHaveLength(0);
    const list = await lagging.handle(new Request('http://fake/v1/customers?email=new%40example.com', { headers: { Authorization: `Bearer ${KEY}` } }));
    expect(((await list.json()) as { data: unknown[] }).data).toHaveLength(1); // list is not lagged
  });
});

describe('6. restricted-key permissions', () => {
  it('403s a route whose permission the key lacks, naming the permission', async () => {
    stripeApi.fake().restrictKey(KEY, ['rak_charge_read']);
    const error = await failure(sdk().charges.list({ customer: DEMO.customers.alice }));
    expect(error).toBeInstanceOf(Stripe.errors.StripePermissionError);
    expect(error.statusCode).toBe(403);
    expect(error.message).toBe(
      "The provided key 'rk_test_***********abcd' does not have the required permissions for this endpoint on account 'acct_1DemoFakeAccount'. Having the 'rak_charge_read' permission would allow this request to continue.",
    );
    expect((await sdk().customers.list({ limit: 1 })).data).toHaveLength(1); // other routes still work
    expect((await sdk('rk_test_other_key').charges.list({ limit: 1 })).data).toHaveLength(1);
  });

  it('403s an expansion of a resource the key cannot read', async () => {
    stripeApi.fake().restrictKey(KEY, ['rak_product_read']);
    expect((await sdk().prices.list({ limit: 1 })).data).toHaveLength(1);
    const error = await failure(sdk().prices.list({ expand: ['data.product'] }));
    expect(error).toBeInstanceOf(Stripe.errors.StripePermissionError);
    expect(error.message).toContain("'rak_product_read'");
  });

  it('declares a permission for every route', () => {
    expect(ROUTE_PERMISSIONS['POST /v1/subscriptions/:id']).toBe('rak_subscription_write');
    expect(ROUTE_PERMISSIONS['GET /v1/customers/:id/balance_transactions']).toBe('rak_customer_balance_transaction_read');
    expect(Object.values(ROUTE_PERMISSIONS).every((p) => /^rak_[a-z_]+_(read|write)$/.test(p))).toBe(true);
  });
});

describe('7. failures', () => {
  it('injects Stripe-shaped 429 and 5xx errors, matched by path and method, n times', async () => {
    stripeApi.fake().failNext({ status: 429, path: '/v1/charges' });
    const limited = await failure(sdk().charges.list());
    expect(limited).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(limited.code).toBe('rate_limit');
    expect((await sdk().charges.list({ limit: 1 })).data).toHaveLength(1); // once only

    stripeApi.fake().failNext({ status: 503, path: /^\/v1\/invoices/, method: 'GET', times: 2 });
    expect((await sdk().customers.list({ limit: 1 })).data).toHaveLength(1); // other path unaffected
    for (let i = 0; i < 2; i++) {
      const down = await failure(sdk().invoices.list());
      expect(down).toBeInstanceOf(Stripe.errors.StripeAPIError);
      expect(down.statusCode).toBe(503);
      expect(down.type).toBe('StripeAPIError');
    }
    expect((await sdk().invoices.list({ limit: 1 })).data).toHaveLength(1);
  });

  it('drops connections on demand', async () => {
    stripeApi.fake().dropNext({ times: 2 });
    const error = await failure(sdk().customers.list());
    expect(error).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    expect(await failure(sdk().customers.list())).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    expect(stripeApi.fake().requests.map((r) => r.status)).toEqual([0, 0]);
    expect((await sdk().customers.list({ limit: 1 })).data).toHaveLength(1);
  });

  it('answers unknown routes and unknown ids with 404', async () => {
    const route = await failure(sdk().rawRequest('GET', '/v1/foo'));
    expect(route.statusCode).toBe(404);
    expect(route.message).toMatch(/^Unrecognized request URL \(GET: \/v1\/foo\)/);
    const id = await failure(sdk().customers.retrieve('cus_x'));
    expect(id).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect([id.statusCode, id.code, id.param, id.message]).toEqual([404, 'resource_missing', 'id', "No such customer: 'cus_x'"]);
    const deleted = await sdk().customers.retrieve(DEMO.customers.grace);
    expect(deleted).toEqual({ id: DEMO.customers.grace, object: 'customer', deleted: true });
  });
});

describe('8. idempotency', () => {
  it('replays the first response for a repeated key and refuses different params', async () => {
    const apply = (code: string, idempotencyKey: string) =>
      sdk().subscriptions.update(DEMO.subscriptions.bob, { discounts: [{ promotion_code: code }] }, { idempotencyKey });
    const first = await apply(DEMO.promotionCodes.WELCOME20.id, 'key-1');
    const again = await apply(DEMO.promotionCodes.WELCOME20.id, 'key-1');
    expect(again.discounts).toEqual(first.discounts);
    expect(stripeApi.fake().store.promotionCodes.get(DEMO.promotionCodes.WELCOME20.id)!.times_redeemed).toBe(1);
    const raw = await stripeApi.fake().handle(
      new Request(`https://api.stripe.com/v1/subscriptions/${DEMO.subscriptions.bob}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${KEY}`, 'Idempotency-Key': 'key-1', 'Content-Type': 'application/x-www-form-urlencoded' },
        body: `discounts[0][promotion_code]=${DEMO.promotionCodes.WELCOME20.id}`,
      }),
    );
    expect(raw.headers.get('Idempotent-Replayed')).toBe('true');

    const mismatch = await failure(apply(DEMO.promotionCodes.FIRSTTIME.id, 'key-1'));
    expect(mismatch).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(mismatch.statusCode).toBe(400);
  });
});

describe('9. response headers', () => {
  it('always answers JSON with a Request-Id, errors included', async () => {
    for (const path of ['/v1/customers', '/v1/nope']) {
      const response = await stripeApi.fake().handle(new Request(`https://api.stripe.com${path}`, { headers: { Authorization: `Bearer ${KEY}` } }));
      expect(response.headers.get('Content-Type')).toBe('application/json');
      expect(response.headers.get('Request-Id')).toMatch(/^req_/);
    }
    const { lastResponse } = await sdk().customers.list({ limit: 1 });
    expect(lastResponse.requestId).toMatch(/^req_/);
  });
});

describe('subscription discounts', () => {
  const update = (sub: string, discounts: Stripe.SubscriptionUpdateParams['discounts']) =>
    sdk().subscriptions.update(sub, { discounts, expand: ['discounts'] });
  const promo = (key: keyof typeof DEMO.promotionCodes) => ({ promotion_code: DEMO.promotionCodes[key].id });

  it('a non-empty array replaces the discounts; {discount} keeps one; "" clears', async () => {
    const replaced = await update(DEMO.subscriptions.alice, [promo('WELCOME20')]);
    expect(replaced.discounts).toHaveLength(1);
    const discount = replaced.discounts[0] as Stripe.Discount;
    expect(discount.id).toMatch(/^di_/);
    expect(discount.promotion_code).toBe(DEMO.promotionCodes.WELCOME20.id);
    expect(discount.source.coupon).toMatchObject({ id: DEMO.coupons.welcome20 });
    expect(stripeApi.fake().store.discounts.has(DEMO.discounts.aliceLoyal5)).toBe(false);
    expect(stripeApi.fake().store.promotionCodes.get(DEMO.promotionCodes.WELCOME20.id)!.times_redeemed).toBe(1);

    const cleared = await update(DEMO.subscriptions.alice, '');
    expect(cleared.discounts).toEqual([]);
  });

  it('keeps the existing discount when re-sent', async () => {
    const kept = await update(DEMO.subscriptions.alice, [{ discount: DEMO.discounts.aliceLoyal5 }, promo('ALICEONLY')]);
    expect(kept.discounts.map((d) => (d as Stripe.Discount).id)[0]).toBe(DEMO.discounts.aliceLoyal5);
    expect(kept.discounts).toHaveLength(2);
  });

  it.each([
    ['INACTIVE', DEMO.subscriptions.alice, /is inactive/],
    ['EXPIRED10', DEMO.subscriptions.alice, /has expired/],
    ['MAXED', DEMO.subscriptions.alice, /maximum number of redemptions/],
    ['ALICEONLY', DEMO.subscriptions.carol, /cannot be redeemed by this customer/],
    ['FIRSTTIME', DEMO.subscriptions.alice, /never made a payment/],
    ['BIGSPEND', DEMO.subscriptions.alice, /minimum amount of \$1,000\.00/],
  ] as const)('refuses %s with a clear 400 and changes nothing', async (code, sub, message) => {
    const before = stripeApi.fake().store.subscriptions.get(sub)!.discounts.slice();
    const error = await failure(update(sub, [promo(code)]));
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error.statusCode).toBe(400);
    expect(error.message).toMatch(message);
    expect(stripeApi.fake().store.subscriptions.get(sub)!.discounts).toEqual(before);
  });

  it('FIRSTTIME works for a customer who has never paid', async () => {
    const sub = await update(DEMO.subscriptions.bob, [promo('FIRSTTIME')]);
    expect((sub.discounts[0] as Stripe.Discount).source.coupon).toMatchObject({ percent_off: 50 });
  });
});

describe('invoices: send and preview', () => {
  it('sends only open send_invoice invoices, and records it', async () => {
    const sent = await sdk().invoices.sendInvoice(DEMO.invoices.daveSendInvoice);
    expect(sent.id).toBe(DEMO.invoices.daveSendInvoice);
    expect(stripeApi.fake().store.sentInvoices).toEqual([{ invoice: DEMO.invoices.daveSendInvoice, at: NOW }]);
    const automatic = await failure(sdk().invoices.sendInvoice(DEMO.invoices.carolOpen));
    expect(automatic.statusCode).toBe(400);
    expect(automatic.message).toMatch(/send_invoice/);
    const paid = await failure(sdk().invoices.sendInvoice(DEMO.invoices.alicePaid[0]));
    expect(paid.statusCode).toBe(400);
  });

  it('previews the next invoice with discounts and credit balance', async () => {
    const alice = await sdk().invoices.createPreview({ customer: DEMO.customers.alice });
    expect(alice.id).toMatch(/^upcoming_in_/);
    expect([alice.subtotal, alice.total, alice.amount_due]).toEqual([4900, 4400, 4400]); // $5 off
    const item = (await sdk().subscriptions.retrieve(DEMO.subscriptions.alice)).items.data[0]!;
    expect(alice.next_payment_attempt).toBe(item.current_period_end);
    expect(alice.lines.data[0]!.period.start).toBe(item.current_period_end);

    const frank = await sdk().invoices.createPreview({ subscription: DEMO.subscriptions.frank });
    expect([frank.total, frank.starting_balance, frank.amount_due]).toEqual([1900, -2500, 0]);

    const erin = await sdk().invoices.createPreview({ customer: DEMO.customers.erin });
    expect([erin.currency, erin.amount_due]).toEqual(['jpy', 2000]);

    for (const customer of [DEMO.customers.dave, DEMO.customers.aliceUppercase]) {
      const none = await failure(sdk().invoices.createPreview({ customer }));
      expect(none.code, customer).toBe('invoice_upcoming_none');
    }
    expect(stripeApi.fake().requests.filter((r) => r.method === 'POST').every((r) => r.path === '/v1/invoices/create_preview')).toBe(true);
  });
});

describe('billing portal', () => {
  it('creates a session and a cancel-flow session with a different url', async () => {
    const plain = await sdk().billingPortal.sessions.create({ customer: DEMO.customers.alice, return_url: 'https://merchant.example/account' });
    expect(plain.url).toMatch(/^https:\/\/billing\.stripe\.com\/p\/session\/test_/);
    expect(plain.configuration).toBe(DEMO.portalConfiguration);
    const flow = await sdk().billingPortal.sessions.create({
      customer: DEMO.customers.alice,
      flow_data: {
        type: 'subscription_cancel',
        subscription_cancel: { subscription: DEMO.subscriptions.alice },
        after_completion: { type: 'redirect', redirect: { return_url: 'https://merchant.example/done' } },
      },
    });
    expect(flow.flow?.subscription_cancel?.subscription).toBe(DEMO.subscriptions.alice);
    expect(flow.url).toMatch(/^https:\/\/billing\.stripe\.com\/p\/session\/test_/);
    expect(flow.url).not.toBe(plain.url);
  });

  it('refuses a cancel flow for another customer or a canceled subscription', async () => {
    const cancel = (customer: string, subscription: string) =>
      failure(sdk().billingPortal.sessions.create({ customer, flow_data: { type: 'subscription_cancel', subscription_cancel: { subscription } } }));
    expect((await cancel(DEMO.customers.alice, DEMO.subscriptions.carol)).statusCode).toBe(400);
    expect((await cancel(DEMO.customers.aliceUppercase, DEMO.subscriptions.aliceUppercaseCanceled)).message).toMatch(/already been canceled/);
  });

  it('needs a default configuration', async () => {
    stripeApi.fake().setPortalConfigured(false);
    const error = await failure(sdk().billingPortal.sessions.create({ customer: DEMO.customers.alice }));
    expect(error.statusCode).toBe(400);
    expect(error.message).toMatch(/^No configuration provided and your test mode default configuration has not been created/);
    expect((await sdk().billingPortal.configurations.list()).data).toEqual([]);
    stripeApi.fake().setPortalConfigured(true);
    expect((await sdk().billingPortal.configurations.list()).data[0]!.features.subscription_cancel.enabled).toBe(true);
  });
});

describe('recording and other transports', () => {
  it('records every request with params, key and status', async () => {
    await sdk().customers.list({ email: DEMO.emails.bob });
    await failure(sdk().customers.retrieve('cus_missing'));
    expect(stripeApi.fake().requests.map((r) => [r.method, r.path, r.params, r.apiKey, r.status])).toEqual([
      ['GET', '/v1/customers', { email: DEMO.emails.bob }, KEY, 200],
      ['GET', '/v1/customers/cus_missing', {}, KEY, 404],
    ]);
  });

  it('works in-process through the fetch client and over loopback HTTP', async () => {
    const fake = new FakeStripe({ now: NOW });
    const inProcess = new Stripe(KEY, { httpClient: Stripe.createFetchHttpClient((input, init) => fake.handle(new Request(input, init))), maxNetworkRetries: 0 });
    expect((await inProcess.customers.retrieve(DEMO.customers.bob)).id).toBe(DEMO.customers.bob);

    const served = await serveFakeStripe(fake, { port: 0 });
    try {
      const url = new URL(served.url);
      expect(url.hostname).toBe('127.0.0.1');
      // bypass(): msw (which refuses unhandled requests) lets this one reach the real socket.
      const response = await fetch(bypass(`${served.url}/v1/subscriptions/${DEMO.subscriptions.carol}`, { headers: { Authorization: `Bearer ${KEY}` } }));
      expect(response.status).toBe(200);
      expect(((await response.json()) as Stripe.Subscription).status).toBe('past_due');
    } finally {
      await served.close();
    }
  });
});
