/**
 * A stateless `/mcp` request that is one `tools/call` asking for JSON is answered directly by the
 * tool's handler under the SDK's own request and result schemas (src/server.ts
 * `createMcpCallDispatcher`), every other request by an McpServer and transport built for it, as
 * before. Neither may change what anyone sees:
 * - calls from two customers at once, numbered alike (every client starts at id 1), each get
 *   their own records under their own id, and no server is built for them;
 * - the direct answer is, byte for byte, the JSON-RPC message the SDK's own transport sends;
 * - a request the SDK would refuse or answer otherwise is still answered by it, in its words;
 * - a tool the merchant's policy or the Stripe key's probe takes away is refused as a server
 *   built for the request would refuse it.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEMO } from '../src/demo/fake-stripe/index.js';
import { actionsFixtures, ALICE } from './support/actions.js';
import { HOST_A, HOST_B, startHttpFixture, type HttpFixture } from './support/http-harness.js';

let fx: HttpFixture;
beforeAll(async () => {
  fx = await startHttpFixture();
});
afterAll(() => fx.close());
afterEach(() => vi.restoreAllMocks());

const JSON_FIRST = 'application/json, text/event-stream';
const STREAM_FIRST = 'text/event-stream, application/json';

interface RpcMessage {
  jsonrpc: string;
  id: number | string | null;
  result?: { isError?: boolean; content?: Array<{ text?: string }>; structuredContent?: Record<string, unknown> };
  error?: { code: number; message: string };
}

const call = (name: string, args: Record<string, unknown> = {}, id: number | string = 1) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

async function post(body: unknown, headers: Record<string, string>, url = fx.url): Promise<{ status: number; type: string | null; text: string }> {
  const response = await fetch(`${url}/mcp`, {
    method: 'POST',
    headers: { authorization: `Bearer ${HOST_A}`, 'content-type': 'application/json', accept: JSON_FIRST, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

/** The one JSON-RPC message of an answer, JSON or a server-sent event stream. */
function messageOf(answer: { type: string | null; text: string }): RpcMessage {
  if (answer.type?.startsWith('text/event-stream')) {
    const data = answer.text.split('\n').filter((line) => line.startsWith('data: ') && line.length > 6);
    expect(data).toHaveLength(1);
    return JSON.parse(data[0]!.slice(6)) as RpcMessage;
  }
  return JSON.parse(answer.text) as RpcMessage;
}

describe('/mcp tools/call answered directly', () => {
  it('two customers calling at once with the same request ids each get their own records under their own id', async () => {
    const people = [
      { key: HOST_A, email: DEMO.emails.alice, customer: DEMO.customers.alice, other: DEMO.customers.bob },
      { key: HOST_B, email: DEMO.emails.bob, customer: DEMO.customers.bob, other: DEMO.customers.alice },
    ];
    const tokens = await Promise.all(people.map((person) => fx.token(person.email)));
    // Answered directly: no McpServer is connected for any of these calls.
    const connects = vi.spyOn(McpServer.prototype, 'connect');
    const ids: Array<number | string> = [1, 1, 'call-1', 0, 7];
    // Both host keys are customer mode: the same tool and handler for both people.
    const answers = await Promise.all(
      ids.flatMap((id, round) =>
        people.map(async (person, index) => {
          const answer = await post(call('get_customer_overview', {}, id), { authorization: `Bearer ${person.key}`, 'x-customer-token': tokens[index]!, 'x-conversation-id': `kept-${index}-${round}` });
          return { person, id, answer };
        }),
      ),
    );
    for (const { person, id, answer } of answers) {
      expect(answer.status).toBe(200);
      expect(answer.type).toBe('application/json');
      const message = messageOf(answer);
      expect(message.id).toBe(id);
      expect(message.result?.isError, answer.text).toBeFalsy();
      const seen = JSON.stringify(message.result);
      expect(seen).toContain(person.customer);
      expect(seen).not.toContain(person.other);
    }
    expect(connects).not.toHaveBeenCalled();
  });

  it("answers each call with the message the SDK's own transport sends for it", async () => {
    const token = await fx.token(DEMO.emails.alice);
    const headers = { 'x-customer-token': token, 'x-conversation-id': 'kept-same-answer' };
    const calls = [
      call('get_subscription_status', {}, 3),
      call('get_invoice_history', { limit: 2 }, 'inv'),
      // Refused arguments: the same tool error either way.
      call('get_invoice_history', { status: 'bogus', limit: 'x' }, 4),
      // Not a call the server takes (arguments that are no object; a task-augmented call): the SDK answers both ways.
      { ...call('get_billing_info', {}, 5), params: { name: 'get_billing_info', arguments: [] } },
      { ...call('get_billing_info', {}, 6), params: { name: 'get_billing_info', arguments: {}, task: { ttl: 60_000 } } },
    ];
    for (const body of calls) {
      const kept = await post(body, { ...headers, accept: JSON_FIRST });
      // Server-sent events first: the SDK's transport answers (only JSON is answered directly).
      const transport = await post(body, { ...headers, accept: STREAM_FIRST });
      expect(kept.type).toBe('application/json');
      expect(transport.type).toMatch(/^text\/event-stream/);
      // The same bytes: the transport's JSON answer is JSON.stringify of the same message.
      expect(kept.text, JSON.stringify(body)).toBe(JSON.stringify(messageOf(transport)));
    }
    expect(messageOf(await post(calls[2], headers)).result?.content?.[0]?.text).toMatch(/^Invalid arguments\. /);
  });

  it("leaves every request it would answer differently to the SDK's transport", async () => {
    const token = await fx.token(DEMO.emails.alice);
    const headers = { 'x-customer-token': token };
    const body = call('get_billing_info');
    expect((await post(body, { ...headers, accept: 'application/json' })).status).toBe(406);
    expect((await post(body, { ...headers, 'content-type': 'text/plain' })).status).toBe(415);
    const version = await post(body, { ...headers, 'mcp-protocol-version': '1999-01-01' });
    expect(version.status).toBe(400);
    expect(messageOf(version).error?.message).toMatch(/Unsupported protocol version: 1999-01-01/);
    // Not a JSON-RPC request by the SDK's schema (a member it does not know; an id of null).
    expect((await post({ ...body, extra: true }, headers)).status).toBe(400);
    expect((await post({ ...body, id: null }, headers)).status).toBe(400);
    // A notification is accepted and answered with nothing.
    expect((await post({ jsonrpc: '2.0', method: 'tools/call', params: { name: 'get_billing_info' } }, headers)).status).toBe(202);
    // And the same call with acceptable headers is answered.
    expect(messageOf(await post(body, headers)).result?.isError).toBeFalsy();
  });

  it("refuses a tool the Stripe key's probe takes away, and answers it again once it is back", async () => {
    const probed = await startHttpFixture({}, { probeTools: true });
    try {
      const token = await probed.token(DEMO.emails.alice);
      const headers = { 'x-customer-token': token };
      const answer = async () => messageOf(await post(call('get_payment_history'), headers, probed.url));
      expect((await answer()).result?.isError).toBeFalsy();
      const availability = probed.runtime.availability!;
      const isListed = availability.isListed.bind(availability);
      vi.spyOn(availability, 'isListed').mockImplementation((tool) => tool.name !== 'get_payment_history' && isListed(tool));
      const gone = await answer();
      expect(gone.result?.isError).toBe(true);
      expect(gone.result?.content?.[0]?.text).toBe('MCP error -32602: Tool get_payment_history disabled');
      vi.restoreAllMocks();
      expect((await answer()).result?.isError).toBeFalsy();
    } finally {
      await probed.close();
    }
  });

  it("refuses an action the merchant's policy turns off, as a tool it does not have", async () => {
    const fixture = await actionsFixtures()();
    try {
      const token = await fixture.token(ALICE);
      const headers = { 'x-customer-token': token, 'x-conversation-id': 'kept-policy' };
      const before = messageOf(await post(call('get_request_status'), headers, fixture.url));
      expect(before.result?.isError, JSON.stringify(before)).toBeFalsy();
      vi.spyOn(fixture.runtime.actions!, 'enabled').mockReturnValue(false);
      const after = messageOf(await post(call('get_request_status'), headers, fixture.url));
      expect(after.result?.isError).toBe(true);
      expect(after.result?.content?.[0]?.text).toBe('MCP error -32602: Tool get_request_status not found');
    } finally {
      await fixture.close();
    }
  });
});
