import { McpServer, type RegisteredTool } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { isJsonContentType } from '@modelcontextprotocol/sdk/shared/mediaType.js';
import {
  CallToolRequestSchema,
  CallToolResultSchema,
  ErrorCode,
  JSONRPCRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  SUPPORTED_PROTOCOL_VERSIONS,
  type CallToolResult,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { toJsonSchemaCompat } from '@modelcontextprotocol/sdk/server/zod-json-schema-compat.js';
import type { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { jsonSchemaValidator as JsonSchemaValidatorProvider } from '@modelcontextprotocol/sdk/validation/types.js';
import { z } from 'zod';
import { memoized } from './memo.js';
import { loadOnce } from './load-once.js';
import type { ToolError } from './errors.js';
import { QUOTED_VALUES_NOTE } from './format/untrusted-text.js';
import type { PersonQuestion, ToolRuntime } from './tools/lib/context.js';
import type { AnyToolDefinition } from './tools/lib/define-tool.js';
import { runTool, type ServerMode } from './tools/lib/run-tool.js';
import { PREBUILT_TOOL_LIST } from './tool-list-prebuilt.js';
import { toolRegistration, type ToolRegistration } from './tool-listing.js';
import { APP_RESOURCE_MIME_TYPE, BILLING_CARD_UI_META, BILLING_CARD_URI, billingCardHtml, CARD_META_KEY, declaresApps, type CardMeta } from './apps/billing-card.js';
import { cardGrantFor, issueCardGrant } from './apps/card-grant.js';
import { ALL_TOOLS, appToolsFor, firstOfEachName, offeredInMode, toolsForMode } from './tools/registry.js';
import type { Principal } from './verify/principal.js';
import { SERVER_VERSION } from './version.js';

export const SERVER_NAME = 'stripe-billing-mcp';
export { SERVER_VERSION };

export interface McpServerOptions {
  tools: readonly AnyToolDefinition[];
  runtime: ToolRuntime;
  mode: ServerMode;
  /** Asked on every call: a grant can appear (or expire) while a session is open. */
  resolvePrincipal: () => Promise<Principal>;
  /** The conversation key verification grants belong to (stdio: one per process). */
  conversation?: string | undefined;
  /**
   * A long-lived server (stdio) follows the periodic availability probe and tells its client
   * when the list changes; a per-request HTTP server just takes the latest probe.
   */
  followAvailability?: boolean;
  /** Whose share of the Stripe budget the calls spend (HTTP: the bearer key). */
  caller?: string | undefined;
  /** Per-caller and per-conversation call limits (HTTP); every call of a batch is counted. */
  admit?: (() => Promise<ToolError | undefined>) | undefined;
  /** For the audit trail: `mcp` over HTTP (default `stdio`). */
  surface?: 'stdio' | 'mcp';
  /**
   * Whether the server may ask the person through form elicitation (stdio). Stateless HTTP
   * cannot: the client's answer would arrive as a new request, at a server that never asked.
   */
  elicitation?: boolean;
  /**
   * Whether the client declared the MCP Apps extension: stateless HTTP knows it from the
   * request (src/http/apps-session.ts); stdio learns it at `initialize` (leave undefined).
   */
  apps?: boolean | undefined;
  /**
   * Called once, just after the first tools/list answer is handed to the transport: stdio starts
   * its availability probe then, so its TLS and DNS do not slow the list a client waits for.
   */
  onFirstList?: (() => void) | undefined;
  /**
   * Stateless HTTP, a request that is one `tools/call`: the tool it names. Only that tool is
   * registered (registering every tool and the card's resource took a good share of each call);
   * a name this mode does not have registers them all, so the SDK answers it as before.
   */
  onlyTool?: string | undefined;
}

/** Who one call is for, and how it is made: the same for every tool a server registers. */
interface ToolCall {
  runtime: ToolRuntime;
  mode: ServerMode;
  surface: 'stdio' | 'mcp';
  principal: () => Promise<Principal>;
  conversation: string | undefined;
  caller: string | undefined;
  admit: (() => Promise<ToolError | undefined>) | undefined;
  /** Whether the client renders the billing card (its `_meta` and grant come with card tools' results). */
  apps: boolean;
  askPerson?: ((question: PersonQuestion) => Promise<'confirm' | 'cancel' | undefined>) | undefined;
}

/**
 * One tool's `tools/call`, as the handler the McpServer registers for it and as a stateless
 * request's direct answer (createMcpCallDispatcher): the principal the server resolved (never an
 * argument), runTool, and the result for MCP (the card's `_meta` for clients that render it).
 */
async function callTool(tool: AnyToolDefinition, args: Record<string, unknown>, call: ToolCall): Promise<CallToolResult> {
  let principal: Principal;
  try {
    principal = await call.principal();
  } catch (error) {
    // E.g. the grant store is down: its text names hosts, and the SDK would return it verbatim.
    call.runtime.log.warn({ tool: tool.name, err: error instanceof Error ? { name: error.name, message: error.message } : String(error) }, 'could not resolve the principal');
    return { isError: true, content: [{ type: 'text', text: 'The billing assistant is temporarily unavailable. Try again in a minute.' }] };
  }
  // A staff card's button acts on the customer the card showed, as its grant says, not on an argument.
  if (tool.visibility === 'app' && call.mode === 'staff') {
    const grant = await cardGrantFor(call.runtime, principal, call.conversation, args.card);
    args = { ...args, email: null, customer_id: grant?.customer_id ?? null };
  }
  const outcome = await runTool(tool, args, {
    runtime: call.runtime,
    principal,
    mode: call.mode,
    conversation: call.conversation,
    caller: call.caller,
    admit: call.admit,
    surface: call.surface,
    askPerson: call.askPerson,
  });
  if (!outcome.ok) {
    // A busy refusal carries when to retry, as /v1/tools does in Retry-After.
    const retry = outcome.error.retryAfterSeconds;
    return { isError: true, content: [{ type: 'text', text: outcome.error.message }], ...(retry !== undefined ? { _meta: { retry_after_seconds: retry } } : {}) };
  }
  const card = call.apps && tool.card ? await cardMeta(call, tool.card, principal, outcome.customerId) : undefined;
  const result: CallToolResult = { structuredContent: outcome.output, content: [{ type: 'text', text: outcome.text }] };
  // Set member by member: conditional object spreads cost microseconds on every call.
  if (outcome.confirmation || card) {
    const meta: Record<string, unknown> = {};
    if (outcome.confirmation) meta[CONFIRMATION_META_KEY] = outcome.confirmation;
    if (card) meta[CARD_META_KEY] = card;
    result._meta = meta;
  }
  return result;
}

/** What the card is handed beside a result: its view, and the grant its portal buttons send back. */
async function cardMeta(call: ToolCall, view: CardMeta['view'], principal: Principal, customerId: string | undefined): Promise<CardMeta | undefined> {
  const grant = await issueCardGrant(call.runtime, principal, call.conversation, customerId).catch(() => undefined);
  return grant ? { view, token: grant.token, test_mode: call.runtime.key.mode === 'test', expires_at: grant.expires_at } : undefined;
}

/** Each tool list's tools by name, per mode, app-only buttons included (a list never changes). */
const toolsByName = new WeakMap<readonly AnyToolDefinition[], Partial<Record<ServerMode, Map<string, AnyToolDefinition>>>>();

/** The tool of this name a server of the mode registers now (app-only buttons included), if any. */
function modeToolNamed(options: Pick<McpServerOptions, 'tools' | 'runtime' | 'mode'>, name: string): AnyToolDefinition | undefined {
  let byMode = toolsByName.get(options.tools);
  if (!byMode) toolsByName.set(options.tools, (byMode = {}));
  const named = (byMode[options.mode] ??= firstOfEachName([...options.tools, ...appToolsFor(options.tools, options.mode)]));
  const tool = named.get(name);
  return tool && offeredInMode(tool, options.mode, options.runtime.verification !== undefined, options.runtime.actions) ? tool : undefined;
}

/** Where an action request's confirmation travels in an MCP result: for the host's card or button, never for the model. */
export const CONFIRMATION_META_KEY = 'stripe-billing/confirmation';

/** How long a person has to answer the server's confirmation question. */
const ASK_PERSON_TIMEOUT_MS = 10 * 60_000;

/** What every client's model is told once (MCP `instructions`; `/v1/tools` hands it to function-calling bots). */
export const SERVER_INSTRUCTIONS: Record<ServerMode, string> = {
  customer:
    "Billing tools for the customer you are talking to. The server already knows who the customer is; never ask for another person's details. Money is {amount in minor units, currency, formatted}: quote `formatted`. Dates are ISO 8601 UTC. " + QUOTED_VALUES_NOTE,
  staff:
    'Billing tools for merchant staff. Choose the customer with `email` (all their Stripe records) or `customer_id`. Money is {amount in minor units, currency, formatted}: quote `formatted`. Dates are ISO 8601 UTC. ' + QUOTED_VALUES_NOTE,
};

let validator: AjvJsonSchemaValidator | undefined;
/**
 * Ajv, imported and built when a person is first asked something (its only use): not compiled at
 * start-up (scripts/esbuild-ajv-on-demand.mjs keeps the SDK's own import of it out of the bundle's
 * start). One for the process: HTTP builds a server per request.
 */
const loadValidator: () => Promise<AjvJsonSchemaValidator> = loadOnce(() =>
  import('@modelcontextprotocol/sdk/validation/ajv').then(({ AjvJsonSchemaValidator: Validator }) => (validator = new Validator())),
);
function sharedValidator(): AjvJsonSchemaValidator {
  if (!validator) throw new Error('the JSON Schema validator is used before it was loaded (loadValidator)');
  return validator;
}

/**
 * The only module that knows the MCP SDK: a registry of tools becomes an McpServer. Every tool
 * of the mode is registered (for one stateless `tools/call`, the one it names: `onlyTool`); those the Stripe key or account rule out are disabled,
 * so they are not listed and cannot be called. Re-applying a later probe makes the SDK tell a
 * connected client that the list changed.
 */
export function createMcpServer(options: McpServerOptions): McpServer {
  // Ajv is only needed to check an elicitation answer: loaded before one is asked (askPerson).
  const jsonSchemaValidator: JsonSchemaValidatorProvider = { getValidator: (schema) => sharedValidator().getValidator(schema) };
  const server = new McpServer({ name: SERVER_NAME, version: SERVER_VERSION }, { instructions: SERVER_INSTRUCTIONS[options.mode], jsonSchemaValidator });
  const registered: Array<{ tool: AnyToolDefinition; handle: RegisteredTool }> = [];
  // Stdio learns at initialize whether the client renders cards; until then, no card buttons.
  let apps = options.apps ?? false;
  if (options.apps === undefined) {
    server.server.oninitialized = () => {
      apps = declaresApps(server.server.getClientCapabilities());
      syncAvailability();
    };
  }
  const modeTools = (tools: readonly AnyToolDefinition[]) => toolsForMode(tools, options.mode, options.runtime.verification !== undefined, options.runtime.actions);
  const onlyTool = options.onlyTool === undefined ? undefined : modeToolNamed(options, options.onlyTool);
  const called = onlyTool ? [onlyTool] : [];
  const tools = called.length > 0 ? called : [...modeTools(options.tools), ...modeTools(appToolsFor(options.tools, options.mode))];
  if (called.length === 0) registerCard(server);
  for (const tool of tools) {
    const handle = server.registerTool(
      tool.name,
      registrationFor(tool, options.mode),
      async (args: Record<string, unknown>, extra): Promise<CallToolResult> =>
        callTool(tool, args, {
          runtime: options.runtime,
          mode: options.mode,
          surface: options.surface ?? 'stdio',
          principal: options.resolvePrincipal,
          conversation: options.conversation,
          caller: options.caller,
          admit: options.admit,
          apps,
          askPerson:
            options.elicitation && server.server.getClientCapabilities()?.elicitation?.form !== undefined
              ? async ({ message }: PersonQuestion): Promise<'confirm' | 'cancel' | undefined> => {
                  await loadValidator();
                  const answer = await server.server.elicitInput(
                    { mode: 'form', message, requestedSchema: { type: 'object', properties: { confirm: { type: 'boolean', title: 'Confirm', description: 'Yes to go ahead; no to cancel the request.' } }, required: ['confirm'] } },
                    { relatedRequestId: extra.requestId, timeout: ASK_PERSON_TIMEOUT_MS },
                  );
                  if (answer.action === 'accept') return answer.content?.confirm === true ? 'confirm' : 'cancel';
                  return answer.action === 'decline' ? 'cancel' : undefined;
                }
              : undefined,
        }),
    );
    registered.push({ tool, handle });
  }
  const syncAvailability = () => {
    for (const { tool, handle } of registered) {
      const listed = (tool.visibility !== 'app' || apps) && (options.runtime.availability?.isListed(tool) ?? true);
      if (listed && !handle.enabled) handle.enable();
      if (!listed && handle.enabled) handle.disable();
    }
  };
  syncAvailability();
  listTools(server, registered, options, () => apps);
  if (options.followAvailability && options.runtime.availability) {
    const unsubscribe = options.runtime.availability.onChange(syncAvailability);
    server.server.onclose = () => unsubscribe();
  }
  return server;
}

/** What the SDK is given per tool and mode, made once: HTTP builds a server per request. */
const registrations = new WeakMap<AnyToolDefinition, Partial<Record<ServerMode, Omit<ToolRegistration, 'outputSchema'>>>>();

/**
 * What the SDK checks arguments with: any object. runTool parses them with the mode's schema (a
 * customer's `email` or `customer_id` stripped) and answers what it refuses as every transport
 * does ("Invalid arguments. …"); the SDK's own parse of the same schema came first, on every call.
 */
const ARGUMENTS_RUN_TOOL_CHECKS = z.looseObject({});

/**
 * A tool's registration without its schemas: tools/list is answered by `listTools` (which lists
 * them), runTool parses the arguments (above), and it has already parsed every output with the
 * tool's full schema, so the SDK's second check of each result could never fail.
 */
function registrationFor(tool: AnyToolDefinition, mode: ServerMode): Omit<ToolRegistration, 'outputSchema'> {
  let byMode = registrations.get(tool);
  if (!byMode) registrations.set(tool, (byMode = {}));
  return (byMode[mode] ??= (({ outputSchema: _listedByListTools, ...registration }) => ({ ...registration, inputSchema: ARGUMENTS_RUN_TOOL_CHECKS }))(toolRegistration(tool, mode)));
}

/** The billing card as an MCP Apps resource (resources/list, resources/read). */
function registerCard(server: McpServer): void {
  const readCard = async () => ({ contents: [{ uri: BILLING_CARD_URI, mimeType: APP_RESOURCE_MIME_TYPE, text: await billingCardHtml(), _meta: { ui: BILLING_CARD_UI_META } }] });
  server.registerResource(
    'billing-card',
    BILLING_CARD_URI,
    { title: 'Billing card', description: "The customer's plan, invoices and requests as a card, with buttons the person presses (MCP Apps).", mimeType: APP_RESOURCE_MIME_TYPE },
    readCard,
  );
  // The SDK's own "not found" repeats the URI asked for; ours says nothing of what was sent.
  server.server.setRequestHandler(ReadResourceRequestSchema, async (request) => {
    if (request.params.uri !== BILLING_CARD_URI) throw new McpError(ErrorCode.InvalidParams, 'No such resource: resources/list names the one this server has.');
    return readCard();
  });
}

/** Every tool's tools/list entries, by mode and name, as the bundle carries them. */
export type PrebuiltToolList = Record<ServerMode, Record<string, Tool>>;

/**
 * The entry the SDK's own tools/list handler (McpServer, @modelcontextprotocol/sdk/server/mcp.js)
 * makes of a registration (src/tool-listing.ts), with the same conversion and options, less two
 * members that only restate defaults every client applies to a tool without them, and that every
 * client kept in context with every tool (about 20 tokens a tool):
 * - the input schema's `$schema` (draft-07): MCP reads a schema without one as JSON Schema
 *   2020-12, and ours use nothing the two drafts read differently (types, enums, anyOf,
 *   properties, required, additionalProperties, items, bounds). Gemini refuses the member.
 * - `execution: { taskSupport: 'forbidden' }`: MCP's default for a tool that does not say.
 * As JSON, so that a copy made at build time is the same value. Converting every schema took a
 * good share of each start, so the published bundle lists a copy of `prebuiltToolList()` made
 * when it was built (scripts/esbuild-prebuilt-tool-list.mjs); src and dist convert at run time.
 */
export function listedTool(name: string, registration: ToolRegistration): Tool {
  const { $schema: _defaultDialect, ...inputSchema } = toJsonSchemaCompat(registration.inputSchema, { strictUnions: true, pipeStrategy: 'input' });
  const entry = {
    name,
    title: registration.title,
    description: registration.description,
    inputSchema,
    annotations: registration.annotations,
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

/** Entries for clients that render no cards: without the card's `_meta`, once per tool and mode. */
const entriesWithoutMeta = new WeakMap<AnyToolDefinition, Partial<Record<ServerMode, Tool>>>();

/** Entries converted at run time (src, dist), once per tool and mode: HTTP builds a server per request. */
const convertedEntries = new WeakMap<AnyToolDefinition, Partial<Record<ServerMode, Tool>>>();

/**
 * tools/list, in place of the SDK's handler: the same entries (`listedTool`), taken from
 * the list the bundle carries when it has the tool, else converted once and kept.
 */
function listTools(server: McpServer, registered: ReadonlyArray<{ tool: AnyToolDefinition; handle: RegisteredTool }>, options: McpServerOptions, clientRendersCards: () => boolean): void {
  const { mode } = options;
  const prebuilt = PREBUILT_TOOL_LIST?.[mode];
  const withMeta = (tool: AnyToolDefinition): Tool => {
    const ready = prebuilt?.[tool.name];
    if (ready) return ready;
    let converted = convertedEntries.get(tool);
    if (!converted) convertedEntries.set(tool, (converted = {}));
    return (converted[mode] ??= listedTool(tool.name, toolRegistration(tool, mode)));
  };
  // The card's `_meta` (which resource renders a result) means nothing to a client that renders no
  // cards, and its model would read it in every list: such a client gets each entry without it.
  const entry = (tool: AnyToolDefinition): Tool => {
    const listed = withMeta(tool);
    if (listed._meta === undefined || clientRendersCards()) return listed;
    let plain = entriesWithoutMeta.get(tool);
    if (!plain) entriesWithoutMeta.set(tool, (plain = {}));
    return (plain[mode] ??= (({ _meta: _forCardsOnly, ...rest }) => rest)(listed));
  };
  let onFirstList = options.onFirstList;
  server.server.setRequestHandler(ListToolsRequestSchema, () => {
    if (onFirstList) {
      // After this answer is written: the handler's result is sent from a later microtask.
      setImmediate(onFirstList);
      onFirstList = undefined;
    }
    return { tools: registered.filter(({ handle }) => handle.enabled).map(({ tool }) => entry(tool)) };
  });
}

/** stdio: one process, one conversation. */
export async function serveStdio(options: McpServerOptions): Promise<McpServer> {
  const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
  const server = createMcpServer({ ...options, followAvailability: true, elicitation: true });
  await server.connect(new StdioServerTransport());
  return server;
}

let httpTransport: typeof WebStandardStreamableHTTPServerTransport | undefined;

/**
 * Streamable HTTP in stateless mode: no session id, one transport per request. The answer is a
 * JSON body when the client lists application/json first in Accept, else an SSE stream.
 */
export async function createStatelessMcpTransport(accept: string | undefined): Promise<WebStandardStreamableHTTPServerTransport> {
  // Imported on first use, so stdio start-up does not pay for the HTTP transport; kept, so later requests do not import again.
  const Transport = (httpTransport ??= (await import('@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js')).WebStandardStreamableHTTPServerTransport);
  return new Transport({ sessionIdGenerator: undefined, enableJsonResponse: listsJsonFirst(accept ?? '') });
}

/** The HTTP head of a `/mcp` POST, as far as choosing how to answer it goes. */
export interface McpRequestHead {
  accept: string | undefined;
  contentType: string | undefined;
  protocolVersion: string | undefined;
}

/**
 * Answers a stateless `/mcp` request that is one `tools/call` asking for JSON directly: the tool's
 * handler (`callTool`, the one its McpServer registers) under the SDK's own request and result
 * schemas, without building an McpServer and a transport for the request (with them, the server's
 * construction, the transport's checks and its web Request, and the SDK's dispatch of one call
 * were over half of a warm call's CPU).
 */
export interface McpCallDispatcher {
  /**
   * The JSON-RPC answer to a request the SDK's stateless transport would answer with one JSON
   * body: a single valid `tools/call` request (the SDK's own schemas), not task-augmented, of a
   * tool this mode can call now, with the headers the transport accepts and asking for JSON
   * first. Anything else is undefined, for `createStatelessMcpTransport` to answer as before.
   */
  answer(message: unknown, head: McpRequestHead, call: { mode: ServerMode; apps: boolean; scope: CallScope }): Promise<JSONRPCMessage> | undefined;
}

/** Who one stateless `tools/call` is for: what the server resolved from the request. */
export interface CallScope {
  principal: Principal;
  conversation: string | undefined;
  caller: string | undefined;
  admit: (() => Promise<ToolError | undefined>) | undefined;
}

/** Whether the SDK's stateless transport (createStatelessMcpTransport) would take this head and answer in JSON. */
function answeredInJson(head: McpRequestHead): boolean {
  if (head.accept === undefined || !acceptsJsonFirst(head.accept)) return false;
  if (!isJsonContentType(head.contentType ?? null)) return false;
  return head.protocolVersion === undefined || SUPPORTED_PROTOCOL_VERSIONS.includes(head.protocolVersion);
}

/** Whether an Accept lists JSON first: the stateless transport then answers with one JSON body, not a stream. */
function listsJsonFirst(accept: string): boolean {
  return (accept.split(',')[0]?.trim().toLowerCase() ?? '').startsWith('application/json');
}

/** An Accept the transport takes (both types) that lists JSON first; a client sends the same one every time. */
const acceptsJsonFirst = memoized((accept: string) => accept.includes('application/json') && accept.includes('text/event-stream') && listsJsonFirst(accept), 100);

/** The SDK's schemas a direct answer is held to, compiled once (zod's `z.compile`: the same answers, faster). */
let schemas: { request: typeof JSONRPCRequestSchema; call: typeof CallToolRequestSchema; result: typeof CallToolResultSchema } | undefined;
const sdkSchemas = () => (schemas ??= { request: z.compile(JSONRPCRequestSchema), call: z.compile(CallToolRequestSchema), result: z.compile(CallToolResultSchema) });

export function createMcpCallDispatcher(options: { tools: readonly AnyToolDefinition[]; runtime: ToolRuntime }): McpCallDispatcher {
  return {
    answer(message, head, call) {
      if (typeof message !== 'object' || message === null || Array.isArray(message) || (message as { method?: unknown }).method !== 'tools/call') return undefined;
      if (!answeredInJson(head)) return undefined;
      const { request: requestSchema, call: callSchema } = sdkSchemas();
      // The transport's check of the message, then the server's of the call.
      const envelope = requestSchema.safeParse(message);
      const parsed = envelope.success ? callSchema.safeParse(envelope.data) : undefined;
      if (!envelope.success || !parsed?.success || parsed.data.params.task !== undefined) return undefined;
      // Callable now, as a server built for this request would register and enable it: the
      // merchant's policy and the Stripe key's probe can change between calls.
      const tool = modeToolNamed({ ...options, mode: call.mode }, parsed.data.params.name);
      if (!tool || (tool.visibility === 'app' && !call.apps) || !(options.runtime.availability?.isListed(tool) ?? true)) return undefined;
      const { scope } = call;
      return answerCall(envelope.data.id, tool, parsed.data.params.arguments ?? {}, {
        runtime: options.runtime,
        mode: call.mode,
        surface: 'mcp',
        principal: () => Promise.resolve(scope.principal),
        conversation: scope.conversation,
        caller: scope.caller,
        admit: scope.admit,
        apps: call.apps,
      });
    },
  };
}

/**
 * The JSON-RPC answer McpServer and the SDK's protocol give a call of a registered, enabled tool:
 * a handler that throws becomes an error result, the result is checked (and copied) by the SDK's
 * result schema, and a result it refuses is an invalid-params error, in the SDK's own words.
 */
async function answerCall(id: JSONRPCRequest['id'], tool: AnyToolDefinition, args: Record<string, unknown>, call: ToolCall): Promise<JSONRPCMessage> {
  let result: CallToolResult;
  try {
    // A copy, as the SDK's argument check hands the handler one.
    result = await callTool(tool, { ...args }, call);
  } catch (error) {
    // As McpServer: a URL elicitation the person must complete is a JSON-RPC error, anything else an error result.
    if (error instanceof McpError && error.code === ErrorCode.UrlElicitationRequired) {
      return { jsonrpc: '2.0', id, error: error.data === undefined ? { code: error.code, message: error.message } : { code: error.code, message: error.message, data: error.data } };
    }
    result = { content: [{ type: 'text', text: error instanceof Error ? error.message : String(error) }], isError: true };
  }
  const checked = sdkSchemas().result.safeParse(result);
  if (!checked.success) return { jsonrpc: '2.0', id, error: { code: ErrorCode.InvalidParams, message: new McpError(ErrorCode.InvalidParams, `Invalid tools/call result: ${checked.error.message}`).message } };
  return { result: checked.data, jsonrpc: '2.0', id };
}
