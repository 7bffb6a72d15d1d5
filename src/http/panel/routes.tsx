/**
 * /panel: the visitor insight page for support agents. Staff sign in with a STAFF_KEYS secret
 * once; a server-side session (signed cookie → Store) carries them after that.
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import type { Child } from 'hono/jsx';
import { bodyLimit } from 'hono/body-limit';
import { csrf } from 'hono/csrf';
import { html } from 'hono/html';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import { MAX_NOTE_CHARS, previewSummary } from '../../actions/request-preview.js';
import type { ActionRequest } from '../../actions/requests.js';
import type { StaffDecision } from '../../actions/engine.js';
import type { Settings } from '../../config.js';
import { PANEL_BUSY_MESSAGE, ToolError } from '../../errors.js';
import type { ToolRuntime } from '../../tools/lib/context.js';
import type { AnyToolDefinition } from '../../tools/lib/define-tool.js';
import { runTool } from '../../tools/lib/run-tool.js';
import { staffPrincipal } from '../../verify/principal.js';
import type { BearerKeys } from '../auth.js';
import { agentMessage, insightQuerySchema, loadInsight, type InsightQuery } from '../insight.js';
import { isSameHost, normalizeOrigin } from '../origin-guard.js';
import { PANEL_CSS, PANEL_JS } from './assets.js';
import { frameAncestorOrigins, panelSecurityHeaders } from './csp.js';
import { equal, PanelSessions, sessionSigningSecret, type PanelSession } from './session.js';
import { clientAddress, SignInLimits, SIGN_IN_WINDOW_MS } from './sign-in-limits.js';
import { InsightView, Layout, panelSearch, PanelPage, RequestsPage, SignInPage, type PanelNotice } from './views.js';

export { SIGN_IN_ATTEMPTS_ALLOWED, SIGN_IN_FAILURES_ALLOWED } from './sign-in-limits.js';
const PANEL_BODY_LIMIT = 16 * 1024;
const PORTAL_TOOL = 'get_billing_portal_link';

type PanelEnv = { Variables: { session: PanelSession } };

export interface PanelOptions {
  runtime: ToolRuntime;
  settings: Settings;
  keys: BearerKeys;
  tools: readonly AnyToolDefinition[];
  /** Where failed sign-ins are counted (platform mode: one place for every merchant); else in the runtime's store. */
  signInLimits?: SignInLimits | undefined;
}

/** A posted body that does not parse as its content type says (multipart that is not): the client's mistake. */
class MalformedFormError extends Error {}

/** The posted form; a body that cannot be read is answered 400 (see `onError` below), never 500. */
async function readForm(c: Context): Promise<Record<string, unknown>> {
  try {
    return await c.req.parseBody();
  } catch {
    throw new MalformedFormError('the form body cannot be read');
  }
}

/** The panel's query, known fields only; a bad one is reported on the page, not thrown. */
function readQuery(c: Context): { query: Partial<InsightQuery>; parsed: InsightQuery | undefined; problem: string | undefined } {
  const raw = c.req.query();
  const query: Partial<InsightQuery> = { email: raw.email, customer: raw.customer, conversation: raw.conversation, host: raw.host };
  if (!raw.email) return { query, parsed: undefined, problem: undefined };
  const result = insightQuerySchema.safeParse(query);
  return result.success ? { query: result.data, parsed: result.data, problem: undefined } : { query, parsed: undefined, problem: result.error.issues[0]?.message };
}

/**
 * Form posts must come from the panel's own origin: the Host it was served from, or (behind a
 * proxy that rewrites Host) an origin in PANEL_ORIGINS. The API's ALLOWED_ORIGINS (chat widgets)
 * are not panel pages and may not post its forms. hono/csrf, answered as a 403.
 */
function originCheck(allowedOrigins: readonly string[]): MiddlewareHandler {
  const allowed = new Set(allowedOrigins.map(normalizeOrigin));
  const check = csrf({ origin: (origin, c) => isSameHost(origin, c.req.header('host')) || allowed.has(origin.toLowerCase()) });
  return async (c, next) => {
    try {
      await check(c, next);
    } catch (error) {
      if (error instanceof HTTPException && error.status === 403) return c.json({ error: 'forbidden', message: 'Cross-site request refused.' }, 403);
      throw error;
    }
  };
}

export function panelRoutes(options: PanelOptions): Hono<PanelEnv> {
  const { runtime, settings, keys } = options;
  const frameAncestors = frameAncestorOrigins(settings.PANEL_FRAME_ANCESTORS);
  const signInLimits = options.signInLimits ?? new SignInLimits(runtime.store);
  const sessions = new PanelSessions({ store: runtime.store, keys, secret: sessionSigningSecret(settings), embedded: frameAncestors.length > 0 });
  const portalTool = options.tools.find((tool) => tool.name === PORTAL_TOOL);
  const app = new Hono<PanelEnv>();

  const page = (c: Context, status: 200 | 400 | 401 | 403 | 404 | 409 | 429 | 503, title: string, body: Child, session?: PanelSession, host?: string) =>
    c.html(
      // Without the doctype browsers fall back to quirks mode.
      html`<!DOCTYPE html>${(
        <Layout title={title} mode={runtime.key.mode} frameAncestors={frameAncestors} csrf={session?.csrf} staff={session?.staff} host={host} requestsLink={runtime.actions !== undefined}>
          {body}
        </Layout>
      )}`,
      status,
    );

  /** The selected customer's action requests, for their page (none without an actions engine). */
  const customerRequests = async (insight: Awaited<ReturnType<typeof loadInsight>>): Promise<ActionRequest[] | undefined> =>
    runtime.actions && insight.status === 'found' ? runtime.actions.requests.listForCustomer(runtime.actions.tenantId, insight.selected) : undefined;

  app.onError((error, c) => {
    if (error instanceof MalformedFormError) return c.json({ error: 'bad_request', message: 'The form could not be read: send it as the panel does.' }, 400);
    // A full store (or this merchant's full quota) refuses new state, a session or a count: busy, never an error.
    if (error instanceof ToolError && error.kind === 'busy') {
      c.header('Retry-After', '5');
      if (c.req.path.endsWith('/sign-in')) return page(c, 503, 'Sign in · Billing insight', <SignInPage returnTo={panelSearch(readQuery(c).query)} error={PANEL_BUSY_MESSAGE} />);
      return page(c, 503, 'Billing insight', <p class="notice error" role="alert">{PANEL_BUSY_MESSAGE}</p>);
    }
    throw error;
  });
  app.use('*', panelSecurityHeaders(frameAncestors));
  app.use('*', async (c, next) => {
    await next();
    c.header('Cache-Control', 'no-store');
  });
  app.use('*', bodyLimit({ maxSize: PANEL_BODY_LIMIT, onError: (c) => c.json({ error: 'body_too_large', message: 'Request too large.' }, 413) }));
  app.on('POST', '*', originCheck(settings.PANEL_ORIGINS));

  app.get('/assets/panel.css', (c) => c.body(PANEL_CSS, 200, { 'content-type': 'text/css; charset=utf-8' }));
  app.get('/assets/panel.js', (c) => c.body(PANEL_JS, 200, { 'content-type': 'text/javascript; charset=utf-8' }));

  /** The session's CSRF token, from the form field or (scripts) the X-CSRF-Token header. */
  const presentsToken = async (c: Context, session: PanelSession) =>
    equal(c.req.header('x-csrf-token') ?? String((await readForm(c))['csrf'] ?? ''), session.csrf);
  const staleForm = (c: Context) => c.json({ error: 'forbidden', message: 'The form is out of date: reload the panel.' }, 403);

  /** Pages and data below need a live session; the per-session token guards every POST. */
  const requireSession = (onMissing: 'redirect' | 'status'): MiddlewareHandler<PanelEnv> => async (c, next) => {
    const session = await sessions.current(c);
    if (!session) {
      if (onMissing === 'redirect') return c.redirect(`/panel/sign-in${panelSearch(readQuery(c).query)}`, 303);
      return c.json({ error: 'unauthorized', message: 'Sign in to the panel again.' }, 401);
    }
    if (c.req.method === 'POST' && !(await presentsToken(c, session))) return staleForm(c);
    c.set('session', session);
    await next();
  };

  app.get('/', requireSession('redirect'), async (c) => {
    const session = c.get('session');
    const { query, parsed, problem } = readQuery(c);
    const insight = parsed ? await loadInsight(runtime, session.staff, parsed, 'panel') : undefined;
    return page(
      c,
      200,
      query.email ? `${query.email} · Billing insight` : 'Billing insight',
      <PanelPage query={query} insight={insight} csrf={session.csrf} portalAvailable={portalTool !== undefined} problem={problem} requests={insight ? await customerRequests(insight) : undefined} />,
      session,
      query.host,
    );
  });

  app.get('/card', requireSession('status'), async (c) => {
    const session = c.get('session');
    const { query, parsed, problem } = readQuery(c);
    if (!parsed) {
      return c.html(
        <p class="notice error" role="alert" data-testid="insight-error">
          {problem ?? 'Type an email address.'}
        </p>,
        400,
      );
    }
    const insight = await loadInsight(runtime, session.staff, parsed, 'panel');
    return c.html(<InsightView insight={insight} query={query} csrf={session.csrf} portalAvailable={portalTool !== undefined} requests={await customerRequests(insight)} />);
  });

  app.get('/sign-in', async (c) => {
    const { query } = readQuery(c);
    if (await sessions.current(c)) return c.redirect(`/panel${panelSearch(query)}`, 303);
    return page(c, 200, 'Sign in · Billing insight', <SignInPage returnTo={panelSearch(query)} />);
  });

  app.post('/sign-in', async (c) => {
    const form = await readForm(c);
    // Only the known query fields survive the round trip: no open redirect through return_to.
    const returnTo = panelSearch(Object.fromEntries(new URLSearchParams(String(form['return_to'] ?? '')).entries()) as Partial<InsightQuery>);
    const address = clientAddress(c, settings.TRUST_PROXY);
    let admitted: boolean;
    try {
      admitted = await signInLimits.admit(address);
    } catch (error) {
      // A full store refuses new state (never evicting a session or a lockout to make room).
      if (!(error instanceof ToolError && error.kind === 'busy')) throw error;
      c.header('Retry-After', '5');
      return page(c, 503, 'Sign in · Billing insight', <SignInPage returnTo={returnTo} error={PANEL_BUSY_MESSAGE} />);
    }
    if (!admitted) {
      c.header('Retry-After', String(Math.ceil(SIGN_IN_WINDOW_MS / 1000)));
      return page(c, 429, 'Sign in · Billing insight', <SignInPage returnTo={returnTo} error="Too many failed sign-ins from this address. Wait 15 minutes and try again." />);
    }
    const caller = keys.authenticateSecret(String(form['key'] ?? ''));
    if (caller?.kind !== 'staff') {
      await signInLimits.recordFailure(address);
      runtime.log.warn({ event: 'panel sign-in refused', client: address }, 'panel sign-in refused');
      return page(c, 401, 'Sign in · Billing insight', <SignInPage returnTo={returnTo} error="That is not a valid staff key." />);
    }
    await sessions.open(c, caller.name);
    runtime.log.info({ staff: caller.name }, 'panel sign-in');
    return c.redirect(`/panel${returnTo}`, 303);
  });

  app.post('/sign-out', async (c) => {
    // An already-ended session just lands on sign-in; a live one must present its token.
    const session = await sessions.current(c);
    if (session && !(await presentsToken(c, session))) return staleForm(c);
    await sessions.close(c);
    return c.redirect('/panel/sign-in', 303);
  });

  app.post('/portal-link', requireSession('status'), async (c) => {
    if (!portalTool) return c.json({ error: 'not_enabled', message: 'Billing-portal links are not enabled on this server (TOOLS).' }, 404);
    const form = await readForm(c);
    const customer = z.string().regex(/^cus_[A-Za-z0-9]+$/).safeParse(form['customer']);
    if (!customer.success) return c.json({ error: 'bad_request', message: 'Choose a customer first.' }, 400);
    // The very tool a staff MCP client calls, for exactly the record the agent picked.
    const staff = c.get('session').staff;
    const outcome = await runTool(portalTool, { customer_id: customer.data }, { runtime, principal: staffPrincipal(staff), mode: 'staff', caller: `staff:${staff}`, surface: 'panel' });
    if (!outcome.ok) {
      // Busy (a full store, Stripe's budget) is ours and passes: 503 with a retry, like every other busy answer.
      if (outcome.error.kind === 'busy') return c.json({ error: 'busy', message: agentMessage(outcome.error) }, 503, { 'retry-after': '5' });
      return c.json({ error: outcome.error.kind, message: agentMessage(outcome.error) }, 502);
    }
    return c.json({ url: outcome.output.url, note: outcome.output.note });
  });

  // --- Action requests: the approval queue ------------------------------------------------

  /** The Requests page, with what just happened on top. */
  const requestsPage = async (c: Context<PanelEnv>, status: 200 | 400 | 403 | 404 | 409, notice?: PanelNotice) => {
    const session = c.get('session');
    const engine = runtime.actions;
    if (!engine) return page(c, 404, 'Requests · Billing insight', <p class="notice">Actions are off on this server: nothing waits for approval. ACTIONS_POLICY turns refunds, credits and pauses on.</p>, session);
    const [waiting, recent] = await Promise.all([
      engine.requests.listByState(engine.tenantId, 'awaiting_approval'),
      engine.requests.listRecent(engine.tenantId, ['done', 'failed', 'denied', 'canceled', 'executing'], 20),
    ]);
    return page(c, status, 'Requests · Billing insight', <RequestsPage waiting={waiting} recent={recent} csrf={session.csrf} staff={session.staff} notice={notice} />, session);
  };

  app.get('/requests', requireSession('redirect'), (c) => requestsPage(c, 200));

  /** The signed-in staff member decides as `staff:<name>`: the very name a staff key's own request carries, so its maker cannot approve it here either. */
  const decide = (action: 'approve' | 'deny') => async (c: Context<PanelEnv>) => {
    const engine = runtime.actions;
    if (!engine) return requestsPage(c, 404);
    const form = await readForm(c);
    const note = typeof form['note'] === 'string' ? form['note'].trim() : '';
    if (note.length > MAX_NOTE_CHARS) return requestsPage(c, 400, { kind: 'error', text: `A note is at most ${MAX_NOTE_CHARS} characters.` });
    if (action === 'deny' && note === '') return requestsPage(c, 400, { kind: 'error', text: 'Say why it is declined: the note is kept with the decision.' });
    const id = c.req.param('id') ?? '';
    const request = await engine.requests.get(id);
    if (!request || request.tenant_id !== engine.tenantId) return requestsPage(c, 404, { kind: 'error', text: 'No such request.' });
    const staff = `staff:${c.get('session').staff}`;
    const result = action === 'approve' ? await engine.approve(id, staff, note || undefined, 'panel') : await engine.deny(id, staff, note, 'panel');
    const { status, notice } = decisionNotice(action, result);
    return requestsPage(c, status, notice);
  };
  app.post('/requests/:id/approve', requireSession('status'), decide('approve'));
  app.post('/requests/:id/deny', requireSession('status'), decide('deny'));

  return app;
}

/** What the staff member is told after Approve or Deny, and the page's status. */
function decisionNotice(action: 'approve' | 'deny', result: StaffDecision): { status: 200 | 403 | 404 | 409; notice: PanelNotice } {
  switch (result.outcome) {
    case 'not_found':
      return { status: 404, notice: { kind: 'error', text: 'No such request.' } };
    case 'own_request':
      return { status: 403, notice: { kind: 'error', text: 'You made this request, so you cannot approve it: another staff member must.' } };
    case 'not_allowed':
      return { status: 409, notice: { kind: 'error', text: `This request is already ${result.request.state.replaceAll('_', ' ')}; nothing was changed.` } };
    case 'applied': {
      const summary = previewSummary(result.request).replace(/\.?$/, '.');
      if (action === 'deny') return { status: 200, notice: { kind: 'ok', text: `Denied: ${summary} Nothing was changed.` } };
      if (result.request.state === 'done') return { status: 200, notice: { kind: 'ok', text: `Approved and done: ${summary}${result.request.stripe_object_id ? ` Stripe ${result.request.stripe_object_id}.` : ''}` } };
      if (result.request.state === 'failed') return { status: 200, notice: { kind: 'error', text: `Approved, but it could not be carried out: ${result.request.failure_reason ?? 'Stripe refused it.'}` } };
      return { status: 200, notice: { kind: 'ok', text: 'Approved. Stripe has not answered yet: it is retried with the same idempotency key, and this list shows the outcome.' } };
    }
  }
}
