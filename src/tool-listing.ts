/**
 * What src/server.ts registers with the MCP SDK for each tool in a mode. The entry tools/list
 * shows for it (its zod schemas converted to JSON Schema) is `listedTool` of src/server.ts, the
 * one module that imports the SDK; the published bundle lists a copy of `prebuiltToolList()`
 * (src/server.ts) made from these same functions when it was built
 * (scripts/esbuild-prebuilt-tool-list.mjs). test/tool-listing.test.ts holds both to the SDK's own list.
 */
import type { z } from 'zod';
import { appOnlyToolMeta, cardToolMeta } from './apps/billing-card.js';
import type { AnyToolDefinition, ToolAnnotations } from './tools/lib/define-tool.js';
import { inputSchemaFor, outputSchemaFor, type ServerMode } from './tools/lib/run-tool.js';

/** What `McpServer.registerTool` is given for a tool in a mode. */
export interface ToolRegistration {
  title: string;
  description: string;
  inputSchema: z.ZodObject;
  outputSchema: z.ZodObject;
  annotations: ToolAnnotations;
  _meta?: Record<string, unknown>;
}

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
