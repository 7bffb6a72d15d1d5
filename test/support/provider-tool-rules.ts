/**
 * What each model provider accepts as a tool definition, written from its documentation, so a
 * test can say "this list would be accepted as it is" without calling the provider. Each check
 * returns the problems it finds (empty: accepted), each naming the tool and the schema location.
 *
 * Where a document leaves a keyword unclear, the rule takes the stricter reading: a schema these
 * pass is accepted; one they refuse might still be.
 */

type JsonSchema = Record<string, unknown>;

const isObject = (value: unknown): value is JsonSchema => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Function names. OpenAI: "a-z, A-Z, 0-9, or contain underscores and dashes, with a maximum length
 * of 64" (https://platform.openai.com/docs/api-reference/chat/create#chat-create-tools).
 * Anthropic: `^[a-zA-Z0-9_-]{1,64}$` (https://docs.anthropic.com/en/docs/build-with-claude/tool-use/overview#specifying-client-tools).
 * Gemini: "Must start with a letter or an underscore. Must be a-z, A-Z, 0-9, or contain
 * underscores, dots and dashes, with a maximum length of 64" (https://ai.google.dev/api/caching#FunctionDeclaration).
 */
const OPENAI_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const ANTHROPIC_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const GEMINI_NAME = /^[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}$/;

// ---------------------------------------------------------------------------------------------
// OpenAI strict mode (function calling with `strict: true` = Structured Outputs), from
// https://platform.openai.com/docs/guides/function-calling#strict-mode and
// https://platform.openai.com/docs/guides/structured-outputs#supported-schemas :
// - supported types: string, number, boolean, integer, object, array, enum, anyOf; `null` in a
//   type union is how an optional field is written ("type": ["string", "null"]);
// - the root is an object, and not an anyOf;
// - every object sets `additionalProperties: false` and lists every property in `required`;
// - supported type-specific keywords: strings `pattern`, `format` (date-time, time, date,
//   duration, email, hostname, ipv4, ipv6, uuid); numbers `multipleOf`, `maximum`,
//   `exclusiveMaximum`, `minimum`, `exclusiveMinimum`; arrays `minItems`, `maxItems`; anything
//   else (minLength, maxLength, default, allOf, not, if/then/else, patternProperties, …) is
//   refused ("'default' is not permitted");
// - definitions (`$defs`) and local `$ref` are supported;
// - limits: the older, smaller ones (100 object properties in all, 5 levels of nesting; enums of
//   at most 500 values).
// `$schema` and `$id` at the root are metadata that OpenAI's own SDK keeps when it makes a schema
// strict (openai-node `toStrictJsonSchema`, JSON_SCHEMA_ROOT_METADATA_KEYWORDS in lib/transform).
// ---------------------------------------------------------------------------------------------

const OPENAI_TYPES = new Set(['string', 'number', 'boolean', 'integer', 'object', 'array', 'null']);
const OPENAI_FORMATS = new Set(['date-time', 'time', 'date', 'duration', 'email', 'hostname', 'ipv4', 'ipv6', 'uuid']);
const OPENAI_ANNOTATIONS = ['description', 'title'];
const OPENAI_BY_TYPE: Record<string, string[]> = {
  string: ['pattern', 'format'],
  number: ['multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum'],
  integer: ['multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum'],
  array: ['items', 'minItems', 'maxItems'],
  object: ['properties', 'required', 'additionalProperties'],
  boolean: [],
  null: [],
};

function typesOf(schema: JsonSchema): string[] {
  if (typeof schema.type === 'string') return [schema.type];
  if (Array.isArray(schema.type)) return schema.type.filter((type): type is string => typeof type === 'string');
  return [];
}

/** Problems with one schema under OpenAI's strict rules (`path` names where it is). */
export function openAiStrictSchemaProblems(root: unknown, path = 'parameters'): string[] {
  const problems: string[] = [];
  if (!isObject(root)) return [`${path}: not a schema object`];
  if (root.type !== 'object') problems.push(`${path}: the root must be type "object"`);
  if ('anyOf' in root) problems.push(`${path}: the root must not be anyOf`);
  let properties = 0;
  const visit = (schema: unknown, at: string, depth: number, isRoot: boolean) => {
    if (!isObject(schema)) return void problems.push(`${at}: not a schema object`);
    if (depth > 5) problems.push(`${at}: nested deeper than 5 levels`);
    const types = typesOf(schema);
    if ('type' in schema && types.length === 0) problems.push(`${at}: type must be a string or an array of strings`);
    for (const type of types) if (!OPENAI_TYPES.has(type)) problems.push(`${at}: type "${type}" is not supported`);
    const allowed = new Set([...OPENAI_ANNOTATIONS, 'type', 'enum', 'const', 'anyOf', '$ref', ...(isRoot ? ['$schema', '$id', '$defs'] : [])]);
    for (const type of types) for (const keyword of OPENAI_BY_TYPE[type] ?? []) allowed.add(keyword);
    for (const keyword of Object.keys(schema)) if (!allowed.has(keyword)) problems.push(`${at}: keyword "${keyword}" is not supported in strict mode`);
    if (typeof schema.format === 'string' && !OPENAI_FORMATS.has(schema.format)) problems.push(`${at}: format "${schema.format}" is not supported`);
    if (Array.isArray(schema.enum) && schema.enum.length > 500) problems.push(`${at}: enum has more than 500 values`);
    if (types.includes('object') || 'properties' in schema) {
      if (schema.additionalProperties !== false) problems.push(`${at}: additionalProperties must be false`);
      const keys = isObject(schema.properties) ? Object.keys(schema.properties) : [];
      const required = Array.isArray(schema.required) ? schema.required : [];
      const missing = keys.filter((key) => !required.includes(key));
      if (missing.length > 0) problems.push(`${at}: every property must be required (missing: ${missing.join(', ')})`);
      const unknown = required.filter((key) => !keys.includes(key as string));
      if (unknown.length > 0) problems.push(`${at}: required names properties that do not exist (${unknown.join(', ')})`);
      properties += keys.length;
      for (const key of keys) visit((schema.properties as JsonSchema)[key], `${at}.properties.${key}`, depth + 1, false);
    }
    if ('items' in schema) visit(schema.items, `${at}.items`, depth + 1, false);
    if (Array.isArray(schema.anyOf)) schema.anyOf.forEach((branch, index) => visit(branch, `${at}.anyOf[${index}]`, depth, false));
    else if ('anyOf' in schema) problems.push(`${at}: anyOf must be an array`);
    if (isObject(schema.$defs)) for (const [name, definition] of Object.entries(schema.$defs)) visit(definition, `${at}.$defs.${name}`, depth, false);
    if (typeof schema.$ref === 'string' && !schema.$ref.startsWith('#')) problems.push(`${at}: only local $ref is supported`);
  };
  visit(root, path, 1, true);
  if (properties > 100) problems.push(`${path}: more than 100 object properties in all`);
  return problems;
}

/** Problems with a `/v1/tools?format=openai` entry: a Chat Completions function tool, strict. */
export function openAiToolProblems(tool: unknown): string[] {
  if (!isObject(tool) || tool.type !== 'function' || !isObject(tool.function)) return ['not a {type: "function", function: {…}} tool'];
  const fn = tool.function;
  const name = String(fn.name);
  const problems: string[] = [];
  if (!OPENAI_NAME.test(name)) problems.push(`${name}: the name is not a-z, A-Z, 0-9, _ or - (at most 64)`);
  if (typeof fn.description !== 'string' || fn.description.length === 0) problems.push(`${name}: no description`);
  if (fn.strict !== true) problems.push(`${name}: strict is not true`);
  for (const key of Object.keys(fn)) if (!['name', 'description', 'parameters', 'strict'].includes(key)) problems.push(`${name}: unknown field function.${key}`);
  problems.push(...openAiStrictSchemaProblems(fn.parameters, `${name}.parameters`));
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Anthropic: a tool is {name, description, input_schema} with input_schema a JSON Schema object
// of type "object" (https://docs.anthropic.com/en/docs/build-with-claude/tool-use/overview#specifying-client-tools).
// So that a host can also turn on strict tool use, the schema must also be in the subset of
// https://docs.claude.com/en/docs/build-with-claude/structured-outputs#json-schema-limitations :
// supported are the basic types, `enum` of primitives, `const`, `anyOf`, local `$ref`/`$defs`,
// `required`, `additionalProperties: false` (required on every object; any other value is
// refused), string `format` from a fixed list, array `minItems` of 0 or 1; not supported are
// numerical constraints (minimum, maximum, multipleOf), string constraints (minLength,
// maxLength), other array constraints, and recursive schemas. The stricter reading for what the
// page leaves open: only the keywords Anthropic's own SDK keeps when it makes a schema strict
// (@anthropic-ai/sdk lib/transform-json-schema: everything else it moves into the description),
// which leaves out `pattern` and `default`; and a nullable value as `anyOf` with `{"type":
// "null"}` (the page names anyOf; it does not show a `type` array).
// ---------------------------------------------------------------------------------------------

const ANTHROPIC_TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean', 'null']);
const ANTHROPIC_FORMATS = new Set(['date-time', 'time', 'date', 'duration', 'email', 'hostname', 'uri', 'ipv4', 'ipv6', 'uuid']);

export function anthropicSchemaProblems(root: unknown, path = 'input_schema'): string[] {
  const problems: string[] = [];
  if (!isObject(root) || root.type !== 'object') return [`${path}: must be a JSON Schema of type "object"`];
  const visit = (schema: unknown, at: string, isRoot: boolean) => {
    if (!isObject(schema)) return void problems.push(`${at}: not a schema object`);
    const allowed = new Set(['type', 'description', 'title', 'enum', 'const', 'anyOf', '$ref', ...(isRoot ? ['$defs'] : [])]);
    if (schema.type === 'object') ['properties', 'required', 'additionalProperties'].forEach((keyword) => allowed.add(keyword));
    if (schema.type === 'string') allowed.add('format');
    if (schema.type === 'array') ['items', 'minItems'].forEach((keyword) => allowed.add(keyword));
    for (const keyword of Object.keys(schema)) if (!allowed.has(keyword)) problems.push(`${at}: keyword "${keyword}" is not supported in strict tool use`);
    if ('type' in schema && (typeof schema.type !== 'string' || !ANTHROPIC_TYPES.has(schema.type))) problems.push(`${at}: type must be one of ${[...ANTHROPIC_TYPES].join(', ')} (a single name)`);
    if (typeof schema.format === 'string' && !ANTHROPIC_FORMATS.has(schema.format)) problems.push(`${at}: format "${schema.format}" is not supported`);
    if ('minItems' in schema && schema.minItems !== 0 && schema.minItems !== 1) problems.push(`${at}: minItems other than 0 or 1`);
    if (Array.isArray(schema.enum) && !schema.enum.every((value) => value === null || typeof value !== 'object')) problems.push(`${at}: enum values must be primitives`);
    if (schema.type === 'object') {
      if (schema.additionalProperties !== false) problems.push(`${at}: additionalProperties must be false`);
      const keys = isObject(schema.properties) ? Object.keys(schema.properties) : [];
      const required = Array.isArray(schema.required) ? schema.required : [];
      const unknown = required.filter((key) => !keys.includes(key as string));
      if (unknown.length > 0) problems.push(`${at}: required names properties that do not exist (${unknown.join(', ')})`);
      for (const key of keys) visit((schema.properties as JsonSchema)[key], `${at}.properties.${key}`, false);
    }
    if ('items' in schema) visit(schema.items, `${at}.items`, false);
    if (Array.isArray(schema.anyOf)) schema.anyOf.forEach((branch, index) => visit(branch, `${at}.anyOf[${index}]`, false));
    if (isObject(schema.$defs)) for (const [name, definition] of Object.entries(schema.$defs)) visit(definition, `${at}.$defs.${name}`, false);
    if (typeof schema.$ref === 'string' && !schema.$ref.startsWith('#')) problems.push(`${at}: only local $ref is supported`);
  };
  visit(root, path, true);
  return problems;
}

/** Problems with a `/v1/tools?format=anthropic` entry. */
export function anthropicToolProblems(tool: unknown): string[] {
  if (!isObject(tool)) return ['not an object'];
  const name = String(tool.name);
  const problems: string[] = [];
  if (!ANTHROPIC_NAME.test(name)) problems.push(`${name}: the name does not match ^[a-zA-Z0-9_-]{1,64}$`);
  if (typeof tool.description !== 'string' || tool.description.length === 0) problems.push(`${name}: no description`);
  for (const key of Object.keys(tool)) if (!['name', 'description', 'input_schema'].includes(key)) problems.push(`${name}: unknown field ${key}`);
  problems.push(...anthropicSchemaProblems(tool.input_schema, `${name}.input_schema`));
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Gemini function declarations (https://ai.google.dev/api/caching#FunctionDeclaration, the
// Schema object at https://ai.google.dev/api/caching#Schema, and
// https://ai.google.dev/gemini-api/docs/function-calling#function_declarations): `parameters`
// is "a select subset of an OpenAPI 3.0 schema object", optional, and left out for a function
// that takes none. Its documented fields are type, format, title, description, nullable, enum,
// maxItems, minItems, properties, required, minProperties, maxProperties, minLength, maxLength,
// pattern, example, anyOf, propertyOrdering, default, items, minimum, maximum: so no `$schema`,
// no `additionalProperties`, no `$ref`. `type` is one value of the Type enum (STRING, NUMBER,
// INTEGER, BOOLEAN, ARRAY, OBJECT, NULL; the REST examples spell it in lower case), never an
// array. An OBJECT needs non-empty `properties` (Gemini refuses `"properties": {}`), and
// `enum` is for strings.
// ---------------------------------------------------------------------------------------------

const GEMINI_FIELDS = new Set([
  'type', 'format', 'title', 'description', 'nullable', 'enum', 'maxItems', 'minItems', 'properties', 'required',
  'minProperties', 'maxProperties', 'minLength', 'maxLength', 'pattern', 'example', 'anyOf', 'propertyOrdering', 'default', 'items', 'minimum', 'maximum',
]);
const GEMINI_TYPES = new Set(['STRING', 'NUMBER', 'INTEGER', 'BOOLEAN', 'ARRAY', 'OBJECT', 'NULL']);

export function geminiSchemaProblems(root: unknown, path = 'parameters'): string[] {
  const problems: string[] = [];
  const visit = (schema: unknown, at: string) => {
    if (!isObject(schema)) return void problems.push(`${at}: not a schema object`);
    for (const keyword of Object.keys(schema)) if (!GEMINI_FIELDS.has(keyword)) problems.push(`${at}: field "${keyword}" is not in Gemini's schema`);
    if ('type' in schema && (typeof schema.type !== 'string' || !GEMINI_TYPES.has(schema.type.toUpperCase()))) problems.push(`${at}: type must be one Type value, got ${JSON.stringify(schema.type)}`);
    const type = typeof schema.type === 'string' ? schema.type.toUpperCase() : undefined;
    if (Array.isArray(schema.enum) && (type !== 'STRING' || !schema.enum.every((value) => typeof value === 'string'))) problems.push(`${at}: enum is only for strings`);
    if (type === 'OBJECT' || 'properties' in schema) {
      const keys = isObject(schema.properties) ? Object.keys(schema.properties) : [];
      if (keys.length === 0) problems.push(`${at}: an object needs non-empty properties`);
      const required = Array.isArray(schema.required) ? schema.required : [];
      const unknown = required.filter((key) => !keys.includes(key as string));
      if (unknown.length > 0) problems.push(`${at}: required names properties that do not exist (${unknown.join(', ')})`);
      for (const key of keys) visit((schema.properties as JsonSchema)[key], `${at}.properties.${key}`);
    }
    if ('items' in schema) visit(schema.items, `${at}.items`);
    if (Array.isArray(schema.anyOf)) schema.anyOf.forEach((branch, index) => visit(branch, `${at}.anyOf[${index}]`));
  };
  if (!isObject(root) || typeof root.type !== 'string' || root.type.toUpperCase() !== 'OBJECT') return [`${path}: must be a schema of type OBJECT`];
  visit(root, path);
  return problems;
}

/** Problems with a `/v1/tools?format=gemini` entry (a function declaration). */
export function geminiDeclarationProblems(declaration: unknown): string[] {
  if (!isObject(declaration)) return ['not an object'];
  const name = String(declaration.name);
  const problems: string[] = [];
  if (!GEMINI_NAME.test(name)) problems.push(`${name}: the name must start with a letter or _ and be a-z, A-Z, 0-9, _ . : - (at most 64)`);
  if (typeof declaration.description !== 'string' || declaration.description.length === 0) problems.push(`${name}: no description`);
  for (const key of Object.keys(declaration)) if (!['name', 'description', 'parameters'].includes(key)) problems.push(`${name}: unknown field ${key}`);
  if ('parameters' in declaration) problems.push(...geminiSchemaProblems(declaration.parameters, `${name}.parameters`));
  return problems;
}
