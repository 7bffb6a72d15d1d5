/**
 * Every answer under /mcp, /v1 and /metrics carries `Cache-Control: no-store`, whatever built it:
 * a tool's answer, a refusal, an error thrown on the way, the MCP transport's own response (JSON
 * or an event stream), a 404 no route matched. Those answers carry one customer's billing data or
 * say something about it, so no browser or proxy may keep a copy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPS_EXTENSION_ID } from '../src/apps/billing-card.js';
import { MAX_BODY_BYTES } from '../src/http/app.js';
import { DEMO } from '../src/demo/fake-stripe/index.js';
import { HOST_A, STAFF, startHttpFixture, type HttpFixture } from './support/http-harness.js';

const MCP_ACCEPT = 'application/json, text/event-stream';
const toolsCall = (name: string, id = 1) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } });

interface Case {
  what: string;
  path: string;
  method?: string;
  key?: string;
  headers?: Record<string, string>;
  body?: string;
  status: number;
  /** Something the answer's body says, so the case is the answer it names. */
  says?: RegExp;
}

/** A body over MAX_BODY_BYTES, written in pieces until the server answers (it answers before the end, and closes). */
async function postOversized(url: string, path: string, headers: Record<string, string>): Promise<{ status: number; cacheControl: string | undefined }> {
  const { request } = await import('node:http');
  const body = JSON.stringify({ pad: 'x'.repeat(MAX_BODY_BYTES + 1024) });
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(`${url}${path}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json', accept: MCP_ACCEPT, 'content-length': Buffer.byteLength(body) } }, (res) => {
      answered = true;
      res.resume();
      resolve({ status: res.statusCode ?? 0, cacheControl: res.headers['cache-control'] });
      req.destroy();
    });
    req.on('error', (error) => (answered ? undefined : reject(error)));
    void (async () => {
      for (let offset = 0; offset < body.length && !answered; offset += 16_384) {
        req.write(body.slice(offset, offset + 16_384));
        await new Promise((done) => setTimeout(done, 2));
      }
      if (!answered) req.end();
    })();
  });
}

async function expectNoStore(fx: HttpFixture, token: string, cases: Case[]): Promise<void> {
  for (const { what, path, method = 'POST', key = HOST_A, headers = {}, body, status, says } of cases) {
    const response = await fetch(`${fx.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'x-customer-token': token, 'content-type': 'application/json', accept: MCP_ACCEPT, ...headers },
      ...(method === 'GET' ? {} : { body: body ?? '{}' }),
    });
    const text = await response.text();
    expect(response.status, `${what}: ${text.slice(0, 200)}`).toBe(status);
    if (says) expect(text, what).toMatch(says);
    expect(response.headers.get('cache-control'), what).toBe('no-store');
  }
}

describe('Cache-Control: no-store on every answer of the API', () => {
  let fx: HttpFixture;
  let token: string;
  beforeAll(async () => {
    fx = await startHttpFixture();
    token = await fx.token(DEMO.emails.alice);
  });
  afterAll(() => fx.close());

  it('on /v1 answers, refusals and errors', async () => {
    await expectNoStore(fx, token, [
      { what: 'a tool answer', path: '/v1/tools/get_billing_info', status: 200, says: /"is_error":false/ },
      { what: 'a tool refusal (no verified customer)', path: '/v1/tools/get_billing_info', headers: { 'x-customer-token': 'not-a-token' }, status: 200, says: /"is_error":true/ },
      { what: 'arguments the schema refuses', path: '/v1/tools/get_invoice_history', body: JSON.stringify({ status: 'bogus' }), status: 200, says: /Invalid arguments/ },
      { what: 'an unknown tool', path: '/v1/tools/no_such_tool', status: 404, says: /unknown_tool/ },
      { what: 'a body that is not JSON', path: '/v1/tools/get_billing_info', body: '{not json', status: 400, says: /malformed_json/ },
      { what: 'a wrong key', path: '/v1/tools/get_billing_info', key: 'wrong', status: 401, says: /unauthorized/ },
      { what: 'a conversation id the server refuses (an error thrown to onError)', path: '/v1/tools/get_billing_info', headers: { 'x-conversation-id': 'x'.repeat(10_000) }, status: 400, says: /bad_conversation_id/ },
      { what: 'the tool list', path: '/v1/tools', method: 'GET', status: 200, says: /"mode":"customer"/ },
      { what: 'an unknown list format', path: '/v1/tools?format=nope', method: 'GET', status: 400, says: /unknown_format/ },
      { what: 'a staff endpoint with a host key', path: '/v1/status', method: 'GET', status: 403, says: /forbidden/ },
      { what: 'the status, with a staff key', path: '/v1/status', method: 'GET', key: STAFF, status: 200 },
      { what: 'the action requests queue, actions off', path: '/v1/requests', method: 'GET', key: STAFF, status: 404, says: /actions_off/ },
      { what: 'a path no route matches', path: '/v1/nothing-here', method: 'GET', status: 404 },
      { what: 'the metrics', path: '/metrics', method: 'GET', key: STAFF, status: 200 },
    ]);
  });

  it('on the refusal of a body over the limit, sent before the body ends', async () => {
    for (const path of ['/v1/tools/get_billing_info', '/mcp']) {
      const answer = await postOversized(fx.url, path, { authorization: `Bearer ${HOST_A}`, 'x-customer-token': token });
      expect(answer.status, path).toBe(413);
      expect(answer.cacheControl, path).toBe('no-store');
    }
  });

  it('on /mcp answers, whether Hono or the MCP transport built them', async () => {
    const initialize = (capabilities: Record<string, unknown>) =>
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities, clientInfo: { name: 'no-store-test', version: '1' } } });
    await expectNoStore(fx, token, [
      { what: 'tools/call, JSON answer', path: '/mcp', body: toolsCall('get_billing_info'), status: 200, says: /structuredContent/ },
      // The SDK marks its event streams no-cache; ours must still say no-store.
      { what: 'tools/call, event-stream answer', path: '/mcp', headers: { accept: 'text/event-stream, application/json' }, body: toolsCall('get_billing_info'), status: 200, says: /event: message/ },
      { what: 'initialize from an Apps client (answer with a session mark)', path: '/mcp', body: initialize({ extensions: { [APPS_EXTENSION_ID]: {} } }), status: 200, says: /serverInfo/ },
      { what: 'initialize from a plain client', path: '/mcp', body: initialize({}), status: 200, says: /serverInfo/ },
      { what: 'a body that is not JSON (the transport refuses it)', path: '/mcp', body: '{not json', status: 400, says: /Parse error/ },
      { what: 'an Accept the transport refuses', path: '/mcp', headers: { accept: 'application/json' }, body: toolsCall('get_billing_info'), status: 406 },
      { what: 'a batch over the limit', path: '/mcp', headers: { 'mcp-protocol-version': '2025-03-26' }, body: JSON.stringify(Array.from({ length: 11 }, (_, id) => JSON.parse(toolsCall('get_billing_info', id)))), status: 400, says: /at most 10/ },
      { what: 'GET (no stream in a stateless server)', path: '/mcp', method: 'GET', status: 405, says: /method_not_allowed/ },
      { what: 'a wrong key', path: '/mcp', key: 'wrong', body: toolsCall('get_billing_info'), status: 401 },
    ]);
  });

  it('on the busy answers of the call limits, over both transports', async () => {
    const limited = await startHttpFixture({ CONVERSATION_CALLS_PER_MINUTE: '1' });
    try {
      const alice = await limited.token(DEMO.emails.alice);
      const conversation = { 'x-conversation-id': 'one-call-a-minute' };
      await expectNoStore(limited, alice, [
        { what: 'the first call', path: '/v1/tools/get_billing_info', headers: conversation, status: 200, says: /"is_error":false/ },
        { what: 'over the limit on /v1/tools', path: '/v1/tools/get_billing_info', headers: conversation, status: 429, says: /busy/ },
        { what: 'over the limit on /mcp', path: '/mcp', headers: conversation, body: toolsCall('get_billing_info'), status: 200, says: /"isError":true/ },
      ]);
    } finally {
      await limited.close();
    }
  });

  it('on a request that ran out of time', async () => {
    const slow = await startHttpFixture({}, { stripeDelayMs: 600, requestTimeoutMs: 200 });
    try {
      await expectNoStore(slow, await slow.token(DEMO.emails.alice), [{ what: 'a timeout', path: '/v1/tools/get_subscription_status', status: 504, says: /timeout/ }]);
    } finally {
      await slow.close();
    }
  });
});
