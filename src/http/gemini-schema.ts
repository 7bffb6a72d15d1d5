/**
 * Gemini takes function parameters in its own subset of OpenAPI 3.0's schema object, not JSON
 * Schema: no `$schema`, no `additionalProperties`, one `type` per schema, and an object must
 * declare properties (https://ai.google.dev/api/caching#Schema,
 * https://ai.google.dev/api/caching#FunctionDeclaration). Our input schemas are strict-mode JSON
 * Schema (optional arguments required but nullable); here an optional argument goes back to
 * being simply not required, which is how Gemini says it.
 */

type JsonSchema = Record<string, unknown>;

/** The Schema fields Gemini documents; anything else is left out. */
const GEMINI_FIELDS = new Set([
  'type', 'format', 'title', 'description', 'nullable', 'enum', 'maxItems', 'minItems', 'properties', 'required',
  'minProperties', 'maxProperties', 'minLength', 'maxLength', 'pattern', 'example', 'anyOf', 'propertyOrdering', 'default', 'items', 'minimum', 'maximum',
]);

const isNullSchema = (schema: unknown) => typeof schema === 'object' && schema !== null && (schema as JsonSchema).type === 'null';

/** The schema without its `null` alternative, and whether it had one. */
function withoutNull(schema: JsonSchema): { schema: JsonSchema; nullable: boolean } {
  if (Array.isArray(schema.type) && schema.type.includes('null')) {
    const types = schema.type.filter((type) => type !== 'null');
    return { schema: { ...schema, type: types.length === 1 ? types[0] : types }, nullable: true };
  }
  if (Array.isArray(schema.anyOf) && schema.anyOf.some(isNullSchema)) {
    const { anyOf, ...rest } = schema;
    const others = (anyOf as unknown[]).filter((branch) => !isNullSchema(branch));
    const merged = others.length === 1 ? { ...(others[0] as JsonSchema), ...rest } : { ...rest, anyOf: others };
    return { schema: merged, nullable: true };
  }
  return { schema, nullable: false };
}

function geminiSchema(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (!GEMINI_FIELDS.has(key)) continue;
    if (key === 'items' && typeof value === 'object' && value !== null) out.items = geminiSchema(value as JsonSchema);
    else if (key === 'anyOf' && Array.isArray(value)) out.anyOf = value.map((branch) => geminiSchema(branch as JsonSchema));
    else if (key !== 'properties' && key !== 'required') out[key] = value;
  }
  if (schema.properties && typeof schema.properties === 'object') {
    const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
    const properties: Record<string, JsonSchema> = {};
    for (const [name, property] of Object.entries(schema.properties as Record<string, JsonSchema>)) {
      const { schema: inner, nullable } = withoutNull(property);
      properties[name] = geminiSchema(inner);
      if (nullable) required.delete(name);
    }
    out.properties = properties;
    if (required.size > 0) out.required = [...required];
  }
  return out;
}

/** Gemini `parameters` for a tool's input schema; undefined for a tool that takes no arguments. */
export function geminiParameters(inputSchema: JsonSchema): JsonSchema | undefined {
  const properties = inputSchema.properties as Record<string, unknown> | undefined;
  if (!properties || Object.keys(properties).length === 0) return undefined;
  return geminiSchema(inputSchema);
}
