/**
 * `serve --platform`: one HTTP server for many merchants. A request's tenant comes from its
 * bearer key alone (each host or staff key belongs to one tenant), never from a header, path or
 * argument a visitor or model could set; the request then runs in that tenant's own app. Webhooks
 * name their tenant in the path and are checked with that tenant's signing secret. Platform
 * admins (ADMIN_KEYS) connect and manage merchants under /v1/admin.
 */
import { Hono, type Context } from 'hono';
import type { AuditTrail } from '../audit/audit-trail.js';
import type { Settings } from '../config.js';
import { PANEL_BUSY_MESSAGE, ToolError } from '../errors.js';
import { BearerKeys } from '../http/auth.js';
import type { Metrics } from '../http/metrics.js';
import type { Logger } from '../log.js';
import type { Store } from '../verify/store.js';
import { KeyringError } from './keyring.js';
import { platformPanel } from './panel-routing.js';
import { confirmLinkStore } from './tenant-apps.js';
import { confirmRoutes } from '../http/confirm-page.js';
import { parseConfirmationToken } from '../actions/confirmation-secret.js';
import { tenantOfRequest } from '../actions/requests.js';
import type { TenantApps } from './tenant-apps.js';
import type { TenantProber, Tenants } from './tenants.js';

export interface PlatformAppOptions {
  settings: Settings;
  tenants: Tenants;
  apps: TenantApps;
  prober: TenantProber;
  log: Logger;
  audit: AuditTrail | undefined;
  metrics?: Metrics | undefined;
  isDraining: () => boolean;
  /** The shared store (the panel lobby's sign-in limits) and the secret that signs the panel's routing cookie. */
  store: Store;
  panelSecret: string;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

function bearerOf(c: Context): string | undefined {
  return BEARER.exec(c.req.header('authorization') ?? '')?.[1];
}

/** A request for a tenant's app: the same request, at the path the app knows. */
function forwarded(request: Request, path: string): Request {
  const url = new URL(request.url);
  url.pathname = path;
  return new Request(url, request);
}

export function createPlatformApp(options: PlatformAppOptions): Hono {
  const { tenants, apps, log, settings } = options;
  const admins = BearerKeys.forAdmins(settings.ADMIN_KEYS);
  const app = new Hono();
  const publicUrl = settings.PUBLIC_URL?.replace(/\/$/, '') ?? '';

  /** A tenant that cannot be built (secrets that do not decrypt, a set-up that fails): refused with the cause, logged; others go on. */
  const unavailable = (c: Context, tenantId: string, error: unknown) => {
    if (error instanceof KeyringError) {
      log.error({ tenant: tenantId, problem: error.problem, detail: error.message }, 'tenant secrets do not decrypt');
      return c.json({ error: 'tenant_unavailable', message: `This merchant's stored Stripe key cannot be decrypted (${error.problem === 'unknown_key' ? 'TENANT_KEY_SECRET lacks the key it was encrypted with' : error.problem === 'tampered' ? 'the stored value fails its integrity check' : 'the stored value is malformed'}). The platform operator must fix it.` }, 503);
    }
    log.error({ tenant: tenantId, err: { name: (error as Error)?.name, message: (error as Error)?.message } }, 'tenant could not be loaded');
    return c.json({ error: 'tenant_unavailable', message: "This merchant's set-up cannot be loaded right now. The platform operator must check its settings (the log says why)." }, 503);
  };

  app.get('/healthz', (c) => (options.isDraining() ? c.json({ status: 'draining' }, 503) : c.json({ status: 'ok' })));

  // Ready means the tenant database answers; it never waits for any tenant's Stripe probe.
  app.get('/readyz', async (c) => {
    const database = await tenants.store.meta('schema_version').then(() => 'ok' as const, () => 'unreachable' as const);
    const trail = options.audit?.status();
    const ready = !options.isDraining() && database === 'ok' && !(trail?.required && trail.state === 'behind');
    return c.json({ status: ready ? 'ready' : 'not_ready', database, tenants_loaded: apps.size, ...(trail ? { audit: { state: trail.state, pending: trail.pending, lost: trail.lost } } : {}) }, ready ? 200 : 503);
  });

  // ---- Platform admins ----
  app.use('/v1/admin/*', async (c, next) => {
    const secret = bearerOf(c);
    if (!secret) {
      c.header('WWW-Authenticate', 'Bearer realm="stripe-billing-mcp admin"');
      return c.json({ error: 'unauthorized', message: 'Send Authorization: Bearer <ADMIN_KEYS secret>.' }, 401);
    }
    if (admins.authenticateSecret(secret)) return next();
    // A merchant's own key is known, but never an admin.
    if (await tenants.authenticate(secret)) return c.json({ error: 'forbidden', message: 'Managing merchants needs a platform admin key (ADMIN_KEYS).' }, 403);
    return c.json({ error: 'unauthorized', message: 'That is not an admin key.' }, 401);
  });

  const readJson = async (c: Context): Promise<unknown> => {
    try {
      return await c.req.json();
    } catch {
      throw new ToolError('input', 'The body must be JSON.');
    }
  };
  const inputProblem = (c: Context, error: unknown) => {
    if (error instanceof ToolError && error.kind === 'input') return c.json({ error: 'bad_request', message: error.message }, 400);
    throw error;
  };

  app.post('/v1/admin/tenants', async (c) => {
    try {
      const created = await tenants.create(await readJson(c), options.prober);
      log.info({ tenant: created.tenant.id, mode: created.tenant.mode }, 'tenant connected');
      return c.json(
        {
          tenant: await tenants.view(created.tenant, publicUrl),
          host_key: created.host_key,
          staff_key: created.staff_key,
          note: 'The host and staff keys are shown only now: store them. Only their digests are kept.',
        },
        201,
      );
    } catch (error) {
      return inputProblem(c, error);
    }
  });

  app.get('/v1/admin/tenants', async (c) => c.json({ tenants: await Promise.all((await tenants.store.list()).map((tenant) => tenants.view(tenant, publicUrl))) }));

  app.get('/v1/admin/tenants/:id', async (c) => {
    const tenant = await tenants.get(c.req.param('id'));
    return tenant ? c.json({ tenant: await tenants.view(tenant, publicUrl) }) : c.json({ error: 'not_found', message: 'No such tenant.' }, 404);
  });

  app.patch('/v1/admin/tenants/:id', async (c) => {
    try {
      const tenant = await tenants.update(c.req.param('id'), await readJson(c), options.prober);
      if (!tenant) return c.json({ error: 'not_found', message: 'No such tenant.' }, 404);
      log.info({ tenant: tenant.id }, 'tenant changed');
      return c.json({ tenant: await tenants.view(tenant, publicUrl) });
    } catch (error) {
      return inputProblem(c, error);
    }
  });

  app.delete('/v1/admin/tenants/:id', async (c) => {
    const id = c.req.param('id');
    if (!(await tenants.remove(id))) return c.json({ error: 'not_found', message: 'No such tenant.' }, 404);
    // Its key and keys are gone from the database; here, its app and its grants, sessions and limits too.
    await apps.forget(id);
    log.info({ tenant: id }, 'tenant removed (its audit records stay)');
    return c.body(null, 204);
  });

  app.post('/v1/admin/tenants/:id/keys/:kind/rotate', async (c) => {
    const kind = c.req.param('kind');
    if (kind !== 'host' && kind !== 'staff') return c.json({ error: 'bad_request', message: 'kind is host or staff.' }, 400);
    const secret = await tenants.rotateKey(c.req.param('id'), kind);
    if (!secret) return c.json({ error: 'not_found', message: 'No such tenant.' }, 404);
    log.info({ tenant: c.req.param('id'), kind }, 'tenant key rotated');
    return c.json({ kind, name: 'default', key: secret, note: 'Shown only now; the previous key stopped working.' });
  });

  app.get('/metrics', async (c) => {
    const secret = bearerOf(c);
    if (!secret || !admins.authenticateSecret(secret)) return c.json({ error: 'forbidden', message: 'In platform mode /metrics needs an admin key.' }, secret ? 403 : 401);
    if (!options.metrics) return c.json({ error: 'no_metrics', message: 'Metrics are not enabled.' }, 404);
    const { contentType, body } = await options.metrics.render();
    return c.body(body, 200, { 'content-type': contentType });
  });

  // ---- Stripe webhooks, one endpoint per tenant ----
  app.post('/webhooks/stripe/:tenant', async (c) => {
    const tenantId = c.req.param('tenant');
    let entry;
    try {
      entry = /^ten_[A-Za-z0-9]{1,40}$/.test(tenantId) ? await apps.get(tenantId) : undefined;
    } catch (error) {
      return unavailable(c, tenantId, error);
    }
    if (!entry) return c.json({ error: 'not_found', message: 'No such endpoint.' }, 404);
    return entry.app.fetch(forwarded(c.req.raw, '/webhooks/stripe'));
  });

  // The panel: the merchant is found from the staff key typed at sign-in, then from a signed cookie.
  const panel = platformPanel({ settings, secret: options.panelSecret, tenants, apps, store: options.store, log });
  const routePanel = async (c: Context) => {
    try {
      return await panel(c);
    } catch (error) {
      // The shared store, or a quota, cannot take what routing needed: busy, like the panel's own pages.
      if (error instanceof ToolError && error.kind === 'busy') {
        c.header('Retry-After', '5');
        return c.text(PANEL_BUSY_MESSAGE, 503);
      }
      return unavailable(c, 'panel', error);
    }
  };
  app.all('/panel', routePanel);
  app.all('/panel/*', routePanel);

  // ---- The emailed confirmation link: no bearer key, so its request names the merchant ----
  // Every wrong link is answered (and counted) the same, here or in the merchant's app.
  const confirmLobby = confirmRoutes({ engine: () => undefined, store: confirmLinkStore(options.store), settings: { ...settings, MERCHANT_NAME: undefined } });
  app.all('/confirm/:token', async (c) => {
    // The server's bindings go on: the page counts wrong links per client address, read from the connection.
    const bindings = (c as Context).env;
    const parsed = parseConfirmationToken(c.req.param('token'));
    const tenantId = parsed && options.audit ? await tenantOfRequest(options.audit.store.sql, parsed.requestId) : undefined;
    if (!tenantId) return confirmLobby.fetch(forwarded(c.req.raw, `/${c.req.param('token')}`), bindings);
    let entry;
    try {
      entry = await apps.get(tenantId);
    } catch (error) {
      return unavailable(c, tenantId, error);
    }
    return entry ? entry.app.fetch(c.req.raw, bindings) : confirmLobby.fetch(forwarded(c.req.raw, `/${c.req.param('token')}`), bindings);
  });

  // ---- Everything else runs in the tenant of the bearer key ----
  app.all('*', async (c) => {
    const secret = bearerOf(c);
    const found = secret ? await tenants.authenticate(secret) : undefined;
    if (!found) {
      c.header('WWW-Authenticate', 'Bearer realm="stripe-billing-mcp"');
      return c.json({ error: 'unauthorized', message: "Send Authorization: Bearer <the merchant's host or staff key>." }, 401);
    }
    let entry;
    try {
      entry = await apps.get(found.tenant.id, found.tenant.version);
    } catch (error) {
      return unavailable(c, found.tenant.id, error);
    }
    if (!entry) return c.json({ error: 'unauthorized', message: "Send Authorization: Bearer <the merchant's host or staff key>." }, 401);
    return entry.app.fetch(c.req.raw);
  });

  return app;
}
