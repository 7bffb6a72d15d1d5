/**
 * Staff sessions of the insight panel: a random id in a signed, HttpOnly cookie; the session
 * itself lives server-side in the runtime's Store (memory or Redis), so several processes share
 * it and sign-out really ends it.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { setCookie, setSignedCookie } from 'hono/cookie';
import { parseSigned } from 'hono/utils/cookie';
import type { Settings } from '../../config.js';
import type { Store } from '../../verify/store.js';
import type { BearerKeys } from '../auth.js';

/**
 * One cookie name per kind of cookie, so a browser holding a cookie of an earlier configuration
 * (the panel used before embedding was switched on, or after a restart with another secret) never
 * shadows the current one. `__Host-`: Secure, Path=/, no Domain, so no other host can plant one.
 */
export const SESSION_COOKIE = '__Host-sbm_panel';
export const EMBEDDED_SESSION_COOKIE = '__Host-sbm_panel_embedded';
/** Before the prefix: read (an agent's session survives the upgrade) and cleared, never set. */
const LEGACY_SESSION_COOKIE = { name: 'sbm_panel', path: '/panel' };
const SESSION_COOKIE_NAMES = [SESSION_COOKIE, EMBEDDED_SESSION_COOKIE, LEGACY_SESSION_COOKIE.name];
/** A working day; a new sign-in after that. */
export const SESSION_TTL_MS = 8 * 3600_000;

export interface PanelSession {
  /** The STAFF_KEYS name that signed in. */
  staff: string;
  /** Per-session token every state-changing request must echo (forms and fetch). */
  csrf: string;
}

interface StoredSession extends PanelSession {
  /** HMAC of the staff key's secret digest: the session dies when that key leaves STAFF_KEYS. */
  binding: string;
  createdAt: number;
}

/** PANEL_SESSION_SECRET, else VERIFY_SECRET (shared by processes that share a store), else per process. */
export function sessionSigningSecret(settings: Pick<Settings, 'PANEL_SESSION_SECRET' | 'VERIFY_SECRET'>): string {
  return settings.PANEL_SESSION_SECRET ?? settings.VERIFY_SECRET ?? randomBytes(32).toString('base64url');
}

export class PanelSessions {
  constructor(
    private readonly deps: {
      store: Store;
      keys: BearerKeys;
      secret: string;
      /** True when a helpdesk may frame the panel: the cookie must then travel cross-site. */
      embedded: boolean;
    },
  ) {}

  /** The store never holds a usable id: only its hash, so a store dump opens no session. */
  private storeKey(id: string): string {
    return `panel-session:${createHash('sha256').update(id).digest('hex')}`;
  }

  private binding(staff: string): string | undefined {
    const digest = this.deps.keys.secretDigest({ kind: 'staff', name: staff });
    return digest && createHmac('sha256', this.deps.secret).update('panel-session-binding\0').update(digest).digest('hex');
  }

  async open(c: Context, staff: string): Promise<PanelSession> {
    const binding = this.binding(staff);
    if (!binding) throw new Error('sessions are opened for configured staff keys only');
    // Signing in again replaces the browser's session: the old id must not stay usable.
    await this.forget(c);
    const id = randomBytes(32).toString('base64url');
    const session: StoredSession = { staff, csrf: randomBytes(32).toString('base64url'), binding, createdAt: Date.now() };
    await this.deps.store.set(this.storeKey(id), JSON.stringify(session), SESSION_TTL_MS);
    this.clearOtherCookies(c);
    await setSignedCookie(c, this.cookieName(), id, this.deps.secret, { ...this.cookieAttributes(), maxAge: Math.floor(SESSION_TTL_MS / 1000) });
    return { staff, csrf: session.csrf };
  }

  /**
   * The request's live session. Every session cookie the browser sent is tried (it may send two of
   * one name: a partitioned and an unpartitioned one); the first that opens a live session wins.
   * A session whose staff key was removed or changed is ended here.
   */
  async current(c: Context): Promise<PanelSession | undefined> {
    for (const id of await this.sessionIds(c)) {
      const raw = await this.deps.store.get(this.storeKey(id));
      if (!raw) continue;
      const stored = JSON.parse(raw) as StoredSession;
      const binding = this.binding(stored.staff);
      if (!binding || !equal(binding, stored.binding)) {
        await this.deps.store.delete(this.storeKey(id));
        continue;
      }
      return { staff: stored.staff, csrf: stored.csrf };
    }
    return undefined;
  }

  async close(c: Context): Promise<void> {
    await this.forget(c);
    this.clearOtherCookies(c);
    setCookie(c, this.cookieName(), '', { ...this.cookieAttributes(), maxAge: 0 });
  }

  /** Ends the server side of every session the request names. */
  private async forget(c: Context): Promise<void> {
    for (const id of await this.sessionIds(c)) await this.deps.store.delete(this.storeKey(id));
  }

  /** Every correctly signed session id in the Cookie header, whatever its name or how often it occurs. */
  private async sessionIds(c: Context): Promise<string[]> {
    const header = c.req.header('cookie') ?? '';
    const ids: string[] = [];
    for (const pair of header.split(';')) {
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      if (at < 0 || !SESSION_COOKIE_NAMES.includes(name)) continue;
      const value = (await parseSigned(`${name}=${pair.slice(at + 1).trim()}`, this.deps.secret, name))[name];
      if (typeof value === 'string' && value !== '' && !ids.includes(value)) ids.push(value);
    }
    return ids;
  }

  private cookieName(): string {
    return this.deps.embedded ? EMBEDDED_SESSION_COOKIE : SESSION_COOKIE;
  }

  /** Expires the cookies of the other configurations, so the browser stops sending them. */
  private clearOtherCookies(c: Context): void {
    const other = this.deps.embedded ? SESSION_COOKIE : EMBEDDED_SESSION_COOKIE;
    const otherAttributes = this.deps.embedded ? PLAIN_COOKIE : EMBEDDED_COOKIE;
    setCookie(c, other, '', { ...otherAttributes, maxAge: 0 });
    setCookie(c, LEGACY_SESSION_COOKIE.name, '', { path: LEGACY_SESSION_COOKIE.path, httpOnly: true, secure: true, sameSite: 'Lax', maxAge: 0 });
  }

  /**
   * Secure even on http://127.0.0.1 (browsers treat loopback as a secure context). Framed by a
   * helpdesk on another site, the cookie must be SameSite=None, and Partitioned (CHIPS): browsers
   * that block third-party cookies still keep one per top-level site, so staff sign in once inside
   * the helpdesk and that session never leaves it.
   */
  private cookieAttributes() {
    return this.deps.embedded ? EMBEDDED_COOKIE : PLAIN_COOKIE;
  }
}

const PLAIN_COOKIE = { path: '/', httpOnly: true, secure: true, sameSite: 'Lax' } as const;
const EMBEDDED_COOKIE = { path: '/', httpOnly: true, secure: true, sameSite: 'None', partitioned: true } as const;

/** Constant-time comparison of two strings (CSRF tokens, bindings). */
export function equal(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
