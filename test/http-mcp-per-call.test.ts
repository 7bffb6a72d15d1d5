/**
 * /mcp builds a server per request, registering only the tool a lone `tools/call` names
 * (src/server.ts `onlyTool`), and each call's context has the shared runtime as its prototype
 * (src/tools/lib/customer-target.ts). Neither may change what a caller sees: two customers'
 * calls interleaved on one process each see only their own records, and calls the server would
 * refuse (unknown tool, a card button for a client without Apps, a tool of the other mode) are
 * refused as when every tool was registered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../src/demo/fake-stripe/index.js';
import { HOST_A, HOST_B, STAFF, startHttpFixture, type HttpFixture } from './support/http-harness.js';

let fx: HttpFixture;
beforeAll(async () => {
  fx = await startHttpFixture();
});
afterAll(() => fx.close());

interface RpcAnswer {
  result?: { isError?: boolean; content?: Array<{ text?: string }>; structuredContent?: Record<string, unknown>; tools?: Array<{ name: string }> };
  error?: { code: number; message: string };
}

async function rpc(key: string, body: unknown, headers: Record<string, string> = {}): Promise<RpcAnswer> {
  const response = await fetch(`${fx.url}/mcp`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as RpcAnswer;
}

const call = (name: string, args: Record<string, unknown> = {}, id = 1) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

describe('/mcp, a server per request', () => {
  it('two customers calling at once through two host keys each see only their own records', async () => {
    const people = [
      { key: HOST_A, email: DEMO.emails.alice, customer: DEMO.customers.alice, other: DEMO.customers.bob, otherEmail: DEMO.emails.bob },
      { key: HOST_B, email: DEMO.emails.bob, customer: DEMO.customers.bob, other: DEMO.customers.alice, otherEmail: DEMO.emails.alice },
    ];
    const tools = ['get_customer_overview', 'get_billing_info', 'get_subscription_status', 'get_invoice_history'];
    const tokens = await Promise.all(people.map((person) => fx.token(person.email)));
    // Interleaved: every round sends both people's calls together, on every tool.
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, round) =>
        people.map(async (person, index) => {
          const tool = tools[(round + index) % tools.length]!;
          const answer = await rpc(person.key, call(tool), { 'x-customer-token': tokens[index]!, 'x-conversation-id': `interleaved-${index}` });
          return { person, tool, answer };
        }),
      ).flat(),
    );
    const sawOwnCustomer = new Set<string>();
    for (const { person, tool, answer } of answers) {
      expect(answer.result?.isError, `${person.email} ${tool}: ${JSON.stringify(answer)}`).toBeFalsy();
      const seen = JSON.stringify(answer.result);
      expect(seen, `${person.email} ${tool}`).not.toContain(person.other);
      expect(seen.toLowerCase(), `${person.email} ${tool}`).not.toContain(person.otherEmail);
      if (seen.includes(person.customer)) sawOwnCustomer.add(person.email);
    }
    // Not vacuous: the overview names the caller's own record.
    expect([...sawOwnCustomer].sort()).toEqual([DEMO.emails.alice, DEMO.emails.bob].sort());
  });

  it('refuses a tool it does not have, a card button without Apps, and a staff-only argument as before', async () => {
    const token = await fx.token(DEMO.emails.alice);
    const headers = { 'x-customer-token': token };
    const unknown = await rpc(HOST_A, call('no_such_tool'), headers);
    expect(unknown.result?.isError).toBe(true);
    expect(unknown.result?.content?.[0]?.text).toBe('MCP error -32602: Tool no_such_tool not found');
    // The card's buttons exist only for clients that declared MCP Apps.
    const button = await rpc(HOST_A, call('card_portal_link', { card: 'x', flow: 'manage' }), headers);
    expect(button.result?.isError).toBe(true);
    expect(button.result?.content?.[0]?.text).toBe('MCP error -32602: Tool card_portal_link disabled');
    // Staff have no verification tools: the name is unknown to a staff server.
    const staffVerify = await rpc(STAFF, call('verify_email_start', { email: DEMO.emails.alice }));
    expect(staffVerify.result?.isError).toBe(true);
    expect(staffVerify.result?.content?.[0]?.text).toBe('MCP error -32602: Tool verify_email_start not found');
    // A customer's call cannot choose whom it is about: the staff-only argument is dropped.
    const chosen = await rpc(HOST_A, call('get_customer_overview', { customer_id: DEMO.customers.bob }), headers);
    expect(chosen.result?.isError, JSON.stringify(chosen)).toBeFalsy();
    expect(JSON.stringify(chosen.result)).toContain(DEMO.customers.alice);
    expect(JSON.stringify(chosen.result)).not.toContain(DEMO.customers.bob);
  });

  it('still lists every tool and answers a batch of calls (older protocol versions)', async () => {
    const token = await fx.token(DEMO.emails.alice);
    const listed = await rpc(HOST_A, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { 'x-customer-token': token });
    expect(listed.result?.tools?.map((tool) => tool.name)).toEqual(expect.arrayContaining(['get_customer_overview', 'get_billing_info', 'get_invoice_history']));
    const response = await fetch(`${fx.url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${HOST_A}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-03-26', 'x-customer-token': token },
      body: JSON.stringify([call('get_billing_info', {}, 1), call('get_subscription_status', {}, 2)]),
    });
    const batch = (await response.json()) as Array<RpcAnswer & { id: number }>;
    expect(batch.map((answer) => [answer.id, answer.result?.isError ?? false]).sort()).toEqual([
      [1, false],
      [2, false],
    ]);
  });
});
