import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { DEMO } from '../src/demo/fake-stripe/index.js';
import type { FakeStripe } from '../src/demo/fake-stripe/index.js';
import { ALL_TOOLS } from '../src/tools/registry.js';
import { useFakeStripe } from './support/fake-stripe-msw.js';
import { sampleArgs } from './support/tool-args.js';
import { connectClient, structured, testRuntime } from './support/mcp-harness.js';

/**
 * The product's promise: a customer principal sees their own billing data and nothing else,
 * whatever the model puts in the arguments. Customer A is alice@example.com, who has two
 * Stripe records (alice@… and Alice@…: the same address in another case, so the same
 * person). The account also holds people whose emails are near hers: alice+work@ (a +tag is
 * a different mailbox owner as far as billing goes) and bob.alice@ (which Stripe's search
 * returns for alice's email, because search matches word sequences).
 */
const stripe = useFakeStripe({ now: 1_790_000_000 });

const A_RECORDS: readonly string[] = [DEMO.customers.alice, DEMO.customers.aliceUppercase];
const OTHERS = {
  aliceWork: { email: DEMO.emails.aliceWork, id: DEMO.customers.aliceWork, subscription: DEMO.subscriptions.aliceWork, invoice: DEMO.invoices.aliceWork },
  bobAlice: { email: DEMO.emails.bobAlice, id: DEMO.customers.bobAlice, subscription: DEMO.subscriptions.bobAlice, invoice: DEMO.invoices.bobAlice },
  bob: { email: DEMO.emails.bob, id: DEMO.customers.bob, subscription: DEMO.subscriptions.bob, invoice: DEMO.invoices.bobTrial },
};
const PORTAL_TOOLS = ['get_billing_portal_link', 'cancel_subscription', 'preview_plan_change'];
// Without an actions policy the action tools are not listed; test/tools/request-*.test.ts refuse other customers' ids there.
const CUSTOMER_TOOLS = ALL_TOOLS.filter((tool) => tool.audience === 'customer' && tool.action === undefined);

/** Every identifier of everyone who is not alice: ids of their objects, emails, invoice numbers, card fingerprints. */
function foreignMarkers(fake: FakeStripe): string[] {
  const markers = new Set<string>();
  const foreign = new Set<string>();
  for (const customer of fake.store.customers.values()) {
    if (A_RECORDS.includes(customer.id)) continue;
    foreign.add(customer.id);
    markers.add(customer.id);
    if (!customer.deleted && customer.email) markers.add(customer.email.toLowerCase());
  }
  const owner = (value: string | { id: string } | null) => (typeof value === 'string' ? value : value?.id ?? '');
  for (const sub of fake.store.subscriptions.values()) if (foreign.has(owner(sub.customer))) markers.add(sub.id);
  for (const invoice of fake.store.invoices.values()) {
    if (!foreign.has(owner(invoice.customer))) continue;
    markers.add(invoice.id!);
    if (invoice.number) markers.add(invoice.number);
  }
  for (const charge of fake.store.charges.values()) if (foreign.has(owner(charge.customer))) markers.add(charge.id);
  for (const pm of fake.store.paymentMethods.values()) {
    if (!foreign.has(owner(pm.customer))) continue;
    markers.add(pm.id);
    if (pm.card?.fingerprint) markers.add(pm.card.fingerprint);
  }
  return [...markers];
}

function expectNothingForeign(fake: FakeStripe, result: CallToolResult, label: string) {
  const seen = JSON.stringify(result).toLowerCase();
  for (const marker of foreignMarkers(fake)) expect(seen, `${label} leaked ${marker}`).not.toContain(marker.toLowerCase());
  expect(seen, `${label} leaked alice's card fingerprint`).not.toContain(DEMO.secrets.aliceCardFingerprint.toLowerCase());
  expect(seen, `${label} leaked metadata`).not.toContain('vip - internal only');
}

/** No request the server made reached another customer's objects. */
function expectStripeTouchedOnlyAlice(fake: FakeStripe, label: string) {
  const markers = foreignMarkers(fake).filter((marker) => !marker.includes('@'));
  for (const request of fake.requests) {
    const text = `${request.path} ${JSON.stringify(request.params)}`;
    for (const marker of markers) expect(text, `${label}: ${request.method} ${request.path}`).not.toContain(marker);
  }
}


const env = { WRITE_TOOLS: 'all' };

describe.each(CUSTOMER_TOOLS.map((tool) => tool.name))('%s never shows customer A anything of B', (name) => {
  it.each(Object.entries(OTHERS))('ignores arguments the model adds to name %s', async (_who, other) => {
    const session = await connectClient({ customer: DEMO.emails.alice }, { env });
    const injected = { ...sampleArgs(name), email: other.email, customer: other.id, customer_id: other.id, customer_email: other.email };
    const withInjection = await session.call(name, injected);
    expectNothingForeign(stripe.fake(), withInjection, name);
    if (PORTAL_TOOLS.includes(name)) {
      // Each call mints a new portal session: what matters is whose session it is.
      const sessions = [...stripe.fake().store.portalSessions.values()];
      expect(sessions.length).toBeGreaterThan(0);
      for (const portal of sessions) expect(A_RECORDS).toContain(portal.customer);
    } else if (!ALL_TOOLS.find((tool) => tool.name === name)!.write) {
      // A read tool gives exactly what it gives without the injected arguments.
      const plain = await session.call(name, sampleArgs(name));
      expect(withInjection).toEqual(plain);
      expect(plain.isError, JSON.stringify(plain.content)).toBeFalsy();
    }
    expectStripeTouchedOnlyAlice(stripe.fake(), name);
    await session.close();
  });
});

describe('tools that take an object id refuse other customers\' objects like nonexistent ones', () => {
  it.each(Object.entries(OTHERS))('cancel_subscription with %s\'s subscription', async (_who, other) => {
    const session = await connectClient({ customer: DEMO.emails.alice }, { env });
    const theirs = await session.call('cancel_subscription', { subscription_id: other.subscription });
    const missing = await session.call('cancel_subscription', { subscription_id: 'sub_DoesNotExist0000' });
    expect(theirs.isError).toBe(true);
    expect(theirs.content).toEqual(missing.content);
    expectNothingForeign(stripe.fake(), theirs, 'cancel_subscription');
    expect(stripe.fake().store.portalSessions.size).toBe(0);
    await session.close();
  });

  it.each(Object.entries(OTHERS))('preview_plan_change with %s\'s subscription', async (_who, other) => {
    const session = await connectClient({ customer: DEMO.emails.alice }, { env });
    const theirs = await session.call('preview_plan_change', { price: DEMO.prices.teamMonthly, subscription: other.subscription });
    const missing = await session.call('preview_plan_change', { price: DEMO.prices.teamMonthly, subscription: 'sub_DoesNotExist0000' });
    expect(theirs.isError).toBe(true);
    expect(theirs.content).toEqual(missing.content);
    expectNothingForeign(stripe.fake(), theirs, 'preview_plan_change');
    expect(stripe.fake().requests.filter((request) => request.path === '/v1/invoices/create_preview')).toEqual([]);
    expect(stripe.fake().store.portalSessions.size).toBe(0);
    await session.close();
  });

  it.each(Object.entries(OTHERS))('resend_invoice with %s\'s invoice', async (_who, other) => {
    const session = await connectClient({ customer: DEMO.emails.alice }, { env });
    const number = stripe.fake().store.invoices.get(other.invoice)!.number!;
    for (const invoice of [other.invoice, number]) {
      const theirs = await session.call('resend_invoice', { invoice });
      const missing = await session.call('resend_invoice', { invoice: 'in_DoesNotExist0000' });
      expect(theirs.isError).toBe(true);
      expect(theirs.content).toEqual(missing.content);
      expectNothingForeign(stripe.fake(), theirs, 'resend_invoice');
    }
    expect(stripe.fake().store.sentInvoices).toEqual([]);
    await session.close();
  });

  it.each(Object.entries(OTHERS))('apply_coupon on %s\'s subscription', async (_who, other) => {
    const session = await connectClient({ customer: DEMO.emails.alice }, { env });
    const theirs = await session.call('apply_coupon', { code: 'WELCOME20', subscription_id: other.subscription });
    expect(theirs.isError).toBe(true);
    expectNothingForeign(stripe.fake(), theirs, 'apply_coupon');
    expect(stripe.fake().requests.filter((request) => request.method === 'POST')).toEqual([]);
    await session.close();
  });
});

describe('near-miss emails are different people', () => {
  it('gives alice both of her records (same address, other case) and nobody else', async () => {
    const session = await connectClient({ customer: 'ALICE@example.COM' });
    const status = structured<{ subscriptions: Array<{ id: string }> }>(await session.call('get_subscription_status'));
    await session.close();
    expect(status.subscriptions.map((sub) => sub.id).sort()).toEqual([DEMO.subscriptions.alice, DEMO.subscriptions.aliceUppercaseCanceled].sort());
  });

  it.each([
    [DEMO.emails.aliceWork, DEMO.subscriptions.aliceWork],
    [DEMO.emails.bobAlice, DEMO.subscriptions.bobAlice],
  ])('%s sees only their own subscription, never alice\'s', async (email, subscription) => {
    const session = await connectClient({ customer: email });
    const status = structured<{ subscriptions: Array<{ id: string }> }>(await session.call('get_subscription_status'));
    const overview = await session.call('get_customer_overview');
    await session.close();
    expect(status.subscriptions.map((sub) => sub.id)).toEqual([subscription]);
    const seen = JSON.stringify(overview.structuredContent);
    for (const id of [DEMO.customers.alice, DEMO.customers.aliceUppercase, DEMO.subscriptions.alice, ...DEMO.invoices.alicePaid, DEMO.paymentMethods.aliceVisa]) {
      expect(seen).not.toContain(`"${id}"`);
    }
    expect(seen).not.toContain('"alice@example.com"');
  });

  it('a customer with no Stripe record gets "no billing account", not somebody else\'s', async () => {
    const session = await connectClient({ customer: DEMO.emails.nobody });
    for (const tool of CUSTOMER_TOOLS) {
      const result = await session.call(tool.name, sampleArgs(tool.name));
      expect(result.isError, tool.name).toBe(true);
      expect(JSON.stringify(result.content), tool.name).toMatch(/No billing account was found/);
    }
    await session.close();
  });

  it('an unverified visitor gets no customer data from any customer tool, whatever the arguments', async () => {
    const session = await connectClient('unverified', { env });
    for (const tool of CUSTOMER_TOOLS) {
      const result = await session.call(tool.name, { ...sampleArgs(tool.name), email: DEMO.emails.alice, customer_id: DEMO.customers.alice });
      expect(result.isError, tool.name).toBe(true);
      expect(JSON.stringify(result.content), tool.name).toMatch(/has not been verified/);
    }
    expect(stripe.fake().requests).toEqual([]);
    await session.close();
  });
});

describe('one shared cache never crosses customers', () => {
  it.each(CUSTOMER_TOOLS.map((tool) => tool.name))('%s: after everyone else\'s answers are cached, alice still gets only her own', async (name) => {
    const runtime = testRuntime(env);
    // Warm the cache with every customer tool for everyone who is not alice, as customers and as staff.
    for (const other of Object.values(OTHERS)) {
      const them = await connectClient({ customer: other.email }, { env, runtime });
      const staff = await connectClient('staff', { env, runtime });
      for (const tool of CUSTOMER_TOOLS.filter((t) => !t.write)) {
        await them.call(tool.name, sampleArgs(tool.name));
        await staff.call(tool.name, { ...sampleArgs(tool.name), email: other.email });
        await staff.call(tool.name, { ...sampleArgs(tool.name), customer_id: other.id });
      }
      await Promise.all([them.close(), staff.close()]);
    }
    const alice = await connectClient({ customer: DEMO.emails.alice }, { env, runtime });
    for (const other of Object.values(OTHERS)) {
      const result = await alice.call(name, { ...sampleArgs(name), email: other.email, customer_id: other.id, customer: other.id });
      expectNothingForeign(stripe.fake(), result, `${name} (warm cache)`);
    }
    await alice.close();
  });

  it('alice\'s cached answers never reach the people whose emails are near hers', async () => {
    const runtime = testRuntime(env);
    const alice = await connectClient({ customer: DEMO.emails.alice }, { env, runtime });
    const reads = CUSTOMER_TOOLS.filter((tool) => !tool.write);
    for (const tool of reads) expect((await alice.call(tool.name, sampleArgs(tool.name))).isError, tool.name).toBeFalsy();
    await alice.close();
    for (const other of Object.values(OTHERS)) {
      const them = await connectClient({ customer: other.email }, { env, runtime });
      for (const tool of reads) {
        const seen = JSON.stringify((await them.call(tool.name, sampleArgs(tool.name))).structuredContent);
        for (const id of [...A_RECORDS, DEMO.subscriptions.alice, ...DEMO.invoices.alicePaid, DEMO.paymentMethods.aliceVisa]) expect(seen, `${tool.name} as ${other.email}`).not.toContain(`"${id}"`);
        expect(seen.toLowerCase()).not.toContain('"alice@example.com"');
      }
      await them.close();
    }
  });
});
