import { auditRoute } from './audit-route.js';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Settings } from '../config.js';
import { ToolError } from '../errors.js';
import { createMcpCallDispatcher, createMcpServer, createStatelessMcpTransport } from '../server.js';
import { appsSessionFor, isAppsSession } from './apps-session.js';
import type { ToolRuntime } from '../tools/lib/context.js';
import type { AnyToolDefinition } from '../tools/lib/define-tool.js';
import { runTool, type ServerMode } from '../tools/lib/run-tool.js';
import { listedToolNamed, listedTools } from '../tools/registry.js';
import type { IdentityTokenVerifier } from '../verify/identity-token.js';
import { ConversationIdError, conversationKey, resolveRequestPrincipal, type HttpCaller } from '../verify/request-principal.js';
import type { Principal } from '../verify/principal.js';
import type { Store } from '../verify/store.js';
import { BearerKeys } from './auth.js';
import { CallLimits } from './call-limits.js';
import { guardedApi, noStoreJson, type GuardedEnv } from './guarded-api.js';
import { isToolFormat, TOOL_FORMATS, toolCatalog, toolsInFormat } from './tool-formats.js';
import { healthRoutes } from './health.js';
import { webhookRoutes } from './webhooks.js';
import { insightRoute } from './insight.js';
import { panelRoutes } from './panel/routes.js';
import { confirmRoutes } from './confirm-page.js';
import type { SignInLimits } from './panel/sign-in-limits.js';
import type { Metrics } from './metrics.js';
import { originGuard } from './origin-guard.js';
import { refuseWhileDraining } from './shutdown.js';
import { requestsApi } from './requests-api.js';
import { statusReporter } from './status.js';

export const MAX_BODY_BYTES = 256 * 1024;
/** JSON-RPC batches (protocol versions before 2025-06-18, which removed them) hold at most this many messages. */
const MAX_BATCH = 10;
const BATCHES_REMOVED_IN = '2025-06-18';
export const REQUEST_TIMEOUT_MS = 30_000;

export interface HttpAppOptions {
  runtime: ToolRuntime;
  settings: Settings;
  tools: readonly AnyToolDefinition[];
  verifier: IdentityTokenVerifier | undefined;
  /** Prometheus metrics; GET /metrics (staff key) renders them. */
  metrics?: Metrics | undefined;
  /** True once shutdown began: new requests are refused while in-flight ones finish. */
  isDraining?: () => boolean;
  /** Per-caller and per-conversation call limits (built from the settings when absent). */
  callLimits?: Pick<CallLimits, 'admit'> | undefined;
  /** How long one API request may take (REQUEST_TIMEOUT_MS; tests shorten it). */
  requestTimeoutMs?: number | undefined;
  /** Bearer keys other than HOST_KEYS and STAFF_KEYS (platform mode: one tenant's). */
  keys?: BearerKeys | undefined;
  /** Where the panel counts failed sign-ins (platform mode: the platform's one place); else this runtime's store. */
  panelSignInLimits?: SignInLimits | undefined;
  /** Where the confirmation page counts wrong links (platform mode: one place for every merchant); else this runtime's store. */
  confirmLinkStore?: Store | undefined;
}

type Env = GuardedEnv;

const modeOf = (caller: HttpCaller): ServerMode => (caller.kind === 'staff' ? 'staff' : 'customer');

const callerKey = (caller: HttpCaller): string => `${caller.kind}:${caller.name}`;

/**
 * A batch the server refuses, as a JSON-RPC error; undefined for a single message (or a body the
 * transport will reject itself). `message` is the body parsed (undefined: not JSON).
 */
function refuseBatch(request: Request, text: string, message: unknown): string | undefined {
  if (!text.trimStart().startsWith('[')) return undefined;
  const version = request.headers.get('mcp-protocol-version');
  if (version !== null && version >= BATCHES_REMOVED_IN) return `JSON-RPC batches are not part of MCP ${version}: send one message per request.`;
  if (Array.isArray(message) && message.length > MAX_BATCH) return `A batch may hold at most ${MAX_BATCH} messages; this one has ${message.length}.`;
  return undefined;
}

/** The tool a request that is one `tools/call` names (the server registers just it); else undefined. */
function calledTool(message: unknown): string | undefined {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return undefined;
  const { method, params } = message as { method?: unknown; params?: { name?: unknown } | null };
  return method === 'tools/call' && typeof params?.name === 'string' ? params.name : undefined;
}

function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function jsonError(c: Context, status: 400 | 401 | 403 | 404 | 405 | 413 | 503 | 504, error: string, message: string) {
  return c.json({ error, message }, status);
}

/**
 * The HTTP surface: `/mcp` (Streamable HTTP, stateless: one `tools/call` asking for JSON is
 * answered directly by its tool's handler, every other request by a fresh server and transport) and
 * `/v1/tools` (plain JSON), both authenticated on every request and running the same tool code
 * for the principal the server resolves.
 */
export function createHttpApp(options: HttpAppOptions): Hono<Env> {
  const { runtime, settings, verifier } = options;
  const keys = options.keys ?? new BearerKeys(settings.HOST_KEYS, settings.STAFF_KEYS);
  const callLimits = options.callLimits ?? new CallLimits(settings);
  const app = new Hono<Env>();

  const isDraining = options.isDraining ?? (() => false);
  // One access-log line per request: never headers (keys, tokens) or bodies (emails, codes).
  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    if (runtime.log.isLevelEnabled('info')) {
      const caller = c.get('caller');
      const line: Record<string, unknown> = { method: c.req.method, route: c.req.routePath, status: c.res.status, ms: Math.round(performance.now() - started) };
      if (caller) line.caller = `${caller.kind}:${caller.name}`;
      runtime.log.info(line, 'http request');
    }
    options.metrics?.observeHttp(c.req.routePath, c.res.status);
  });
  app.use('*', originGuard({ allowedOrigins: settings.ALLOWED_ORIGINS, panelOrigins: settings.PANEL_ORIGINS, bindHost: settings.HOST }));
  app.route('/', healthRoutes({ runtime, isDraining }));
  app.route('/', webhookRoutes({ runtime, secret: settings.STRIPE_WEBHOOK_SECRET, onEvent: (outcome) => options.metrics?.observeWebhook(outcome) }));
  app.use('*', refuseWhileDraining(isDraining));
  app.route('/panel', panelRoutes({ runtime, settings, keys, tools: options.tools, signInLimits: options.panelSignInLimits }));
  // The emailed confirmation link: the token in the path is the person's proof, no bearer key.
  app.route('/confirm', confirmRoutes({ engine: () => runtime.actions, store: options.confirmLinkStore ?? runtime.store, settings }));

  const guarded = guardedApi({
    keys,
    timeoutMs: options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
    maxBodyBytes: MAX_BODY_BYTES,
    tooLarge: (c) => jsonError(c, 413, 'body_too_large', `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`),
    unauthorized: (c) => jsonError(c, 401, 'unauthorized', 'Send Authorization: Bearer <host or staff key>.'),
  });
  for (const path of ['/mcp', '/v1/*', '/metrics']) app.use(path, guarded);

  /** The request's principal and conversation, or an HTTP error for a bad conversation id. */
  async function identify(c: Context<Env>): Promise<{ principal: Principal; conversation: string | undefined; mode: ServerMode }> {
    const caller = c.get('caller');
    const conversation = conversationKey(caller, c.req.header('x-conversation-id') ?? undefined);
    const principal = await resolveRequestPrincipal(
      { caller, customerToken: caller.kind === 'host' ? c.req.header('x-customer-token') : undefined, conversation },
      { verifier, grants: runtime.verification?.grants, log: runtime.log },
    );
    return { principal, conversation, mode: modeOf(caller) };
  }

  const toolsFor = (mode: ServerMode) => listedTools(options.tools, mode, runtime);
  const mcpCalls = createMcpCallDispatcher({ tools: options.tools, runtime });

  app.onError((error, c) => {
    if (error instanceof ConversationIdError) return jsonError(c, 400, 'bad_conversation_id', error.message);
    if (error instanceof HTTPException && error.status === 504) {
      runtime.log.warn({ route: c.req.routePath, timeoutMs: options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS }, 'request timed out');
      c.header('Cache-Control', 'no-store');
      return jsonError(c, 504, 'timeout', 'The request took too long. Try again in a moment.');
    }
    // A full store or quota outside a tool (a grant refresh, a panel session): busy, as tools answer it.
    if (error instanceof ToolError && error.kind === 'busy') {
      runtime.log.warn({ route: c.req.routePath, ...error.logDetail }, 'request refused: busy');
      c.header('Retry-After', String(error.retryAfterSeconds ?? 1));
      c.header('Cache-Control', 'no-store');
      if (c.req.path.startsWith('/v1/tools/')) return c.json({ is_error: true, error: { kind: error.kind, message: error.message } }, 429);
      return jsonError(c, 503, 'busy', error.message);
    }
    runtime.log.error({ err: { name: error.name, message: error.message } }, 'unhandled HTTP error');
    // Also when the API guard itself failed (e.g. a chunked body cut off while counted): it marks answers only after the route.
    c.header('Cache-Control', 'no-store');
    return c.json({ error: 'internal', message: 'Something went wrong on our side.' }, 500);
  });

  /** Merchant-only endpoints: a host (chatbot) key never reaches them. */
  const staffOnly = (what: string): MiddlewareHandler<Env> => async (c, next) => {
    if (c.get('caller').kind !== 'staff') return jsonError(c, 403, 'forbidden', `${what} needs a staff key.`);
    await next();
  };

  app.get('/metrics', staffOnly('Metrics'), async (c) => {
    if (!options.metrics) return jsonError(c, 404, 'no_metrics', 'Metrics are not enabled.');
    const { contentType, body } = await options.metrics.render();
    return c.body(body, 200, { 'content-type': contentType });
  });

  const status = statusReporter({ settings, runtime, tools: options.tools });
  app.get('/v1/status', staffOnly('Status'), async (c) => c.json(await status()));
  app.get('/v1/insight', staffOnly('Customer insight'), insightRoute(runtime));
  app.get('/v1/audit', staffOnly('The audit trail'), auditRoute(runtime));
  // Action requests: the host's own Confirm button (host keys) and the approval queue (staff keys).
  app.route('/v1/requests', requestsApi({ runtime, identify }));

  app.all('/mcp', async (c) => {
    if (c.req.method !== 'POST') {
      c.header('Allow', 'POST');
      return jsonError(c, 405, 'method_not_allowed', 'This server is stateless: POST JSON-RPC to /mcp; no GET stream or session to DELETE.');
    }
    // Read once, straight from the socket, and handed to the transport parsed: a copy of the
    // request for the transport to read again went through web streams twice.
    const body = await c.req.text();
    const message = parseJsonOrUndefined(body);
    const refusal = refuseBatch(c.req.raw, body, message);
    if (refusal) return c.json({ jsonrpc: '2.0', id: null, error: { code: -32600, message: refusal } }, 400);
    const appsSession = appsSessionFor(message);
    const { principal, conversation, mode } = await identify(c);
    const caller = callerKey(c.get('caller'));
    const apps = appsSession !== undefined || isAppsSession(c.req.header('mcp-session-id'));
    const admit = () => callLimits.admit(caller, conversation);
    // One tools/call asking for JSON: answered directly (the body the transport would send, byte for byte).
    const answer = mcpCalls.answer(
      message,
      { accept: c.req.header('accept'), contentType: c.req.header('content-type'), protocolVersion: c.req.header('mcp-protocol-version') },
      { mode, apps, scope: { principal, conversation, caller, admit } },
    );
    if (answer) return noStoreJson(JSON.stringify(await answer));
    const server = createMcpServer({
      tools: options.tools,
      runtime,
      mode,
      resolvePrincipal: async () => principal,
      conversation,
      caller,
      admit,
      surface: 'mcp',
      apps,
      onlyTool: calledTool(message),
    });
    const transport = await createStatelessMcpTransport(c.req.header('accept'));
    await server.connect(transport);
    // A body that is not JSON goes to the transport as it came, for the transport's own answer to it.
    const response = await (message === undefined ? transport.handleRequest(new Request(c.req.url, { method: 'POST', headers: c.req.raw.headers, body })) : transport.handleRequest(c.req.raw, { parsedBody: message }));
    // Not closed: a JSON answer comes back once every handler has answered, and the server and
    // transport are this request's alone, so they are garbage now; closing them aborted the
    // answered call's signal (a DOMException and an McpError per call). An SSE stream ends by itself.
    // Marked in place: a copy of the response would turn its body into a stream to read again.
    if (appsSession !== undefined && response.ok) response.headers.set('mcp-session-id', appsSession);
    return response;
  });

  app.get('/v1/tools', async (c) => {
    const mode = modeOf(c.get('caller'));
    const format = c.req.query('format');
    // No format: both lists in one answer, as before formats existed.
    if (format === undefined) return c.json({ mode, ...toolCatalog(toolsFor(mode), mode) });
    if (!isToolFormat(format)) return jsonError(c, 400, 'unknown_format', `format must be one of ${TOOL_FORMATS.join(', ')}, or left out for the OpenAI and Anthropic lists together.`);
    return c.json({ mode, format, ...toolsInFormat(toolsFor(mode), mode, format) });
  });

  app.post('/v1/tools/:name', async (c) => {
    const { principal, conversation, mode } = await identify(c);
    const tool = listedToolNamed(options.tools, mode, runtime, c.req.param('name'));
    if (!tool) return jsonError(c, 404, 'unknown_tool', 'No such tool for this key. GET /v1/tools lists them.');
    let args: unknown;
    try {
      const text = await c.req.text();
      args = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      return jsonError(c, 400, 'malformed_json', 'The body must be a JSON object of tool arguments.');
    }
    if (typeof args !== 'object' || args === null || Array.isArray(args)) return jsonError(c, 400, 'malformed_json', 'The body must be a JSON object of tool arguments.');
    const caller = callerKey(c.get('caller'));
    const outcome = await runTool(tool, args, { runtime, principal, mode, conversation, caller, admit: () => callLimits.admit(caller, conversation), surface: 'tools' });
    if (!outcome.ok && outcome.error.kind === 'busy') {
      // Over a limit: the bot should wait, not hand a refusal to its model.
      c.header('Retry-After', String(outcome.error.retryAfterSeconds ?? 1));
      return c.json({ is_error: true, error: { kind: outcome.error.kind, message: outcome.error.message } }, 429);
    }
    // Tool-level refusals are 200s: a function-calling bot hands them to its model as the result.
    if (!outcome.ok) return noStoreJson(JSON.stringify({ is_error: true, error: { kind: outcome.error.kind, message: outcome.error.message } }));
    // `confirmation` is for the person (the host's own Confirm button), never for the model.
    const answer: { is_error: false; result: Record<string, unknown>; text: string; confirmation?: unknown } = { is_error: false, result: outcome.output, text: outcome.text };
    if (outcome.confirmation) answer.confirmation = outcome.confirmation;
    return noStoreJson(JSON.stringify(answer));
  });

  return app;
}
