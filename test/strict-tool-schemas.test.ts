import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DEMO } from '../src/demo/fake-stripe/index.js';
import { inputSchemaFor, type ServerMode } from '../src/tools/lib/run-tool.js';
import { ALL_TOOLS, BILLING_TOOLS } from '../src/tools/registry.js';
import { actionsFixtures, EXAMPLE_POLICY } from './support/actions.js';
import { HOST_A, STAFF, type HttpFixture } from './support/http-harness.js';
import { connectClient, errorText, structured, type ConnectedClient } from './support/mcp-harness.js';
import { anthropicToolProblems, geminiDeclarationProblems, openAiStrictSchemaProblems, openAiToolProblems } from './support/provider-tool-rules.js';
import { sampleArgs } from './support/tool-args.js';

type Schema = Record<string, unknown>;

const MODES: Array<[ServerMode, number]> = [
  ['customer', ALL_TOOLS.length],
  ['staff', BILLING_TOOLS.length],
];

// One in-process server (Stripe answered by the demo account) for the HTTP tests; MCP sessions share its runtime.
// With the example actions policy, so the action tools are listed (and checked) too.
const actionsFixture = actionsFixtures();
let fx: HttpFixture;
beforeAll(async () => {
  // retry_payment and plan_change are not in the example: turned on here so their tools are listed and checked.
  fx = await actionsFixture({ policy: { ...EXAMPLE_POLICY, retry_payment: { enabled: true }, plan_change: { enabled: true, max_amount: { usd: 10_000 } } } });
});
afterAll(() => fx.close());

const connect = (mode: ServerMode) => connectClient(mode === 'staff' ? 'staff' : { customer: DEMO.emails.alice }, { env: { WRITE_TOOLS: 'all' }, runtime: fx.runtime });

/** A customer and a staff session, opened before the enclosing describe's tests and closed after them. */
function useSessions(receive: (opened: { customer: ConnectedClient; staff: ConnectedClient }) => void) {
  let opened: ConnectedClient[] = [];
  beforeAll(async () => {
    const [customer, staff] = await Promise.all([connect('customer'), connect('staff')]);
    opened = [customer, staff];
    receive({ customer, staff });
  });
  afterAll(async () => {
    await Promise.all(opened.map((session) => session.close()));
  });
}

describe('every MCP input schema is valid for OpenAI strict mode as it is (write tools on)', () => {
  it.each(MODES)('%s mode', async (mode, count) => {
    const session = await connect(mode);
    const { tools } = await session.client.listTools();
    await session.close();
    expect(tools).toHaveLength(count);
    expect(tools.flatMap((tool) => openAiStrictSchemaProblems(tool.inputSchema, tool.name))).toEqual([]);
    // The no-argument tools too: closed, not `{"type":"object","properties":{}}`.
    for (const tool of tools) expect(tool.inputSchema.additionalProperties, tool.name).toBe(false);
  });

  it.each(MODES)('%s mode: an argument is nullable in the listed schema exactly when the tool may be called without it', (mode) => {
    const tools = mode === 'staff' ? BILLING_TOOLS : ALL_TOOLS;
    for (const tool of tools) {
      const schema = inputSchemaFor(tool, mode);
      const listed = z.toJSONSchema(schema, { io: 'input' }) as { properties: Record<string, Schema> };
      const args = sampleArgs(tool.name, { staff: mode === 'staff' });
      for (const [name, property] of Object.entries(listed.properties)) {
        const nullable = (Array.isArray(property.type) && property.type.includes('null')) || (Array.isArray(property.anyOf) && property.anyOf.some((branch: Schema) => branch.type === 'null'));
        const { [name]: _left, ...without } = args;
        expect(schema.safeParse(without).success, `${mode} ${tool.name}.${name}: may be left out`).toBe(nullable);
        if (nullable) expect(schema.safeParse({ ...args, [name]: null }).success, `${mode} ${tool.name}.${name}: null accepted`).toBe(true);
      }
    }
  });
});

describe('null means "not given" (what a strict-mode model sends for an argument it leaves out)', () => {
  let customer: ConnectedClient;
  let staff: ConnectedClient;
  useSessions((opened) => ({ customer, staff } = opened));

  it('answers as if the argument were left out', async () => {
    const same = async (session: ConnectedClient, tool: string, args: Record<string, unknown>, nulls: Record<string, null>) => {
      const plain = structured(await session.call(tool, args));
      expect(structured(await session.call(tool, { ...args, ...nulls })), tool).toEqual(plain);
      return plain;
    };
    const history = await same(customer, 'get_invoice_history', {}, { limit: null, status: null });
    expect((history.invoices as unknown[]).length).toBeGreaterThan(0);
    await same(customer, 'get_payment_history', {}, { limit: null });
    await same(customer, 'get_available_plans', {}, { currency: null });
    // A fresh portal link each call: compare what does not change.
    expect(structured(await customer.call('cancel_subscription', { subscription_id: null }))).toMatchObject({ outcome: 'link_created', subscription: { id: DEMO.subscriptions.alice } });
    const status = await same(staff, 'get_subscription_status', { email: DEMO.emails.alice }, { customer_id: null });
    expect(JSON.stringify(status)).toContain(DEMO.subscriptions.alice);
    await same(staff, 'get_billing_info', { customer_id: DEMO.customers.alice }, { email: null });
  });

  it('still refuses staff calls that name nobody, with nulls for both', async () => {
    expect(errorText(await staff.call('get_billing_info', { email: null, customer_id: null }))).toMatch(/Say which customer/);
  });
});

describe('bounds are checked on every call, with the message the JSON Schema keyword used to give', () => {
  let customer: ConnectedClient;
  let staff: ConnectedClient;
  useSessions((opened) => ({ customer, staff } = opened));

  /** The message zod gives for this schema and value: what the listed maxLength/minimum said before. */
  const zodMessage = (schema: z.ZodType, value: unknown) => (schema.safeParse(value) as { error: z.ZodError }).error.issues[0]!.message;
  const refused = async (session: ConnectedClient, tool: string, args: Record<string, unknown>) => errorText((await session.call(tool, args)) as CallToolResult);

  it('string lengths', async () => {
    expect(await refused(staff, 'get_billing_info', { email: `${'a'.repeat(250)}@example.com` })).toContain(zodMessage(z.string().max(254), 'x'.repeat(262)));
    expect(await refused(customer, 'verify_email_start', { email: `${'a'.repeat(320)}@example.com` })).toContain(zodMessage(z.string().max(320), 'x'.repeat(332)));
    expect(await refused(customer, 'verify_email_confirm', { code: '1'.repeat(21) })).toContain(zodMessage(z.string().max(20), '1'.repeat(21)));
    expect(await refused(customer, 'apply_coupon', { code: 'A'.repeat(65) })).toContain(zodMessage(z.string().max(64), 'A'.repeat(65)));
    expect(await refused(customer, 'apply_coupon', { code: '   ' })).toContain(zodMessage(z.string().min(1), ''));
    expect(await refused(customer, 'resend_invoice', { invoice: 'A'.repeat(65) })).toContain(zodMessage(z.string().max(64), 'A'.repeat(65)));
  });

  it('number ranges and patterns', async () => {
    const limit = z.number().int().min(1).max(24);
    expect(await refused(customer, 'get_invoice_history', { limit: 25 })).toContain(zodMessage(limit, 25));
    expect(await refused(customer, 'get_payment_history', { limit: 0 })).toContain(zodMessage(limit, 0));
    expect(await refused(customer, 'get_invoice_history', { limit: 2.5 })).toContain(zodMessage(limit, 2.5));
    expect(await refused(staff, 'get_billing_info', { customer_id: 'alice' })).toContain('customer_id looks like cus_…');
    expect(await refused(customer, 'get_available_plans', { currency: 'dollars' })).toContain('a 3-letter currency code such as usd');
    expect(await refused(customer, 'cancel_subscription', { subscription_id: 'nope' })).toContain('subscription_id looks like sub_…');
  });
});

describe('GET /v1/tools?format=…: lists each provider accepts as they are', () => {
  const list = async (key: string, query: string) => {
    const response = await fetch(`${fx.url}/v1/tools${query}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> & { tools: unknown[] } };
  };
  const CALLERS: Array<[ServerMode, string, number]> = [
    ['customer', HOST_A, ALL_TOOLS.length],
    ['staff', STAFF, BILLING_TOOLS.length],
  ];
  const RULES = { openai: openAiToolProblems, anthropic: anthropicToolProblems, gemini: geminiDeclarationProblems } as const;

  for (const [mode, key, count] of CALLERS) {
    for (const [format, problemsOf] of Object.entries(RULES)) {
      it(`${format}, ${mode} mode, write tools on`, async () => {
        const { status, body } = await list(key, `?format=${format}`);
        expect(status).toBe(200);
        expect(body).toMatchObject({ mode, format, instructions: expect.any(String) });
        expect(body.tools).toHaveLength(count);
        expect(body.tools.flatMap((tool) => problemsOf(tool))).toEqual([]);
      });
    }
  }

  it('gemini: a tool that takes no arguments has no parameters; the others say which are required', async () => {
    const { body } = await list(HOST_A, '?format=gemini');
    const byName = new Map((body.tools as Array<{ name: string; parameters?: Schema }>).map((tool) => [tool.name, tool]));
    expect(byName.get('get_subscription_status')).not.toHaveProperty('parameters');
    expect(byName.get('get_invoice_history')!.parameters).toMatchObject({ type: 'object', properties: { limit: { type: 'integer' }, status: { type: 'string' } } });
    expect(byName.get('get_invoice_history')!.parameters).not.toHaveProperty('required');
    expect(byName.get('verify_email_start')!.parameters).toMatchObject({ required: ['email'] });
  });

  it('openai: the same schemas as MCP lists, marked strict', async () => {
    const { body } = await list(STAFF, '?format=openai');
    const tool = (body.tools as Array<{ function: { name: string; strict: boolean; parameters: Schema } }>).find((candidate) => candidate.function.name === 'get_invoice_history')!;
    expect(tool.function.strict).toBe(true);
    expect(tool.function.parameters).toMatchObject({ additionalProperties: false, required: ['limit', 'status', 'email', 'customer_id'] });
  });

  it('POST /v1/tools/{name} takes the arguments a strict model sends, nulls included', async () => {
    const headers = { authorization: `Bearer ${HOST_A}`, 'x-customer-token': await fx.token(DEMO.emails.alice), 'content-type': 'application/json' };
    const call = async (body: unknown) => (await (await fetch(`${fx.url}/v1/tools/get_invoice_history`, { method: 'POST', headers, body: JSON.stringify(body) })).json()) as { is_error: boolean; result: unknown };
    const withNulls = await call({ limit: null, status: null });
    expect(withNulls.is_error).toBe(false);
    expect(withNulls.result).toEqual((await call({})).result);
  });

  it('answers an unknown format with 400 and the formats there are', async () => {
    for (const query of ['?format=mistral', '?format=', '?format=OpenAI']) {
      const { status, body } = await list(HOST_A, query);
      expect(status, query).toBe(400);
      expect(body).toMatchObject({ error: 'unknown_format' });
      expect(body.message).toMatch(/openai, anthropic, gemini/);
    }
  });

  it('keeps the answer without format as it was: both lists, not marked strict', async () => {
    const { status, body } = await list(HOST_A, '');
    expect(status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(['anthropic', 'instructions', 'mode', 'openai']);
    const openai = body.openai as Array<{ type: string; function: Record<string, unknown> }>;
    expect(openai).toHaveLength(ALL_TOOLS.length);
    expect(openai.every((tool) => tool.type === 'function' && Object.keys(tool.function).sort().join() === 'description,name,parameters')).toBe(true);
    expect((body.anthropic as Array<Record<string, unknown>>).every((tool) => Object.keys(tool).sort().join() === 'description,input_schema,name')).toBe(true);
  });
});
