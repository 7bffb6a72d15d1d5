import { z } from 'zod';
import type { AnyToolDefinition } from '../tools/lib/define-tool.js';
import { inputSchemaFor, type ServerMode } from '../tools/lib/run-tool.js';
import { SERVER_INSTRUCTIONS } from '../server.js';

type JsonSchema = Record<string, unknown>;

function parametersOf(tool: AnyToolDefinition, mode: ServerMode): JsonSchema {
  const schema = z.toJSONSchema(inputSchemaFor(tool, mode), { io: 'input' }) as JsonSchema;
  delete schema.$schema;
  return schema;
}

/**
 * The caller's tools for bots that do function calling rather than MCP: the same names,
 * descriptions and input schemas, in the two shapes model APIs take, and the instructions an
 * MCP client would get (for the bot's system prompt: how to read money, dates and quoted values).
 */
export function toolCatalog(tools: readonly AnyToolDefinition[], mode: ServerMode) {
  const described = tools.map((tool) => ({ name: tool.name, description: tool.description, parameters: parametersOf(tool, mode) }));
  return {
    instructions: SERVER_INSTRUCTIONS[mode],
    openai: described.map((tool) => ({ type: 'function' as const, function: { name: tool.name, description: tool.description, parameters: tool.parameters } })),
    anthropic: described.map((tool) => ({ name: tool.name, description: tool.description, input_schema: tool.parameters })),
  };
}
