/**
 * The insight panel in platform mode. Sign-in is the one moment a staff key arrives (in the form),
 * so that is where the merchant is found; a signed routing cookie then sends the agent's panel
 * requests to that merchant's app, whose own session (kept in the merchant's slice of the store)
 * decides the rest. A routing cookie naming another merchant leads to a merchant that holds no
 * such session: the agent is sent to sign in. Before sign-in, a lobby serves the sign-in page.
 * Failed sign-ins are counted in one place for the lobby and every merchant, and a locked-out
 * address is turned away before its key is looked up.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { serialize } from 'hono/utils/cookie';
import type { Settings } from '../config.js';
import { BearerKeys } from '../http/auth.js';
import { panelRoutes } from '../http/panel/routes.js';
import { clientAddress, SignInLimits } from '../http/panel/sign-in-limits.js';
import type { Logger } from '../log.js';
import type { ToolRuntime } from '../tools/lib/context.js';
import type { Store } from '../verify/store.js';
import { PrefixedStore } from './prefixed-store.js';
import type { TenantApps } from './tenant-apps.js';
import type { Tenants } from './tenants.js';

export const TENANT_COOKIE = '__Host-sbm_tenant';
const MAX_SIGN_IN_BYTES = 16 * 1024;

/**
 * The sign-in limits of the whole platform: a wrong key is no merchant's, so its failure cannot be
 * counted in a merchant's slice of the store; the right key's merchant must see the same count.
 */
export function platformSignInLimits(store: Store): SignInLimits {
  return new SignInLimits(new PrefixedStore(store, 'lobby:'));
}

/** The lobby has no merchant and no Stripe: anything but the store and the log would be a bug, and throws. */
function lobbyRuntime(store: Store, log: Logger): ToolRuntime {
  const known: Record<string, unknown> = { store, log, key: { mode: undefined }, actions: undefined };
  return new Proxy(known, {
    get(target, property) {
      if (typeof property === 'string' && property in target) return target[property];
      throw new Error(`the panel lobby has no ${String(property)}`);
    },
  }) as unknown as ToolRuntime;
}

export function platformPanel(options: { settings: Settings; secret: string; tenants: Tenants; apps: TenantApps; store: Store; log: Logger }) {
  const { tenants, apps, secret } = options;
  const sign = (tenantId: string) => createHmac('sha256', secret).update(`panel-tenant\n${tenantId}`).digest('base64url');
  const tenantOf = (c: Context): string | undefined => {
    const [id, signature] = (getCookie(c, TENANT_COOKIE) ?? '').split('.');
    if (!id || !signature) return undefined;
    const expected = Buffer.from(sign(id));
    const presented = Buffer.from(signature);
    return expected.length === presented.length && timingSafeEqual(expected, presented) ? id : undefined;
  };

  const signInLimits = platformSignInLimits(options.store);
  const lobby = new Hono();
  lobby.route('/panel', panelRoutes({ runtime: lobbyRuntime(new PrefixedStore(options.store, 'lobby:'), options.log), settings: options.settings, keys: BearerKeys.forAdmins([]), tools: [], signInLimits }));

  // Each fetch below passes the server's bindings on (c.env): the panel counts sign-ins per client
  // address, which it reads from the connection they carry.
  return async (c: Context): Promise<Response> => {
    if (c.req.method === 'POST' && c.req.path === '/panel/sign-in') {
      // Read before anyone is known: only a sign-in form's size (a key and a return path).
      const length = Number(c.req.header('content-length') ?? Number.NaN);
      if (!(length <= MAX_SIGN_IN_BYTES)) return c.text('The sign-in form is too large.', 413);
      // A locked-out address learns nothing about its key, and costs no look-up: the lobby answers 429.
      if (await signInLimits.isLocked(clientAddress(c, options.settings.TRUST_PROXY))) return lobby.fetch(c.req.raw, c.env);
      const form = await c.req.raw.clone().formData().catch(() => undefined);
      const key = String(form?.get('key') ?? '');
      const found = key ? await tenants.authenticate(key) : undefined;
      if (found?.key.kind !== 'staff') return lobby.fetch(c.req.raw, c.env);
      const entry = await apps.get(found.tenant.id, found.tenant.version);
      if (!entry) return lobby.fetch(c.req.raw, c.env);
      const response = await entry.app.fetch(c.req.raw, c.env);
      if (response.status !== 303 || !response.headers.getSetCookie().some((line) => line.startsWith('__Host-sbm_panel'))) return response;
      const routed = new Response(response.body, response);
      const embedded = options.settings.PANEL_FRAME_ANCESTORS.length > 0;
      // The same attributes as the session cookie: __Host-, Secure, HttpOnly, Path=/.
      routed.headers.append(
        'set-cookie',
        serialize(TENANT_COOKIE, `${found.tenant.id}.${sign(found.tenant.id)}`, { path: '/', secure: true, httpOnly: true, sameSite: embedded ? 'None' : 'Lax', ...(embedded ? { partitioned: true } : {}) }),
      );
      return routed;
    }
    const tenantId = tenantOf(c);
    const entry = tenantId ? await apps.get(tenantId) : undefined;
    return (entry ? entry.app : lobby).fetch(c.req.raw, c.env);
  };
}
