/**
 * Staff sessions of the insight panel: a random id in a signed, HttpOnly cookie; the session
 * itself lives server-side in the runtime's Store (memory or Redis), so several processes share
 * it and sign-out really ends it.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';
import type { Settings } from '../../config.js';
import type { Store } from '../../verify/store.js';
import type { BearerKeys } from '../auth.js';

export const SESSION_COOKIE = 'sbm_panel';
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
    await setSignedCookie(c, SESSION_COOKIE, id, this.deps.secret, { ...this.cookieAttributes(), maxAge: Math.floor(SESSION_TTL_MS / 1000) });
    return { staff, csrf: session.csrf };
  }

  /** The request's live session; a session whose staff key was removed or changed is ended here. */
  async current(c: Context): Promise<PanelSession | undefined> {
    const id = await getSignedCookie(c, this.deps.secret, SESSION_COOKIE);
    if (typeof id !== 'string' || id === '') return undefined;
    const raw = await this.deps.store.get(this.storeKey(id));
    if (!raw) return undefined;
    const stored = JSON.parse(raw) as StoredSession;
    const binding = this.binding(stored.staff);
    if (!binding || !equal(binding, stored.binding)) {
      await this.deps.store.delete(this.storeKey(id));
      return undefined;
    }
    return { staff: stored.staff, csrf: stored.csrf };
  }

  async close(c: Context): Promise<void> {
    await this.forget(c);
    deleteCookie(c, SESSION_COOKIE, this.cookieAttributes());
  }

  /** Ends the server side of the request's session, if any. */
  private async forget(c: Context): Promise<void> {
    const id = await getSignedCookie(c, this.deps.secret, SESSION_COOKIE);
    if (typeof id === 'string' && id !== '') await this.deps.store.delete(this.storeKey(id));
  }

  /**
   * Secure even on http://127.0.0.1 (browsers treat loopback as a secure context). Framed by a
   * helpdesk on another site, the cookie must be SameSite=None, and Partitioned (CHIPS): browsers
   * that block third-party cookies still keep one per top-level site, so staff sign in once inside
   * the helpdesk and that session never leaves it.
   */
  private cookieAttributes() {
    return this.deps.embedded
      ? ({ path: '/panel', httpOnly: true, secure: true, sameSite: 'None', partitioned: true } as const)
      : ({ path: '/panel', httpOnly: true, secure: true, sameSite: 'Lax' } as const);
  }
}

/** Constant-time comparison of two strings (CSRF tokens, bindings). */
export function equal(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
