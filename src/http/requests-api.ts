/**
 * /v1/requests: action requests over plain JSON, behind the bearer-key guard of /v1/*.
 *
 * Host keys — the host's own button. A `/v1/tools` answer that made a request carries
 * `confirmation` {request_id, token, expires_at, url?} beside `result`: for the person, never for
 * the model. When the person clicks the host's Confirm button, the host sends that `token` back
 * to `POST /v1/requests/{id}/confirm` with the SAME customer identity as the tool call
 * (X-Customer-Token, or the verified X-Conversation-Id). `POST /v1/requests/{id}/cancel` withdraws
 * one. A wrong token, another customer's request and an unknown id are one 404 that tells nothing.
 *
 * Staff keys — the approval queue for helpdesks: `GET /v1/requests?state=…`, `GET
 * /v1/requests/{id}`, `POST …/approve` {note?} (executes at once), `POST …/deny` {note}. A staff
 * key never approves a request it created (`created_by` and the approver share the `staff:<name>`
 * namespace, as the panel's signed-in staff do).
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { parseConfirmationToken } from '../actions/confirmation-secret.js';
import type { ActionsEngine, StaffDecision } from '../actions/engine.js';
import { REQUEST_STATES, type RequestState } from '../actions/request-states.js';
import type { ActionRequest } from '../actions/requests.js';
import { MAX_NOTE_CHARS } from '../actions/request-preview.js';
import { viewRequest } from '../tools/lib/action-requests.js';
import type { ToolRuntime } from '../tools/lib/context.js';
import type { Principal } from '../verify/principal.js';
import type { HttpCaller } from '../verify/request-principal.js';

type ApiEnv = { Variables: { caller: HttpCaller } };
type ErrorStatus = 400 | 403 | 404 | 409 | 410;

export interface RequestsApiOptions {
  runtime: ToolRuntime;
  /** The request's principal, resolved exactly as for `/v1/tools` (app.ts's identify). */
  identify: (c: Context<ApiEnv>) => Promise<{ principal: Principal }>;
}

const REQUEST_ID = /^req_[A-Za-z0-9_-]{22}$/;

const note = z
  .string({ message: 'note must be a string' })
  .trim()
  .min(1, 'note must not be empty')
  .max(MAX_NOTE_CHARS, `note is at most ${MAX_NOTE_CHARS} characters`);
const confirmBody = z.object({ token: z.string({ message: 'token is the `confirmation.token` of the tool answer, as a string' }).max(200, 'token is not a confirmation token') }).strict();
const approveBody = z.object({ note: note.optional() }).strict();
const denyBody = z.object({ note }).strict();
const emptyBody = z.object({}).strict();
const listQuery = z.object({
  state: z.enum(REQUEST_STATES, { message: `state must be one of ${REQUEST_STATES.join(', ')}` }).default('awaiting_approval'),
  limit: z.coerce.number({ message: 'limit must be a number' }).int('limit must be a whole number').min(1, 'limit is at least 1').max(100, 'limit is at most 100').default(50),
});

/** The host's view: what its customer's tools show (src/tools/lib/action-requests.ts), never a secret. */
const customerRequestView = (request: ActionRequest) => viewRequest(request);

/** The helpdesk's view: the same, and who asked, confirmed and decided, and what Stripe is asked. */
function staffRequestView(request: ActionRequest) {
  return {
    ...viewRequest(request, { staff: true }),
    customer_id: request.customer_id,
    email: request.email,
    created_by: request.created_by,
    confirmed_via: request.confirmed_via,
    decided_by: request.decided_by,
    note: request.note,
    stripe_object_id: request.stripe_object_id,
    params: request.params,
    updated_at: request.updated_at,
  };
}

const NOT_FOUND = 'No such request for this key and customer. Send the `confirmation.token` of the tool answer, with the same X-Customer-Token or X-Conversation-Id as that tool call.';
const STAFF_NOT_FOUND = 'No such request.';

function fail(c: Context, status: ErrorStatus, error: string, message: string, extra: Record<string, unknown> = {}) {
  return c.json({ error, message, ...extra }, status);
}

/** The JSON body (empty counts as `{}`), checked by `schema`; a 400 answer for anything else. */
async function readBody<T>(c: Context, schema: z.ZodType<T>): Promise<{ ok: true; value: T } | { ok: false; response: Response }> {
  let raw: unknown;
  try {
    const text = await c.req.text();
    raw = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    return { ok: false, response: fail(c, 400, 'malformed_json', 'The body must be a JSON object.') };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, response: fail(c, 400, 'malformed_json', 'The body must be a JSON object.') };
  const parsed = schema.safeParse(raw);
  if (!parsed.success) return { ok: false, response: fail(c, 400, 'bad_request', parsed.error.issues.map(issueText).join('; ')) };
  return { ok: true, value: parsed.data };
}

function issueText(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}`;
  return issue.message;
}

export function requestsApi(options: RequestsApiOptions): Hono<ApiEnv> {
  const { runtime } = options;
  const app = new Hono<ApiEnv>();

  // Read-only is the default: without an action the policy turns on, there is nothing here.
  app.use('*', async (c, next) => {
    if (!runtime.actions) {
      return fail(c, 404, 'actions_off', 'Actions are off on this server: nothing here changes billing. ACTIONS_POLICY (a JSON policy file; platform mode: the tenant’s settings.actions) turns refunds, credits and pauses on.');
    }
    await next();
  });
  const engine = (): ActionsEngine => runtime.actions!;
  const caller = (c: Context<ApiEnv>) => c.get('caller');
  const staffOnly = (c: Context<ApiEnv>) => (caller(c).kind === 'staff' ? undefined : fail(c, 403, 'forbidden', 'The approval queue needs a staff key.'));
  /** This tenant's request (platform mode: never another merchant's, whatever id is sent). */
  const findRequest = async (id: string): Promise<ActionRequest | undefined> => (REQUEST_ID.test(id) ? engine().find(id) : undefined);

  // --- The host's own button -------------------------------------------------------------

  /** A request made through a host key is confirmed through that same host (the engine's findForCaller); the owner check is confirm()'s and cancel()'s. */
  const madeByThisHost = async (c: Context<ApiEnv>, id: string): Promise<boolean> => REQUEST_ID.test(id) && (await engine().findForCaller(id, `host:${caller(c).name}`)) !== undefined;

  app.post('/:id/confirm', async (c) => {
    if (caller(c).kind !== 'host') return fail(c, 403, 'forbidden', 'A staff key’s own action call is its confirmation; this confirms a customer’s request, with the host key that made it.');
    const body = await readBody(c, confirmBody);
    if (!body.ok) return body.response;
    const token = parseConfirmationToken(body.value.token.trim());
    if (!token || token.requestId !== c.req.param('id')) return fail(c, 404, 'not_found', NOT_FOUND);
    if (!(await madeByThisHost(c, token.requestId))) return fail(c, 404, 'not_found', NOT_FOUND);
    const { principal } = await options.identify(c);
    const result = await engine().confirm(token.requestId, token.secret, 'host', { owner: principal, by: `host:${caller(c).name}`, surface: 'tools' });
    switch (result.outcome) {
      case 'invalid':
        return fail(c, 404, 'not_found', NOT_FOUND);
      case 'expired':
        return fail(c, 410, 'expired', 'This request was not confirmed within 15 minutes, so nothing was changed. The customer can ask again.', { request: customerRequestView(result.request) });
      case 'already_decided':
        return fail(c, 409, 'already_decided', `This request is already ${result.request.state.replaceAll('_', ' ')}.`, { request: customerRequestView(result.request) });
      case 'confirmed':
        return c.json({ request: customerRequestView(result.request) });
    }
  });

  app.post('/:id/cancel', async (c) => {
    if (caller(c).kind !== 'host') return fail(c, 403, 'forbidden', 'Staff decline a waiting request with POST /v1/requests/{id}/deny and a note.');
    const body = await readBody(c, emptyBody);
    if (!body.ok) return body.response;
    const id = c.req.param('id');
    if (!(await madeByThisHost(c, id))) return fail(c, 404, 'not_found', NOT_FOUND);
    const { principal } = await options.identify(c);
    const result = await engine().cancel(id, 'customer', principal);
    if (result.outcome === 'applied') return c.json({ request: customerRequestView(result.request) });
    if (result.outcome === 'not_allowed') return fail(c, 409, 'already_decided', `This request is already ${result.request.state.replaceAll('_', ' ')}.`, { request: customerRequestView(result.request) });
    return fail(c, 404, 'not_found', NOT_FOUND);
  });

  // --- The approval queue (staff keys) ----------------------------------------------------

  app.get('/', async (c) => {
    const refused = staffOnly(c);
    if (refused) return refused;
    const query = listQuery.safeParse(c.req.query());
    if (!query.success) return fail(c, 400, 'bad_query', query.error.issues.map(issueText).join('; '));
    const { state, limit } = query.data;
    // The queue oldest first (first come, first decided); settled states newest first.
    const requests = state === 'awaiting_approval' ? await engine().requests.listByState(engine().tenantId, state, limit) : await engine().requests.listRecent(engine().tenantId, [state as RequestState], limit);
    return c.json({ state, requests: requests.map(staffRequestView) });
  });

  app.get('/:id', async (c) => {
    const refused = staffOnly(c);
    if (refused) return refused;
    const request = await findRequest(c.req.param('id'));
    return request ? c.json({ request: staffRequestView(request) }) : fail(c, 404, 'not_found', STAFF_NOT_FOUND);
  });

  const decided = (c: Context<ApiEnv>, result: StaffDecision) => {
    switch (result.outcome) {
      case 'applied':
        return c.json({ request: staffRequestView(result.request) });
      case 'not_found':
        return fail(c, 404, 'not_found', STAFF_NOT_FOUND);
      case 'own_request':
        return fail(c, 403, 'own_request', 'This staff key created this request, so it cannot approve it: another staff member must (another staff key, or the panel signed in as someone else).', { request: staffRequestView(result.request) });
      case 'not_allowed':
        return fail(c, 409, 'not_awaiting_approval', `This request is ${result.request.state.replaceAll('_', ' ')}, not awaiting approval.`, { request: staffRequestView(result.request) });
    }
  };

  app.post('/:id/approve', async (c) => {
    const refused = staffOnly(c);
    if (refused) return refused;
    const body = await readBody(c, approveBody);
    if (!body.ok) return body.response;
    const request = await findRequest(c.req.param('id'));
    if (!request) return fail(c, 404, 'not_found', STAFF_NOT_FOUND);
    return decided(c, await engine().approve(request.id, `staff:${caller(c).name}`, body.value.note, 'tools'));
  });

  app.post('/:id/deny', async (c) => {
    const refused = staffOnly(c);
    if (refused) return refused;
    const body = await readBody(c, denyBody);
    if (!body.ok) return body.response;
    const request = await findRequest(c.req.param('id'));
    if (!request) return fail(c, 404, 'not_found', STAFF_NOT_FOUND);
    return decided(c, await engine().deny(request.id, `staff:${caller(c).name}`, body.value.note, 'tools'));
  });

  return app;
}
