/**
 * The billing card's server side (MCP Apps): which clients see the card's buttons, what a result
 * hands the card, and that a button changes nothing without the secret the card was given, for
 * another customer, or through a client that never declared the Apps extension.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { EXTENSION_ID, RESOURCE_MIME_TYPE, RESOURCE_URI_META_KEY } from '@modelcontextprotocol/ext-apps/server';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfirmationToken } from '../../src/actions/confirmation-secret.js';
import { APP_RESOURCE_MIME_TYPE, APPS_EXTENSION_ID, BILLING_CARD_URI, CARD_META_KEY, LEGACY_RESOURCE_URI_KEY, type CardMeta } from '../../src/apps/billing-card.js';
import { DEMO } from '../../src/demo/fake-stripe/seed.js';
import { CONFIRMATION_META_KEY, createMcpServer } from '../../src/server.js';
import { ALL_TOOLS } from '../../src/tools/registry.js';
import { customerPrincipal } from '../../src/verify/principal.js';
import { actionsFixtures, ALICE, type ActionsFixture } from '../support/actions.js';
import { HOST_A, HOST_B, STAFF } from '../support/http-harness.js';

const fixture = actionsFixtures();
let fx: ActionsFixture | undefined;
const closing: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closing.splice(0).map((close) => close()));
  await fx?.close();
  fx = undefined;
});

const APP_TOOLS = ['card_portal_link', 'card_confirm_request', 'card_cancel_request'];
const APPS_CAPABILITIES = { extensions: { [APPS_EXTENSION_ID]: { mimeTypes: [APP_RESOURCE_MIME_TYPE] } } };

interface Connection {
  client: Client;
  sessionId: string | undefined;
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
}

/** A real MCP client over Streamable HTTP, as a chatbot host connects: with or without the Apps extension. */
async function connect(f: ActionsFixture, who: { email: string; conversation?: string; key?: string } | 'staff', apps: boolean): Promise<Connection> {
  const headers: Record<string, string> =
    who === 'staff'
      ? { authorization: `Bearer ${STAFF}` }
      : { authorization: `Bearer ${who.key ?? HOST_A}`, 'x-conversation-id': who.conversation ?? 'card-conversation', 'x-customer-token': await f.token(who.email) };
  const client = new Client({ name: 'card-test-host', version: '1.0.0' }, apps ? { capabilities: APPS_CAPABILITIES } : {});
  const transport = new StreamableHTTPClientTransport(new URL(`${f.url}/mcp`), { requestInit: { headers } });
  await client.connect(transport);
  closing.push(() => client.close());
  return {
    client,
    sessionId: transport.sessionId,
    call: async (name, args = {}) => (await client.callTool({ name, arguments: args })) as CallToolResult,
  };
}

/** What the model reads of a result: everything but `_meta`. */
const forModel = (result: CallToolResult) => JSON.stringify({ content: result.content, structuredContent: result.structuredContent, isError: result.isError });
const cardOf = (result: CallToolResult) => result._meta?.[CARD_META_KEY] as CardMeta | undefined;
const textOf = (result: CallToolResult) => (result.content as Array<{ text: string }>).map((item) => item.text).join('\n');

describe('the billing card over MCP', () => {
  it('uses the Apps extension’s own names', () => {
    expect([APPS_EXTENSION_ID, APP_RESOURCE_MIME_TYPE, LEGACY_RESOURCE_URI_KEY]).toEqual([EXTENSION_ID, RESOURCE_MIME_TYPE, RESOURCE_URI_META_KEY]);
  });

  it('a client without Apps support lists the same tools, without the card’s _meta, and no buttons', async () => {
    fx = await fixture();
    const plain = await connect(fx, { email: ALICE }, false);
    expect(plain.sessionId).toBeUndefined();
    const { tools } = await plain.client.listTools();
    const names = tools.map((tool) => tool.name);
    expect(names.filter((name) => APP_TOOLS.includes(name))).toEqual([]);
    const overview = tools.find((tool) => tool.name === 'get_customer_overview')!;
    // Which resource renders a result means nothing to a client that renders none: its model is not made to read it.
    expect(overview._meta).toBeUndefined();
    expect(tools.every((tool) => tool._meta === undefined)).toBe(true);
    // Its answers carry no card data, and a button it is not offered cannot be pressed.
    const answer = await plain.call('get_customer_overview');
    expect(cardOf(answer)).toBeUndefined();
    const pressed = await plain.call('card_portal_link', { purpose: 'manage', card: 'x'.repeat(43), subscription_id: null });
    expect(pressed.isError).toBe(true);
    expect(fx.fake.store.portalSessions.size).toBe(0);
  });

  it.each([true, false])('stdio learns at initialize whether the client renders cards (Apps: %s)', async (apps) => {
    fx = await fixture();
    const server = createMcpServer({ tools: ALL_TOOLS, runtime: fx.runtime, mode: 'customer', resolvePrincipal: async () => customerPrincipal(ALICE, 'identity-token'), conversation: 'stdio', followAvailability: true });
    const client = new Client({ name: 'desktop', version: '1.0.0' }, apps ? { capabilities: APPS_CAPABILITIES } : {});
    const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
    await Promise.all([server.connect(serverTransport), client.connect(clientTransport)]);
    closing.push(async () => {
      await client.close();
      await server.close();
    });
    const { tools } = await client.listTools();
    const names = tools.map((tool) => tool.name);
    expect(names.filter((name) => APP_TOOLS.includes(name))).toEqual(apps ? APP_TOOLS : []);
    expect(tools.find((tool) => tool.name === 'get_customer_overview')?._meta?.ui).toEqual(apps ? { resourceUri: BILLING_CARD_URI } : undefined);
    const overview = (await client.callTool({ name: 'get_customer_overview', arguments: {} })) as CallToolResult;
    expect(cardOf(overview)?.view).toBe(apps ? 'overview' : undefined);
  });

  it('a client that declares Apps is marked at initialize, lists the buttons as app-only, and reads the card', async () => {
    fx = await fixture();
    const host = await connect(fx, { email: ALICE }, true);
    expect(host.sessionId).toMatch(/^sbm-apps-1\./);
    const { tools } = await host.client.listTools();
    for (const name of APP_TOOLS) expect(tools.find((tool) => tool.name === name)?._meta).toEqual({ ui: { visibility: ['app'] } });
    expect(tools.find((tool) => tool.name === 'get_customer_overview')?._meta).toEqual({ ui: { resourceUri: BILLING_CARD_URI }, [LEGACY_RESOURCE_URI_KEY]: BILLING_CARD_URI });
    const { contents } = await host.client.readResource({ uri: BILLING_CARD_URI });
    expect(contents).toHaveLength(1);
    const [card] = contents as Array<{ uri: string; mimeType: string; text: string; _meta?: Record<string, unknown> }>;
    expect(card).toMatchObject({ uri: BILLING_CARD_URI, mimeType: 'text/html;profile=mcp-app', _meta: { ui: { csp: { connectDomains: [], resourceDomains: [] } } } });
    expect(card!.text).toMatch(/^<!doctype html>/i);
    // Self-contained: no script or stylesheet from anywhere else.
    expect(card!.text).not.toMatch(/<script[^>]+src=|<link[^>]+href=/i);
  });

  it('hands the card its view, a card secret and the test-mode flag, and the model reads exactly what it read before', async () => {
    fx = await fixture();
    const plain = await connect(fx, { email: ALICE, conversation: 'plain' }, false);
    const host = await connect(fx, { email: ALICE }, true);
    for (const [tool, view] of [
      ['get_customer_overview', 'overview'],
      ['get_invoice_history', 'invoices'],
      ['get_subscription_status', 'subscription'],
    ] as const) {
      const before = await plain.call(tool);
      const withCard = await host.call(tool);
      expect(forModel(withCard)).toBe(forModel(before));
      const card = cardOf(withCard)!;
      expect(card).toMatchObject({ view, test_mode: true });
      expect(forModel(withCard)).not.toContain(card.token);
    }
  });

  it('the portal button opens a fresh link for the card’s customer, and nothing without its secret or for someone else', async () => {
    fx = await fixture();
    const alice = await connect(fx, { email: ALICE }, true);
    const bob = await connect(fx, { email: DEMO.emails.bob, conversation: 'bob-conversation' }, true);
    const aliceCard = cardOf(await alice.call('get_customer_overview'))!;
    const bobCard = cardOf(await bob.call('get_customer_overview'))!;

    const link = await alice.call('card_portal_link', { purpose: 'update_card', card: aliceCard.token, subscription_id: null });
    expect(link.isError).toBeFalsy();
    const { url } = link.structuredContent as { url: string; opens: string };
    const session = [...fx.fake.store.portalSessions.values()].find((candidate) => candidate.url === url);
    expect(session?.customer).toBe(DEMO.customers.alice);
    expect(session?.flow?.type).toBe('payment_method_update');

    const sessions = fx.fake.store.portalSessions.size;
    for (const [who, token] of [
      [alice, bobCard.token], // bob's card in alice's conversation
      [bob, aliceCard.token], // alice's card in bob's
      [alice, 'A'.repeat(43)], // a made-up secret
    ] as const) {
      const refused = await who.call('card_portal_link', { purpose: 'manage', card: token, subscription_id: null });
      expect(refused.isError).toBe(true);
      expect(textOf(refused)).toMatch(/expired/);
    }
    // Alice's card in another of her conversations is not hers to press either.
    const elsewhere = await connect(fx, { email: ALICE, conversation: 'another' }, true);
    expect((await elsewhere.call('card_portal_link', { purpose: 'manage', card: aliceCard.token, subscription_id: null })).isError).toBe(true);
    expect(fx.fake.store.portalSessions.size).toBe(sessions);
  });

  it('a staff card’s portal button opens the portal of the customer the card showed', async () => {
    fx = await fixture();
    const staff = await connect(fx, 'staff', true);
    const card = cardOf(await staff.call('get_customer_overview', { email: DEMO.emails.bob, customer_id: null }))!;
    // The staff key cannot confirm for a customer: only the portal button is offered.
    const names = (await staff.client.listTools()).tools.map((tool) => tool.name);
    expect(names.filter((name) => APP_TOOLS.includes(name))).toEqual(['card_portal_link']);
    const link = await staff.call('card_portal_link', { purpose: 'manage', card: card.token, subscription_id: null, customer_id: DEMO.customers.alice });
    expect(link.isError).toBeFalsy();
    const session = [...fx.fake.store.portalSessions.values()].find((candidate) => candidate.url === (link.structuredContent as { url: string }).url);
    expect(session?.customer).toBe(DEMO.customers.bob);
  });

  it('Confirm carries a refund out once, however often it is pressed; the secret never reaches the model', async () => {
    fx = await fixture();
    const host = await connect(fx, { email: ALICE }, true);
    const proposed = await host.call('request_refund', { payment: DEMO.actions.aliceDuplicateCharge, amount: 1000, reason: 'duplicate' });
    const handoff = proposed._meta?.[CONFIRMATION_META_KEY] as { token: string; request_id: string };
    expect(cardOf(proposed)?.view).toBe('request');
    expect(forModel(proposed)).not.toContain(parseConfirmationToken(handoff.token)!.secret);

    const first = await host.call('card_confirm_request', { token: handoff.token });
    expect(first.structuredContent).toMatchObject({ outcome: 'confirmed', request: { id: handoff.request_id, state: 'done' } });
    const second = await host.call('card_confirm_request', { token: handoff.token });
    expect(second.structuredContent).toMatchObject({ outcome: 'already_decided', request: { state: 'done' } });
    const refunds = [...fx.fake.store.refunds.values()].filter((refund) => refund.charge === DEMO.actions.aliceDuplicateCharge);
    expect(refunds).toHaveLength(1);
    expect(refunds[0]!.amount).toBe(1000);
  });

  it('Cancel cancels the request and nothing is refunded', async () => {
    fx = await fixture();
    const host = await connect(fx, { email: ALICE }, true);
    const proposed = await host.call('request_refund', { payment: DEMO.actions.aliceDuplicateCharge, amount: 1000, reason: 'duplicate' });
    const { token } = proposed._meta?.[CONFIRMATION_META_KEY] as { token: string };
    const canceled = await host.call('card_cancel_request', { token });
    expect(canceled.structuredContent).toMatchObject({ outcome: 'canceled', request: { state: 'canceled' } });
    expect((await host.call('card_confirm_request', { token })).structuredContent).toMatchObject({ outcome: 'already_decided', request: { state: 'canceled' } });
    expect([...fx.fake.store.refunds.values()].filter((refund) => refund.charge === DEMO.actions.aliceDuplicateCharge)).toHaveLength(0);
  });

  it('Confirm changes nothing with a wrong secret, for another customer, or through another chatbot', async () => {
    fx = await fixture();
    const alice = await connect(fx, { email: ALICE }, true);
    const proposed = await alice.call('request_refund', { payment: DEMO.actions.aliceDuplicateCharge, amount: 1000, reason: 'duplicate' });
    const { token, request_id } = proposed._meta?.[CONFIRMATION_META_KEY] as { token: string; request_id: string };
    const forged = `${request_id}.${'A'.repeat(43)}`;
    const bob = await connect(fx, { email: DEMO.emails.bob, conversation: 'bob' }, true);
    const otherBot = await connect(fx, { email: ALICE, key: HOST_B }, true);
    for (const [who, attempt] of [
      [alice, forged],
      [bob, token],
      [otherBot, token],
    ] as const) {
      for (const tool of ['card_confirm_request', 'card_cancel_request']) {
        const refused = await who.call(tool, { token: attempt });
        expect(refused.isError).toBe(true);
        expect(textOf(refused)).toMatch(/not waiting for this customer/);
      }
    }
    const status = await alice.call('get_request_status', { request: request_id });
    expect((status.structuredContent as { requests: Array<{ state: string }> }).requests[0]?.state).toBe('awaiting_confirmation');
    expect([...fx.fake.store.refunds.values()].filter((refund) => refund.charge === DEMO.actions.aliceDuplicateCharge)).toHaveLength(0);
  });
});
