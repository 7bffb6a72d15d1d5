import { z } from 'zod';
import type { AnyToolDefinition } from '../tools/lib/define-tool.js';
import { inputSchemaFor, type ServerMode } from '../tools/lib/run-tool.js';
import { SERVER_INSTRUCTIONS } from '../server.js';
import { geminiParameters } from './gemini-schema.js';

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

/**
 * `"type": ["string", "null"]` as `anyOf` of the two: Anthropic's strict tool use documents
 * `anyOf` and single type names, not type arrays. Same meaning, so the other lists keep the
 * shorter spelling.
 */
function nullAsAnyOf(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'type' && Array.isArray(value)) out.anyOf = value.map((type) => ({ type }));
    else if (key === 'properties' && value && typeof value === 'object') out.properties = Object.fromEntries(Object.entries(value as Record<string, JsonSchema>).map(([name, property]) => [name, nullAsAnyOf(property)]));
    else if (key === 'items' && value && typeof value === 'object') out.items = nullAsAnyOf(value as JsonSchema);
    else if (key === 'anyOf' && Array.isArray(value)) out.anyOf = value.map((branch: JsonSchema) => nullAsAnyOf(branch));
    else out[key] = value;
  }
  return out;
}

/** The providers whose tool format `GET /v1/tools?format=` serves. */
export const TOOL_FORMATS = ['openai', 'anthropic', 'gemini'] as const;
export type ToolFormat = (typeof TOOL_FORMATS)[number];

export function isToolFormat(value: string): value is ToolFormat {
  return (TOOL_FORMATS as readonly string[]).includes(value);
}

/**
 * One provider's tool list, to hand to its API as it is. The input schemas already meet strict
 * mode's rules (closed objects, every property required, optional ones nullable), so:
 * - `openai`: Chat Completions function tools with `strict: true`;
 * - `anthropic`: Messages API tools, valid for strict tool use too (`strict` is left to the host:
 *   not every Claude model takes it);
 * - `gemini`: function declarations for `tools: [{ functionDeclarations }]`, in Gemini's schema
 *   subset, without `parameters` for a tool that takes none.
 */
export function toolsInFormat(tools: readonly AnyToolDefinition[], mode: ServerMode, format: ToolFormat) {
  const described = tools.map((tool) => ({ name: tool.name, description: tool.description, parameters: parametersOf(tool, mode) }));
  const listed =
    format === 'openai'
      ? described.map((tool) => ({ type: 'function' as const, function: { name: tool.name, description: tool.description, parameters: tool.parameters, strict: true } }))
      : format === 'anthropic'
        ? described.map((tool) => ({ name: tool.name, description: tool.description, input_schema: nullAsAnyOf(tool.parameters) }))
        : described.map((tool) => {
            const parameters = geminiParameters(tool.parameters);
            return { name: tool.name, description: tool.description, ...(parameters ? { parameters } : {}) };
          });
  return { instructions: SERVER_INSTRUCTIONS[mode], tools: listed };
}
