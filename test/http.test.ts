import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { bypass } from 'msw';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../src/demo/fake-stripe/index.js';
import { mintIdentityToken } from '../src/demo/demo-identity.js';
import { startHttpServer, type RunningHttpServer } from '../src/http/serve.js';
import { BILLING_TOOLS as REGISTERED_BILLING_TOOLS, ALL_TOOLS as REGISTERED_TOOLS, selectTools } from '../src/tools/registry.js';
import { createIdentityTokenVerifier } from '../src/verify/identity-token.js';
import { useFakeStripe } from './support/fake-stripe-msw.js';
import { sampleArgs } from './support/tool-args.js';
import { HOST_A, HOST_B, IDENTITY_SECRET, STAFF, startHttpFixture, verifyConversationByCode, type HttpFixture } from './support/http-harness.js';
import { testMailer, testRuntime, testSettings } from './support/mcp-harness.js';

// No actions policy here: the action tools (request_refund…) are not listed, so not expected.
const BILLING_TOOLS = REGISTERED_BILLING_TOOLS.filter((tool) => tool.action === undefined);
const ALL_TOOLS = REGISTERED_TOOLS.filter((tool) => tool.action === undefined);

let fx: HttpFixture;
beforeAll(async () => {
  fx = await startHttpFixture();
});
afterAll(() => fx.close());

async function mcpClient(headers: Record<string, string>): Promise<Client> {
  const client = new Client({ name: 'http-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${fx.url}/mcp`), { requestInit: { headers } }));
  return client;
}

function structured(result: CallToolResult): Record<string, unknown> {
  expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
  return result.structuredContent!;
}

const post = (path: string, headers: Record<string, string>, body: unknown = {}) =>
  fetch(`${fx.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

const verifyConversation = (key: string, conversation: string, email: string) => verifyConversationByCode(fx, key, conversation, email);

describe('Streamable HTTP with the SDK client', () => {
  it('lists and calls every tool as host key + customer token', async () => {
    const client = await mcpClient({ authorization: `Bearer ${HOST_A}`, 'x-customer-token': await fx.token(DEMO.emails.alice) });
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(ALL_TOOLS.map((tool) => tool.name).sort());
    for (const tool of BILLING_TOOLS) structured((await client.callTool({ name: tool.name, arguments: sampleArgs(tool.name, { staff: false }) })) as CallToolResult);
    expect(structured((await client.callTool({ name: 'get_verification_status', arguments: {} })) as CallToolResult)).toMatchObject({ verified: true, method: 'identity-token' });
    await client.close();
  });

  it('lists and calls every tool as host key + a conversation verified by emailed code', async () => {
    await verifyConversation(HOST_A, 'conv-mcp-1', DEMO.emails.alice);
    const client = await mcpClient({ authorization: `Bearer ${HOST_A}`, 'x-conversation-id': 'conv-mcp-1' });
    for (const tool of BILLING_TOOLS) structured((await client.callTool({ name: tool.name, arguments: sampleArgs(tool.name, { staff: false }) })) as CallToolResult);
    expect(structured((await client.callTool({ name: 'get_verification_status', arguments: {} })) as CallToolResult)).toMatchObject({ email: DEMO.emails.alice, method: 'email-code' });
    await client.close();
  });

  it('lists and calls every billing tool as staff, and offers staff no verification tools', async () => {
    const client = await mcpClient({ authorization: `Bearer ${STAFF}` });
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(BILLING_TOOLS.map((tool) => tool.name).sort());
    for (const tool of BILLING_TOOLS) structured((await client.callTool({ name: tool.name, arguments: sampleArgs(tool.name, { staff: true }) })) as CallToolResult);
    await client.close();
  });

  it('answers JSON or SSE as the Accept header prefers', async () => {
    const body = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} };
    const json = await post('/mcp', { authorization: `Bearer ${STAFF}`, accept: 'application/json, text/event-stream' }, body);
    expect(json.headers.get('content-type')).toMatch(/application\/json/);
    expect(((await json.json()) as { result: { tools: unknown[] } }).result.tools.length).toBe(BILLING_TOOLS.length);
    const sse = await post('/mcp', { authorization: `Bearer ${STAFF}`, accept: 'text/event-stream, application/json' }, body);
    expect(sse.headers.get('content-type')).toMatch(/text\/event-stream/);
    expect(await sse.text()).toMatch(/^event: message\ndata: .*"tools"/m);
  });
});

describe('plain JSON for non-MCP bots', () => {
  it('lists the caller\'s tools in OpenAI and Anthropic formats, without identity fields for hosts', async () => {
    const response = await fetch(`${fx.url}/v1/tools`, { headers: { authorization: `Bearer ${HOST_A}` } });
    const catalog = (await response.json()) as {
      mode: string;
      openai: Array<{ type: string; function: { name: string; parameters: { properties?: Record<string, unknown> } } }>;
      anthropic: Array<{ name: string; input_schema: { type: string; properties?: Record<string, unknown> } }>;
    };
    expect(response.status).toBe(200);
    expect(catalog.mode).toBe('customer');
    expect(catalog.openai.every((tool) => tool.type === 'function' && typeof (tool.function as { description?: unknown }).description === 'string')).toBe(true);
    expect(catalog.openai.every((tool) => (tool.function.parameters as { type?: string }).type === 'object')).toBe(true);
    expect(catalog.anthropic.map((tool) => tool.name)).toEqual(catalog.openai.map((tool) => tool.function.name));
    expect(catalog.anthropic.every((tool) => typeof (tool as { description?: unknown }).description === 'string')).toBe(true);
    expect(catalog.openai.map((tool) => tool.function.name).sort()).toEqual(ALL_TOOLS.map((tool) => tool.name).sort());
    expect(catalog.anthropic.every((tool) => tool.input_schema.type === 'object')).toBe(true);
    for (const tool of catalog.openai.filter((candidate) => candidate.function.name !== 'verify_email_start')) {
      expect(Object.keys(tool.function.parameters.properties ?? {}), tool.function.name).not.toContain('email');
      expect(Object.keys(tool.function.parameters.properties ?? {}), tool.function.name).not.toContain('customer_id');
      expect(Object.keys(tool.function.parameters.properties ?? {}), tool.function.name).not.toContain('customer');
    }
    for (const tool of catalog.anthropic.filter((candidate) => candidate.name !== 'verify_email_start')) {
      expect(JSON.stringify(tool.input_schema), tool.name).not.toMatch(/"(email|customer_id|customer)"/);
    }
    const staff = (await (await fetch(`${fx.url}/v1/tools`, { headers: { authorization: `Bearer ${STAFF}` } })).json()) as typeof catalog;
    expect(Object.keys(staff.anthropic.find((tool) => tool.name === 'get_billing_info')!.input_schema.properties ?? {})).toEqual(expect.arrayContaining(['email', 'customer_id']));
  });

  it('calls every tool with the same results as MCP, for token, conversation and staff callers', async () => {
    const token = await fx.token(DEMO.emails.alice);
    await verifyConversation(HOST_A, 'conv-json-1', DEMO.emails.alice);
    const client = await mcpClient({ authorization: `Bearer ${HOST_A}`, 'x-customer-token': token });
    const staffClient = await mcpClient({ authorization: `Bearer ${STAFF}` });
    for (const tool of BILLING_TOOLS.filter((candidate) => !candidate.write && !['get_billing_portal_link', 'cancel_subscription', 'preview_plan_change'].includes(candidate.name))) {
      const viaMcp = structured((await client.callTool({ name: tool.name, arguments: sampleArgs(tool.name, { staff: false }) })) as CallToolResult);
      for (const headers of [{ 'x-customer-token': token }, { 'x-conversation-id': 'conv-json-1' }] as Array<Record<string, string>>) {
        const viaJson = (await (await post(`/v1/tools/${tool.name}`, { authorization: `Bearer ${HOST_A}`, ...headers }, sampleArgs(tool.name, { staff: false }))).json()) as { is_error: boolean; result: unknown };
        expect(viaJson.is_error, tool.name).toBe(false);
        expect(viaJson.result, tool.name).toEqual(viaMcp);
      }
      const staffViaMcp = structured((await staffClient.callTool({ name: tool.name, arguments: sampleArgs(tool.name, { staff: true }) })) as CallToolResult);
      const viaStaff = (await (await post(`/v1/tools/${tool.name}`, { authorization: `Bearer ${STAFF}` }, sampleArgs(tool.name, { staff: true }))).json()) as { result: unknown };
      expect(viaStaff.result, tool.name).toEqual(staffViaMcp);
    }
    await client.close();
    await staffClient.close();
  });
});

/**
 * The status of a POST whose body the server refuses before reading it all. The body goes out
 * in 16 KiB pieces until the answer arrives (as a well-behaved client would stop), with its
 * length declared up front or, with `chunked`, not at all.
 */
async function rawPostStatus(path: string, body: string, chunked = false): Promise<number> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    let answered = false;
    const headers: Record<string, string | number> = { authorization: `Bearer ${STAFF}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    if (!chunked) headers['content-length'] = Buffer.byteLength(body);
    const req = request(`${fx.url}${path}`, { method: 'POST', headers }, (res) => {
      answered = true;
      res.resume();
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    req.on('error', (error) => (answered ? undefined : reject(error)));
    const send = async () => {
      for (let offset = 0; offset < body.length && !answered; offset += 16_384) {
        req.write(body.slice(offset, offset + 16_384));
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      if (!answered) req.end();
    };
    void send();
  });
}

describe('every tool through /v1/tools', () => {
  it('answers every tool for a token, a verified conversation and staff', async () => {
    const token = await fx.token(DEMO.emails.alice);
    await verifyConversation(HOST_A, 'conv-json-all', DEMO.emails.alice);
    const callers: Array<[string, Record<string, string>, boolean]> = [
      ['token', { authorization: `Bearer ${HOST_A}`, 'x-customer-token': token }, false],
      ['conversation', { authorization: `Bearer ${HOST_A}`, 'x-conversation-id': 'conv-json-all' }, false],
      ['staff', { authorization: `Bearer ${STAFF}` }, true],
    ];
    for (const [who, headers, staff] of callers) {
      for (const tool of BILLING_TOOLS) {
        const response = await post(`/v1/tools/${tool.name}`, headers, sampleArgs(tool.name, { staff: staff }));
        const body = (await response.json()) as { is_error: boolean; result: Record<string, unknown>; error?: unknown };
        expect(response.status, `${who} ${tool.name}`).toBe(200);
        expect(body.is_error, `${who} ${tool.name}: ${JSON.stringify(body.error)}`).toBe(false);
        expect(body.result, `${who} ${tool.name}`).toBeTypeOf('object');
      }
    }
    const status = (await (await post('/v1/tools/get_verification_status', callers[1]![1])).json()) as { result: unknown };
    expect(status.result).toMatchObject({ verified: true, email: DEMO.emails.alice });
  });
});

describe('refusals: the right status and nothing served', () => {
  const ALICE_MARKERS = [DEMO.customers.alice, DEMO.subscriptions.alice, DEMO.emails.alice];
  const expectNoAliceData = (text: string) => {
    for (const marker of ALICE_MARKERS) expect(text).not.toContain(marker);
  };

  it('401 with WWW-Authenticate for a missing or wrong key, on /mcp and /v1', async () => {
    for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: `Basic ${HOST_A}` }, { authorization: `Bearer ${HOST_A}x` }] as Array<Record<string, string>>) {
      for (const path of ['/mcp', '/v1/tools/get_billing_info']) {
        const response = await post(path, headers, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
        expect(response.status, `${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expectNoAliceData(await response.text());
      }
    }
  });

  it('ignores staff arguments sent with a host key', async () => {
    const token = await fx.token(DEMO.emails.bob);
    const response = await post('/v1/tools/get_subscription_status', { authorization: `Bearer ${HOST_A}`, 'x-customer-token': token }, { email: DEMO.emails.alice, customer_id: DEMO.customers.alice });
    const body = (await response.json()) as { result: { subscriptions: Array<{ id: string }> } };
    expect(body.result.subscriptions.map((sub) => sub.id)).toEqual([DEMO.subscriptions.bob]);
    expectNoAliceData(JSON.stringify(body));
  });

  it('ignores staff arguments sent with a host key over MCP too', async () => {
    const client = await mcpClient({ authorization: `Bearer ${HOST_A}`, 'x-customer-token': await fx.token(DEMO.emails.bob) });
    const result = (await client.callTool({ name: 'get_subscription_status', arguments: { email: DEMO.emails.alice, customer_id: DEMO.customers.alice } })) as CallToolResult;
    // Either the unknown arguments are dropped (Bob's answer) or the call is refused: never Alice's data.
    if (!result.isError) expect((result.structuredContent as { subscriptions: Array<{ id: string }> }).subscriptions.map((sub) => sub.id)).toEqual([DEMO.subscriptions.bob]);
    expectNoAliceData(JSON.stringify(result));
    await client.close();
  });

  it("never lets one host key use another host key's verified conversation", async () => {
    await verifyConversation(HOST_A, 'conv-shared-id', DEMO.emails.alice);
    const response = await post('/v1/tools/get_billing_info', { authorization: `Bearer ${HOST_B}`, 'x-conversation-id': 'conv-shared-id' });
    const body = (await response.json()) as { is_error: boolean; error: { kind: string } };
    expect(body).toMatchObject({ is_error: true, error: { kind: 'not_verified' } });
    expectNoAliceData(JSON.stringify(body));
    // The owner still is verified.
    expect(((await (await post('/v1/tools/get_billing_info', { authorization: `Bearer ${HOST_A}`, 'x-conversation-id': 'conv-shared-id' })).json()) as { is_error: boolean }).is_error).toBe(false);
  });

  it('treats a forged or expired token as not verified', async () => {
    for (const token of [await fx.token(DEMO.emails.alice, 600, 'a-different-secret-that-is-32-bytes-long'), await fx.token(DEMO.emails.alice, -60), 'garbage.token.here']) {
      const body = await (await post('/v1/tools/get_billing_info', { authorization: `Bearer ${HOST_A}`, 'x-customer-token': token })).text();
      expect(JSON.parse(body)).toMatchObject({ is_error: true, error: { kind: 'not_verified' } });
      expectNoAliceData(body);
    }
  });

  it('403 for a disallowed Origin and a non-loopback Host', async () => {
    const token = await fx.token(DEMO.emails.alice);
    for (const origin of ['https://evil.example', 'null', `${fx.url}.evil.example`]) {
      const response = await post('/v1/tools/get_billing_info', { authorization: `Bearer ${HOST_A}`, origin, 'x-customer-token': token });
      expect(response.status, origin).toBe(403);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expectNoAliceData(await response.text());
      const mcp = await post('/mcp', { authorization: `Bearer ${HOST_A}`, origin, 'x-customer-token': token, accept: 'application/json, text/event-stream' }, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
      expect(mcp.status, origin).toBe(403);
    }
    const { request } = await import('node:http');
    const withHost = (host: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(`${fx.url}/v1/tools/get_billing_info`, { method: 'POST', headers: { host, authorization: `Bearer ${HOST_A}`, 'x-customer-token': token, 'content-type': 'application/json' } }, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end('{}');
      });
    // DNS-rebinding names, including ones that merely start like a loopback address.
    for (const host of ['rebound.evil.example', '127.0.0.1.nip.io', '127.0.0.1.evil.example:8787', 'localhost.evil.example']) {
      const answer = await withHost(host);
      expect(answer.status, `Host: ${host}`).toBe(403);
      expectNoAliceData(answer.body);
    }
    // Loopback names are served, so the refusals above are about the name.
    for (const host of ['localhost', `127.0.0.1:${new URL(fx.url).port}`, '127.0.0.2']) expect((await withHost(host)).status, `Host: ${host}`).toBe(200);
  });

  it('413 for an oversized body, 400 for malformed JSON, a JSON-RPC error for a malformed message; and keeps serving', async () => {
    expect(await rawPostStatus('/v1/tools/get_billing_info', JSON.stringify({ email: 'x'.repeat(300_000) }))).toBe(413);
    expect(await rawPostStatus('/mcp', JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { pad: 'x'.repeat(300_000) } }))).toBe(413);
    expect(await rawPostStatus('/mcp', JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { pad: 'x'.repeat(300_000) } }), true)).toBe(413);
    const badJson = await post('/v1/tools/get_billing_info', { authorization: `Bearer ${STAFF}` }, '{"email": ');
    expect(badJson.status).toBe(400);
    const notObject = await post('/v1/tools/get_billing_info', { authorization: `Bearer ${STAFF}` }, '[1,2]');
    expect(notObject.status).toBe(400);
    const badRpc = await post('/mcp', { authorization: `Bearer ${STAFF}`, accept: 'application/json, text/event-stream' }, '{"jsonrpc": "2.0", "method": ');
    expect(badRpc.status).toBeGreaterThanOrEqual(400);
    expect(badRpc.status).toBeLessThan(500);
    expect(await badRpc.text()).toMatch(/"jsonrpc":"2.0".*"error"/);
    const notRpc = await post('/mcp', { authorization: `Bearer ${STAFF}`, accept: 'application/json, text/event-stream' }, { hello: 'world' });
    expect(notRpc.status).toBeGreaterThanOrEqual(400);
    expect(notRpc.status).toBeLessThan(500);
    const ok = await post('/v1/tools/get_subscription_status', { authorization: `Bearer ${STAFF}` }, { email: DEMO.emails.bob });
    expect(ok.status).toBe(200);
  });

  it('405 for GET /mcp, 404 for an unknown or not-enabled tool, 400 for a bad conversation id', async () => {
    const get = await fetch(`${fx.url}/mcp`, { headers: { authorization: `Bearer ${STAFF}`, accept: 'text/event-stream' } });
    expect(get.status).toBe(405);
    expect((await post('/v1/tools/drop_tables', { authorization: `Bearer ${STAFF}` })).status).toBe(404);
    expect((await post('/v1/tools/verify_email_start', { authorization: `Bearer ${STAFF}` }, { email: 'x@example.com' })).status).toBe(404);
    const badConversation = await post('/v1/tools/get_billing_info', { authorization: `Bearer ${HOST_A}`, 'x-conversation-id': 'has spaces and "quotes"' });
    expect(badConversation.status).toBe(400);
  });
});

/**
 * The same server built from the test harness (testSettings / testRuntime), the Stripe SDK on
 * its own HTTP client and routed to the fake by msw. msw refuses every request it has no
 * handler for, the test's own loopback calls included, so those go out through `bypass`.
 */
describe('over real HTTP with the Stripe SDK routed by msw', () => {
  const stripe = useFakeStripe({ now: 1_790_000_000 });
  const env = { HOST_KEYS: `host-a:${HOST_A},host-b:${HOST_B}`, STAFF_KEYS: `support:${STAFF}`, IDENTITY_SECRET, PORT: '0', WRITE_TOOLS: 'all' };
  const mailer = testMailer();
  let running: RunningHttpServer;
  beforeAll(async () => {
    const settings = testSettings(env);
    running = await startHttpServer({
      settings,
      runtime: testRuntime(env, { mailer }),
      tools: selectTools({ allowlist: settings.TOOLS, writeTools: settings.WRITE_TOOLS }, ALL_TOOLS),
      verifier: createIdentityTokenVerifier(settings),
    });
  });
  afterAll(() => running?.close());

  const loopback = async (input: string | URL | Request, init?: RequestInit) => {
    const response = await fetch(bypass(input, init));
    // A passed-through 202 carries an empty body stream whose cancel() never settles, and the
    // SDK client awaits exactly that after notifications/initialized: hand it no body at all.
    return response.status === 202 ? new Response(null, { status: 202, headers: response.headers }) : response;
  };
  const send = (path: string, headers: Record<string, string>, body: unknown = {}) =>
    loopback(`${running.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const sdkClient = async (headers: Record<string, string>) => {
    const client = new Client({ name: 'http-msw-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${running.url}/mcp`), { requestInit: { headers }, fetch: loopback }));
    return client;
  };
  /** The billing accounts a result is about: alice's email is on two customer records (case differs). */
  const ALICE_ACCOUNTS = [DEMO.customers.alice, DEMO.customers.aliceUppercase].sort();
  const accountsOf = (result: unknown) => ((result as { billing_accounts: Array<{ customer_id: string }> }).billing_accounts ?? []).map((account) => account.customer_id).sort();

  async function verifyThroughMail(conversation: string, email: string) {
    const headers = { authorization: `Bearer ${HOST_A}`, 'x-conversation-id': conversation };
    expect(await (await send('/v1/tools/verify_email_start', headers, { email })).json()).toMatchObject({ is_error: false, result: { status: 'code_sent' } });
    const code = [...mailer.messages].reverse().find((message) => message.to === email)?.code;
    expect(code).toMatch(/^\d{6}$/);
    expect(await (await send('/v1/tools/verify_email_confirm', headers, { code })).json()).toMatchObject({ is_error: false, result: { verified: true, email } });
  }

  // Results that are the same on every call (links carry fresh session ids, previews the moment; writes change state).
  const STABLE = BILLING_TOOLS.filter((tool) => !tool.write && !['get_billing_portal_link', 'cancel_subscription', 'preview_plan_change'].includes(tool.name));

  it('(a) host key + customer token, (b) host key + verified conversation, (c) staff key: every tool over MCP and /v1/tools alike', async () => {
    await verifyThroughMail('msw-conv-1', DEMO.emails.alice);
    const callers: Array<[string, Record<string, string>, boolean]> = [
      ['token', { authorization: `Bearer ${HOST_A}`, 'x-customer-token': await mintIdentityToken(DEMO.emails.alice, IDENTITY_SECRET, 600) }, false],
      ['conversation', { authorization: `Bearer ${HOST_A}`, 'x-conversation-id': 'msw-conv-1' }, false],
      ['staff', { authorization: `Bearer ${STAFF}` }, true],
    ];
    for (const [who, headers, staff] of callers) {
      const client = await sdkClient(headers);
      const listed = (await client.listTools()).tools.map((tool) => tool.name).sort();
      expect(listed, who).toEqual((staff ? BILLING_TOOLS : ALL_TOOLS).map((tool) => tool.name).sort());
      for (const tool of BILLING_TOOLS) {
        const viaMcp = (await client.callTool({ name: tool.name, arguments: sampleArgs(tool.name, { staff: staff }) })) as CallToolResult;
        expect(viaMcp.isError, `${who} ${tool.name} over MCP: ${JSON.stringify(viaMcp.content)}`).toBeFalsy();
        const response = await send(`/v1/tools/${tool.name}`, headers, sampleArgs(tool.name, { staff: staff }));
        expect(response.status, `${who} ${tool.name}`).toBe(200);
        const viaJson = (await response.json()) as { is_error: boolean; result: unknown; error?: unknown };
        expect(viaJson.is_error, `${who} ${tool.name} over /v1: ${JSON.stringify(viaJson.error)}`).toBe(false);
        if (STABLE.includes(tool)) expect(viaJson.result, `${who} ${tool.name}`).toEqual(viaMcp.structuredContent);
        else if (!tool.write) expect(Object.keys(viaJson.result as object).sort(), `${who} ${tool.name}`).toEqual(Object.keys(viaMcp.structuredContent!).sort());
        else expect(viaJson.result, `${who} ${tool.name}`).toBeTypeOf('object');
      }
      expect(accountsOf((await client.callTool({ name: 'get_billing_info', arguments: sampleArgs('get_billing_info', { staff: staff }) })).structuredContent), who).toEqual(ALICE_ACCOUNTS);
      await client.close();
    }
    // The calls above reached Stripe through msw (and nothing reached the network: msw errors on that).
    expect(stripe.fake().requests.length).toBeGreaterThan(0);
  });

  it('answers initialize and tools/list as JSON or as an SSE stream, as Accept prefers', async () => {
    const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };
    const list = { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} };
    const auth = { authorization: `Bearer ${HOST_A}`, 'x-customer-token': await mintIdentityToken(DEMO.emails.alice, IDENTITY_SECRET, 600) };
    for (const message of [initialize, list]) {
      const json = await send('/mcp', { ...auth, accept: 'application/json, text/event-stream' }, message);
      expect(json.status, message.method).toBe(200);
      expect(json.headers.get('content-type')).toMatch(/^application\/json/);
      const answer = (await json.json()) as { id: number; result: Record<string, unknown> };
      expect(answer.id).toBe(message.id);
      expect(answer.result).toHaveProperty(message.method === 'initialize' ? 'serverInfo' : 'tools');

      const sse = await send('/mcp', { ...auth, accept: 'text/event-stream, application/json' }, message);
      expect(sse.status, message.method).toBe(200);
      expect(sse.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const data = /^data: (.*)$/m.exec(await sse.text())?.[1];
      expect(JSON.parse(data!)).toMatchObject({ jsonrpc: '2.0', id: message.id, result: answer.result });
    }
  });
});
