/**
 * How each tool appears in `tools/list`: what src/server.ts registers with the MCP SDK, and the
 * entry the SDK lists for it (its zod schemas converted to JSON Schema). Converting every schema
 * took a good share of each start, so the published bundle lists a copy of `prebuiltToolList()`
 * made when it was built (scripts/esbuild-prebuilt-tool-list.mjs) from these same functions;
 * src and dist convert at run time. test/tool-listing.test.ts holds both to the SDK's own list.
 */
import { toJsonSchemaCompat } from '@modelcontextprotocol/sdk/server/zod-json-schema-compat.js';
import type { Tool, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import { appOnlyToolMeta, cardToolMeta } from './apps/billing-card.js';
import type { AnyToolDefinition } from './tools/lib/define-tool.js';
import { inputSchemaFor, outputSchemaFor, type ServerMode } from './tools/lib/run-tool.js';
import { ALL_TOOLS, appToolsFor, toolsForMode } from './tools/registry.js';

/** What `McpServer.registerTool` is given for a tool in a mode. */
export interface ToolRegistration {
  title: string;
  description: string;
  inputSchema: z.ZodObject;
  outputSchema: z.ZodObject;
  annotations: ToolAnnotations;
  _meta?: Record<string, unknown>;
}

/** Every tool's tools/list entries, by mode and name, as the bundle carries them. */
export type PrebuiltToolList = Record<ServerMode, Record<string, Tool>>;

export function toolRegistration(tool: AnyToolDefinition, mode: ServerMode): ToolRegistration {
  const meta = tool.visibility === 'app' ? appOnlyToolMeta() : tool.card ? cardToolMeta() : undefined;
  return {
    title: tool.title,
    description: tool.description,
    inputSchema: inputSchemaFor(tool, mode),
    outputSchema: outputSchemaFor(tool),
    annotations: { title: tool.title, ...tool.annotations },
    ...(meta ? { _meta: meta } : {}),
  };
}

/**
 * The entry the SDK's own tools/list handler (McpServer, @modelcontextprotocol/sdk/server/mcp.js)
 * makes of a registration, with the same conversion and options; as JSON, so that a copy made at
 * build time is the same value.
 */
export function listedTool(name: string, registration: ToolRegistration): Tool {
  const entry = {
    name,
    title: registration.title,
    description: registration.description,
    inputSchema: toJsonSchemaCompat(registration.inputSchema, { strictUnions: true, pipeStrategy: 'input' }),
    annotations: registration.annotations,
    // registerTool gives every tool this; only registerToolTask's tools run as tasks.
    execution: { taskSupport: 'forbidden' },
    _meta: registration._meta,
    outputSchema: toJsonSchemaCompat(registration.outputSchema, { strictUnions: true, pipeStrategy: 'output' }),
  };
  return JSON.parse(JSON.stringify(entry)) as Tool;
}

/** Every tool a server of each mode can list (any settings, any policy, with the card's buttons). */
export function prebuiltToolList(): PrebuiltToolList {
  const list = { customer: {}, staff: {} } as PrebuiltToolList;
  for (const mode of ['customer', 'staff'] as const) {
    const tools = toolsForMode(ALL_TOOLS, mode, true, { enabled: () => true });
    for (const tool of [...tools, ...appToolsFor(ALL_TOOLS, mode)]) list[mode][tool.name] = listedTool(tool.name, toolRegistration(tool, mode));
  }
  return list;
}
