/**
 * The agent frameworks our users build chatbots with, driving the server as they ship (dev
 * dependencies only): the OpenAI Agents SDK must take every tool in strict mode, and the Vercel
 * AI SDK's MCP client must list and call them, over stdio (the built CLI) and Streamable HTTP.
 */
import { createMCPClient, type MCPClient } from '@ai-sdk/mcp';
import { Experimental_StdioMCPTransport } from '@ai-sdk/mcp/mcp-stdio';
import { getAllMcpTools, MCPServerStdio, MCPServerStreamableHttp, RunContext, type FunctionTool, type getLogger, type MCPServer } from '@openai/agents';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEMO } from '../src/demo/fake-stripe/index.js';
import { ALL_TOOLS, BILLING_TOOLS } from '../src/tools/registry.js';
import { CLI_PATH, cleanEnv } from './support/cli.js';
import { HOST_A, STAFF, startHttpFixture, type HttpFixture } from './support/http-harness.js';
import { openAiStrictSchemaProblems } from './support/provider-tool-rules.js';

const ENV = { LOG_LEVEL: 'silent', WRITE_TOOLS: 'all' };
// No actions policy on these servers: the action tools (request_refund…) are not listed.
const LISTED_CUSTOMER_TOOLS = ALL_TOOLS.filter((tool) => tool.action === undefined);
const LISTED_STAFF_TOOLS = BILLING_TOOLS.filter((tool) => tool.action === undefined);
type Logger = ReturnType<typeof getLogger>;
const names = (tools: readonly { name: string }[]) => tools.map((tool) => tool.name).sort();

/** Everything the Agents SDK would log: its global logger writes to the console, each server has its own. */
function captureAgentsLogs() {
  const lines: string[] = [];
  const record = (level: string) => (...args: unknown[]) => void lines.push(`${level}: ${args.map(String).join(' ')}`);
  const spies = [vi.spyOn(console, 'warn').mockImplementation(record('console.warn')), vi.spyOn(console, 'error').mockImplementation(record('console.error'))];
  const logger: Logger = { namespace: 'test', debug: () => {}, warn: record('warn'), error: record('error'), dontLogModelData: false, dontLogToolData: false };
  return { lines, logger, restore: () => spies.forEach((spy) => spy.mockRestore()) };
}

let fx: HttpFixture;
beforeAll(async () => {
  // In-process `serve --demo`: the real HTTP app on loopback, Stripe answered by the demo account.
  fx = await startHttpFixture();
});
afterAll(() => fx.close());

describe('OpenAI Agents SDK: every tool converts to strict, with no fallback and no warning', () => {
  let logs: ReturnType<typeof captureAgentsLogs>;
  let server: MCPServer | undefined;
  beforeAll(() => {
    logs = captureAgentsLogs();
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  afterAll(() => logs.restore());

  const transports: Array<[string, () => Promise<MCPServer>, readonly { name: string }[], boolean]> = [
    ['stdio, customer', async () => new MCPServerStdio({ command: process.execPath, args: [CLI_PATH, '--demo'], env: cleanEnv(ENV), logger: logs.logger }), LISTED_CUSTOMER_TOOLS, false],
    ['stdio, staff', async () => new MCPServerStdio({ command: process.execPath, args: [CLI_PATH, '--demo', '--staff'], env: cleanEnv(ENV), logger: logs.logger }), LISTED_STAFF_TOOLS, true],
    [
      'Streamable HTTP, customer',
      async () =>
        new MCPServerStreamableHttp({ url: `${fx.url}/mcp`, requestInit: { headers: { authorization: `Bearer ${HOST_A}`, 'x-customer-token': await fx.token(DEMO.emails.alice) } }, logger: logs.logger }),
      LISTED_CUSTOMER_TOOLS,
      false,
    ],
    ['Streamable HTTP, staff', async () => new MCPServerStreamableHttp({ url: `${fx.url}/mcp`, requestInit: { headers: { authorization: `Bearer ${STAFF}` } }, logger: logs.logger }), LISTED_STAFF_TOOLS, true],
  ];

  it.each(transports)('%s', async (_name, create, expected, staff) => {
    server = await create();
    await server.connect();
    const tools = (await getAllMcpTools({ mcpServers: [server], convertSchemasToStrict: true })) as FunctionTool[];
    expect(names(tools)).toEqual(names(expected));
    expect(tools.filter((tool) => tool.strict !== true).map((tool) => tool.name)).toEqual([]);
    // What the SDK would send to OpenAI is itself valid under strict mode's rules.
    expect(tools.flatMap((tool) => openAiStrictSchemaProblems(tool.parameters, tool.name))).toEqual([]);
    // A strict model sends every argument, null for those it leaves out: the call still answers.
    const history = tools.find((tool) => tool.name === 'get_invoice_history')!;
    const args = { limit: null, status: null, ...(staff ? { email: DEMO.emails.alice, customer_id: null } : {}) };
    const output = await history.invoke(new RunContext(), JSON.stringify(args));
    expect(JSON.stringify(output)).toContain(DEMO.invoices.alicePaid[0]);
    expect(logs.lines).toEqual([]);
  });
});

describe('Vercel AI SDK MCP client: lists and executes tools', () => {
  let client: MCPClient | undefined;
  afterEach(async () => {
    await client?.close();
    client = undefined;
  });

  const execute = async (tools: Awaited<ReturnType<MCPClient['tools']>>, name: string, args: Record<string, unknown>) => {
    const tool = tools[name];
    if (!tool?.execute) throw new Error(`no executable tool ${name}`);
    return (await tool.execute(args, { toolCallId: `call-${name}`, messages: [] })) as CallToolResult;
  };
  const answered = (result: CallToolResult) => {
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    return JSON.stringify(result.structuredContent ?? result.content);
  };

  const clients: Array<[string, () => Promise<MCPClient>, readonly { name: string }[], boolean]> = [
    ['stdio, customer', () => createMCPClient({ transport: new Experimental_StdioMCPTransport({ command: process.execPath, args: [CLI_PATH, '--demo'], env: cleanEnv(ENV) }) }), LISTED_CUSTOMER_TOOLS, false],
    ['stdio, staff', () => createMCPClient({ transport: new Experimental_StdioMCPTransport({ command: process.execPath, args: [CLI_PATH, '--demo', '--staff'], env: cleanEnv(ENV) }) }), LISTED_STAFF_TOOLS, true],
    [
      'Streamable HTTP, customer',
      async () => createMCPClient({ transport: { type: 'http', url: `${fx.url}/mcp`, headers: { authorization: `Bearer ${HOST_A}`, 'x-customer-token': await fx.token(DEMO.emails.alice) } } }),
      LISTED_CUSTOMER_TOOLS,
      false,
    ],
    ['Streamable HTTP, staff', () => createMCPClient({ transport: { type: 'http', url: `${fx.url}/mcp`, headers: { authorization: `Bearer ${STAFF}` } } }), LISTED_STAFF_TOOLS, true],
  ];

  it.each(clients)('%s', async (_name, create, expected, staff) => {
    client = await create();
    const tools = await client.tools();
    expect(Object.keys(tools).sort()).toEqual(names(expected));
    // The demo customer's plan; staff name her, with null for the way they do not use.
    const who = staff ? { email: DEMO.emails.alice, customer_id: null } : {};
    expect(answered(await execute(tools, 'get_subscription_status', who))).toContain(DEMO.subscriptions.alice);
    expect(answered(await execute(tools, 'get_invoice_history', { ...who, limit: 2, status: null }))).toContain('"invoices"');
  });
});
