/**
 * The model proposes; only the person confirms. Across a whole flow over MCP and /v1/tools:
 * - no tool and no MCP method confirms: every listed tool called with the confirmation token (or
 *   its secret, or its request id) in every string argument changes nothing, and no refund is made;
 * - a scan of everything the model can read (tool lists, text content, structuredContent, tool
 *   errors, JSON-RPC errors) plus the server's log and the trail finds no token or secret, while
 *   the person's channels (`_meta["stripe-billing/confirmation"]`, `confirmation` beside `result`)
 *   do carry it;
 * - the person's channel (the host's button) then confirms, once.
 */
import { Writable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfirmationToken } from '../../src/actions/confirmation-secret.js';
import { DEMO } from '../../src/demo/fake-stripe/seed.js';
import { CONFIRMATION_META_KEY } from '../../src/server.js';
import { actionsFixtures, ALICE, type ActionsFixture } from '../support/actions.js';
import { HOST_A, STAFF } from '../support/http-harness.js';
import { sqliteSql } from '../support/raw-sql.js';

const fixture = actionsFixtures();
const open: ActionsFixture[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((fx) => fx.close()));
});

/** Arguments for any tool with `value` in every string field (enums: their first value; numbers: null where allowed). */
function argsWith(tool: Tool, value: string): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(tool.inputSchema.properties ?? {})) {
    const schema = raw as { type?: string | string[]; enum?: unknown[]; anyOf?: Array<{ type?: string; enum?: unknown[] }> };
    const types = [schema.type, ...(schema.anyOf ?? []).map((option) => option.type)].flat().filter(Boolean) as string[];
    const values = schema.enum ?? schema.anyOf?.find((option) => option.enum)?.enum;
    if (values) args[name] = values.find((option) => option !== null) ?? null;
    else if (types.includes('string')) args[name] = value;
    else if (types.includes('null')) args[name] = null;
    else if (types.includes('integer') || types.includes('number')) args[name] = 1;
    else if (types.includes('boolean')) args[name] = true;
  }
  return args;
}

describe('the model cannot confirm a request', () => {
  it('no tool or method confirms, nothing the model reads carries the token, and the person’s button does', async () => {
    const logged: string[] = [];
    const log = pino({ level: 'debug' }, new Writable({ write: (chunk: Buffer, _encoding, done) => void (logged.push(chunk.toString()), done()) }));
    // Every listed tool × four values, in one conversation: more calls than its default minute allows (every call counts, malformed or not).
    const fx = await fixture({ log, env: { CONVERSATION_CALLS_PER_MINUTE: '1000' } });
    open.push(fx);
    const token = await fx.token(ALICE);
    const headers = { authorization: `Bearer ${HOST_A}`, 'x-customer-token': token, 'x-conversation-id': 'conv-model-cannot-confirm' };
    /** Everything a model can read, in order. */
    const seenByModel: string[] = [];
    /** Every confirmation handed to the person. */
    const handed: Array<{ request_id: string; token: string }> = [];

    const client = new Client({ name: 'model-host', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${fx.url}/mcp`), { requestInit: { headers } }));
    const { tools } = await client.listTools();
    seenByModel.push(JSON.stringify(tools));
    expect(tools.map((tool) => tool.name)).toContain('request_refund');
    // No tool is a confirmation: nothing named so, and nothing but the person's channels confirms.
    expect(tools.filter((tool) => /confirm|approve/i.test(tool.name) && tool.name !== 'verify_email_confirm')).toEqual([]);

    const call = async (name: string, args: Record<string, unknown>): Promise<CallToolResult> => {
      try {
        const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
        seenByModel.push(JSON.stringify(result.content), JSON.stringify(result.structuredContent ?? null));
        const meta = result._meta?.[CONFIRMATION_META_KEY] as { request_id: string; token: string } | undefined;
        if (meta) handed.push(meta);
        return result;
      } catch (error) {
        // A JSON-RPC error reaches the model as text too.
        seenByModel.push(String(error));
        return { isError: true, content: [{ type: 'text', text: String(error) }] };
      }
    };

    const proposed = await call('request_refund', { payment: DEMO.actions.aliceDuplicateCharge, amount: null, reason: 'duplicate' });
    expect(proposed.isError).toBeFalsy();
    expect(handed).toHaveLength(1);
    const { request_id: id, token: confirmation } = handed[0]!;
    const { secret } = parseConfirmationToken(confirmation)!;

    // Every listed tool, with the token, the secret and the id in every string argument.
    for (const tool of tools) {
      for (const value of [confirmation, secret, id, `${id} ${secret}`]) await call(tool.name, argsWith(tool, value));
    }
    // Methods a model-driven client could try: none exists, none confirms.
    for (const method of ['requests/confirm', 'actions/confirm', 'tools/confirm', 'resources/read', 'prompts/get', 'completion/complete']) {
      try {
        await client.request({ method, params: { id, token: confirmation, uri: `confirm://${confirmation}`, name: 'confirm', ref: { type: 'ref/prompt', name: 'confirm' }, argument: { name: 'token', value: confirmation } } } as never, (await import('@modelcontextprotocol/sdk/types.js')).ResultSchema);
        seenByModel.push(`${method}: answered`);
      } catch (error) {
        seenByModel.push(String(error));
      }
    }
    expect(await fx.runtime.actions!.requests.get(id)).toMatchObject({ state: 'awaiting_confirmation' });
    expect(fx.fake.requests.filter((request) => request.path.startsWith('/v1/refunds') && request.method === 'POST')).toHaveLength(0);

    // The plain-JSON surface: `confirmation` beside `result`, never inside it.
    const viaJson = await fx.asCustomer(ALICE, 'request_refund', { payment: DEMO.actions.aliceDuplicateCharge, amount: 1000, reason: 'duplicate' }, 'conv-model-cannot-confirm');
    expect(viaJson.body.confirmation?.token).toMatch(/^req_/);
    seenByModel.push(JSON.stringify(viaJson.body.result), String(viaJson.body.text));
    handed.push(viaJson.body.confirmation!);
    expect((await fetch(`${fx.url}/v1/tools/confirm_request`, { method: 'POST', headers, body: '{}' })).status).toBe(404);

    // The person's button confirms the newest request; the model then reads the outcome.
    const newest = viaJson.body.confirmation!;
    const click = await fetch(`${fx.url}/v1/requests/${newest.request_id}/confirm`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ token: newest.token }) });
    expect(click.status).toBe(200);
    expect(fx.fake.requests.filter((request) => request.path === '/v1/refunds' && request.method === 'POST' && request.status === 200)).toHaveLength(1);
    const status = await call('get_request_status', { request: newest.request_id });
    expect(JSON.stringify(status.structuredContent)).toContain('"done"');
    // The staff surface reads requests too.
    const staffView = await fetch(`${fx.url}/v1/requests/${newest.request_id}`, { headers: { authorization: `Bearer ${STAFF}` } });
    const staffText = await staffView.text();
    await client.close();

    // The scan: no token, secret or its hash-free parts anywhere the model, the log or the trail can show.
    await fx.trail.flush();
    const trailRows = JSON.stringify(await fx.trail.store.find({ limit: 1000 }));
    const requestRows = JSON.stringify(await sqliteSql(fx.trail.store.location)('SELECT * FROM action_requests'));
    const secrets = handed.flatMap((item) => [item.token, parseConfirmationToken(item.token)!.secret]);
    expect(secrets.length).toBe(4);
    for (const value of secrets) {
      for (const [where, text] of [['model', seenByModel.join('\n')], ['log', logged.join('')], ['trail', trailRows], ['requests table', requestRows], ['staff API', staffText]] as const) {
        expect(text.includes(value), `${where} must not contain a confirmation secret`).toBe(false);
      }
    }
    // A positive control: the scan would have found it where it belongs.
    expect(JSON.stringify(handed)).toContain(secret);
  }, 60_000);
});
