// The MCP SDK floor of bench/http-load.mjs: what the required MCP SDK itself costs per stateless
// `tools/call`, on the product's HTTP stack (Hono on @hono/node-server). Per request, as the SDK
// documents stateless servers: a fresh McpServer with ONE tool (the one the call names) and a
// fresh WebStandardStreamableHTTPServerTransport with the product's options (no session id; a
// JSON answer when Accept lists application/json first). The product builds these for every
// /mcp request but a lone tools/call asking for JSON, which it answers directly (src/server.ts).
// The tool's input schema is zod, like ours (an optional string, an optional integer); its
// handler returns a saved copy of a real answer (content + structuredContent), so no billing
// work is done here. Forked by http-load.mjs (FLOOR_MCP_RESULT: that answer's JSON-RPC `result`);
// sends { url } when listening and exits when the IPC channel closes.
//
// MCP_FLOOR_VALIDATOR=default leaves out the one shared JSON Schema validator, so each McpServer
// builds the SDK's default (an Ajv instance per server, per request); the product shares one.
import { serve } from '@hono/node-server';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { Hono } from 'hono';
import { z } from 'zod';

const result = JSON.parse(process.env.FLOOR_MCP_RESULT);
const inputSchema = { customer: z.string().optional().describe('Which customer.'), limit: z.number().int().min(1).max(24).optional().describe('How many (1–24).') };
// Only elicitation answers are checked with it; the product likewise shares one across requests.
const jsonSchemaValidator = process.env.MCP_FLOOR_VALIDATOR === 'default' ? undefined : new AjvJsonSchemaValidator();

const app = new Hono();
app.use('*', async (c, next) => {
  c.header('Cache-Control', 'no-store');
  await next();
});
app.post('/mcp', async (c) => {
  // Parsed here and handed over (the transport's `parsedBody`), as the product does: the tool to
  // register is the one the call names.
  let message;
  try {
    message = JSON.parse(await c.req.text());
  } catch {
    return c.json({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } }, 400);
  }
  const server = new McpServer({ name: 'mcp-sdk-floor', version: '0.0.0' }, jsonSchemaValidator ? { jsonSchemaValidator } : undefined);
  const name = typeof message?.params?.name === 'string' ? message.params.name : 'get_subscription_status';
  server.registerTool(name, { title: 'Floor tool', description: 'Answers a saved copy of a real answer.', inputSchema, annotations: { readOnlyHint: true } }, async () => result);
  const first = (c.req.header('accept') ?? '').split(',')[0]?.trim().toLowerCase() ?? '';
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: first.startsWith('application/json') });
  await server.connect(transport);
  return transport.handleRequest(c.req.raw, { parsedBody: message });
});

const listener = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => process.send({ url: `http://127.0.0.1:${info.port}` }));
process.on('disconnect', () => listener.close(() => process.exit(0)));
// Stopped with SIGTERM: exit normally, so a --cpu-prof profile (PROFILE=1) is written.
process.on('SIGTERM', () => process.exit(0));
