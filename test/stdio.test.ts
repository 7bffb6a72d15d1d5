import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_IDENTITY_SECRET, mintIdentityToken } from '../src/demo/demo-identity.js';
import { FakeStripe } from '../src/demo/fake-stripe/index.js';
import { serveFakeStripe } from '../src/demo/serve-fake-stripe.js';
import { ALL_TOOLS as REGISTERED_TOOLS, BILLING_TOOLS as REGISTERED_BILLING_TOOLS } from '../src/tools/registry.js';
import { CLI_PATH, cleanEnv } from './support/cli.js';
import { sampleArgs } from './support/tool-args.js';

// No actions policy here: the action tools (request_refund…) are not listed, so not expected.
const ALL_TOOLS = REGISTERED_TOOLS.filter((tool) => tool.action === undefined);
const BILLING_TOOLS = REGISTERED_BILLING_TOOLS.filter((tool) => tool.action === undefined);

async function connectStdio(args: string[], env: Record<string, string>): Promise<Client> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI_PATH, ...args], env: cleanEnv({ LOG_LEVEL: 'silent', ...env }), stderr: 'ignore' });
  const client = new Client({ name: 'stdio-test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

function structured(result: CallToolResult): Record<string, unknown> {
  expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
  expect(result.structuredContent).toBeTypeOf('object');
  return result.structuredContent!;
}

/** Arguments each tool needs beyond the server-chosen customer. */
async function argsFor(client: Client, tool: string, staff: boolean): Promise<Record<string, unknown>> {
  const who = staff ? { email: 'alice@example.com' } : {};
  if (tool === 'resend_invoice') {
    const history = structured((await client.callTool({ name: 'get_invoice_history', arguments: who })) as CallToolResult);
    const invoices = history.invoices as Array<{ number?: string; id: string }>;
    return { ...who, invoice: invoices[0]!.number ?? invoices[0]!.id };
  }
  return sampleArgs(tool, { staff });
}

describe.each([
  ['customer mode', ['--demo'], false],
  ['staff mode', ['--demo', '--staff'], true],
] as const)('the built CLI over real stdio, %s, on the in-process demo account', (_mode, args, staff) => {
  let client: Client;
  beforeAll(async () => {
    client = await connectStdio([...args], { WRITE_TOOLS: 'all' });
  });
  afterAll(() => client.close());

  it('lists every tool of its mode (the email-code tools only for customers)', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual((staff ? BILLING_TOOLS : ALL_TOOLS).map((tool) => tool.name).sort());
  });

  it.each(BILLING_TOOLS.map((tool) => tool.name))('answers %s with structured content that fits its output schema', async (name) => {
    // The SDK client validates structuredContent against the listed outputSchema on every call.
    const result = (await client.callTool({ name, arguments: await argsFor(client, name, staff) })) as CallToolResult;
    const content = structured(result);
    expect(JSON.stringify(content)).not.toMatch(/fingerprint|"metadata"/);
    const text = result.content[0];
    expect(text?.type).toBe('text');
  });
});

describe('the built CLI with a real key and STRIPE_API_BASE pointing at a Stripe-compatible server', () => {
  let served: Awaited<ReturnType<typeof serveFakeStripe>>;
  beforeAll(async () => {
    served = await serveFakeStripe(new FakeStripe(), { port: 0 });
  });
  afterAll(() => served.close());

  it('serves the customer named by CUSTOMER_TOKEN, and only them', async () => {
    const token = await mintIdentityToken('Bob@Example.com', DEMO_IDENTITY_SECRET);
    const client = await connectStdio([], { STRIPE_API_KEY: 'rk_test_fake_stdio_00000000', STRIPE_API_BASE: served.url, IDENTITY_SECRET: DEMO_IDENTITY_SECRET, CUSTOMER_TOKEN: token });
    const status = structured((await client.callTool({ name: 'get_subscription_status', arguments: { email: 'alice@example.com' } })) as CallToolResult);
    await client.close();
    expect((status.subscriptions as Array<{ status: string }>).map((sub) => sub.status)).toEqual(['trialing']);
  });

  it('answers "not verified" without a token, and keeps serving', async () => {
    const client = await connectStdio([], { STRIPE_API_KEY: 'rk_test_fake_stdio_00000000', STRIPE_API_BASE: served.url });
    const first = (await client.callTool({ name: 'get_billing_info', arguments: {} })) as CallToolResult;
    const plans = (await client.callTool({ name: 'get_available_plans', arguments: {} })) as CallToolResult;
    await client.close();
    expect(first.isError).toBe(true);
    expect(JSON.stringify(first.content)).toMatch(/not been verified/);
    expect(plans.isError).toBeFalsy();
  });

  it('refuses an expired token', async () => {
    const expired = await mintIdentityToken('bob@example.com', DEMO_IDENTITY_SECRET, -120);
    const client = await connectStdio([], { STRIPE_API_KEY: 'rk_test_fake_stdio_00000000', STRIPE_API_BASE: served.url, IDENTITY_SECRET: DEMO_IDENTITY_SECRET, CUSTOMER_TOKEN: expired });
    const result = (await client.callTool({ name: 'get_subscription_status', arguments: {} })) as CallToolResult;
    await client.close();
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toMatch(/not been verified/);
  });
});

describe('the built CLI with --demo --demo-verify: a visitor verifies by emailed code over stdio', () => {
  it('refuses billing data until the code from the demo outbox is confirmed', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI_PATH, '--demo', '--demo-verify'],
      env: cleanEnv({ LOG_LEVEL: 'silent' }),
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const client = new Client({ name: 'stdio-visitor', version: '1.0.0' });
    await client.connect(transport);

    const before = (await client.callTool({ name: 'get_subscription_status', arguments: {} })) as CallToolResult;
    expect(before.isError).toBe(true);
    expect(JSON.stringify(before.content)).toMatch(/verify_email_start/);

    structured((await client.callTool({ name: 'verify_email_start', arguments: { email: 'carol@example.com' } })) as CallToolResult);
    await expect.poll(() => /DEMO OUTBOX/.test(stderr), { timeout: 5_000 }).toBe(true);
    const code = /\b(\d{6})\b/.exec(stderr.slice(stderr.indexOf('DEMO OUTBOX')))![1]!;
    const confirmed = structured((await client.callTool({ name: 'verify_email_confirm', arguments: { code } })) as CallToolResult);
    expect(confirmed).toMatchObject({ verified: true, email: 'carol@example.com' });
    const status = structured((await client.callTool({ name: 'get_verification_status', arguments: {} })) as CallToolResult);
    expect(status).toMatchObject({ verified: true, email: 'carol@example.com', method: 'email-code' });

    const after = structured((await client.callTool({ name: 'get_subscription_status', arguments: {} })) as CallToolResult);
    expect((after.subscriptions as Array<{ status: string }>).map((sub) => sub.status)).toEqual(['past_due']);
    await client.close();
  });
});
