/**
 * The email channel's confirmation page: `GET /confirm/{token}` shows what will happen, with
 * Confirm and Cancel; `POST /confirm/{token}` is the person's click. The token is the whole
 * proof, so the page is built to keep it: never cached (no-store), never framed, no referrer to
 * anyone else, no script and no request anywhere (one inline stylesheet, allowed by its hash), and
 * the URL is logged only as its route pattern. Reading the page uses nothing up (`peek`); the
 * click's compare-and-set in the engine is what makes a link single-use.
 *
 * The POST must also carry the page's anti-forgery token: an HMAC, under the link's own secret,
 * of a random nonce kept in a SameSite=Strict cookie. Another site's page cannot read the cookie or
 * make the browser send it, so it cannot post a click even if it learned the link. Origin and
 * Sec-Fetch-Site, where the browser sends them, must say the post came from this page's origin.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { getCookie, setCookie } from 'hono/cookie';
import { html } from 'hono/html';
import type { Child } from 'hono/jsx';
import { parseConfirmationToken } from '../actions/confirmation-secret.js';
import { kindWords, previewOf } from '../actions/confirmation-email.js';
import type { ActionsEngine } from '../actions/engine.js';
import type { ActionRequest } from '../actions/requests.js';
import type { Settings } from '../config.js';
import { ToolError } from '../errors.js';
import type { Store } from '../verify/store.js';
import { STORE_SHARES } from '../verify/store-quotas.js';
import { isSameHost, normalizeOrigin } from './origin-guard.js';
import { clientAddress } from './panel/sign-in-limits.js';
import { equal } from './panel/session.js';

/** A form of two short fields; anything much larger is not this page's. */
const CONFIRM_BODY_LIMIT = 8 * 1024;
/** Wrong or made-up links per client address per window, before the page stops looking them up. */
export const WRONG_LINKS_ALLOWED = 20;
const WRONG_LINK_WINDOW_MS = 15 * 60_000;
const NONCE = /^[A-Za-z0-9_-]{43}$/;
/** The anti-forgery cookie lives as long as a link can (15 minutes). */
const NONCE_MAX_AGE_S = 15 * 60;

const CONFIRM_CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1f36; background: #f6f8fa; overflow-wrap: anywhere; }
main { max-width: 520px; margin: 2rem auto; padding: 0 1rem; }
.card { background: #fff; border: 1px solid #e3e8ee; border-radius: 10px; padding: 1.25rem; }
h1 { font-size: 1.3rem; margin: 0 0 .75rem; }
p { margin: .5rem 0; }
.merchant { color: #5b6478; font-size: .875rem; margin: 0 0 .5rem; }
.summary { font-size: 1.1rem; font-weight: 600; }
.amount { white-space: nowrap; }
.notice { padding: .6rem .8rem; border-radius: 8px; background: #eef0ff; border: 1px solid #cfd3ff; }
.muted { color: #5b6478; font-size: .875rem; }
.actions { display: flex; gap: .75rem; flex-wrap: wrap; margin-top: 1rem; }
button { font: inherit; font-weight: 600; padding: .6rem 1.1rem; border-radius: 6px; cursor: pointer; border: 1px solid #533afd; }
.confirm { background: #533afd; color: #fff; }
.confirm:hover { background: #3d27d6; }
.cancel { background: #fff; color: #533afd; }
:focus-visible { outline: 3px solid #8f7dff; outline-offset: 2px; }
`;
const CSS_HASH = `'sha256-${createHash('sha256').update(CONFIRM_CSS).digest('base64')}'`;

/**
 * Nothing loads but the inline stylesheet (by its hash); the form posts only to this origin; no
 * frame may hold the page (clickjacking a Confirm button).
 */
const CSP = [`default-src 'none'`, `style-src ${CSS_HASH}`, `img-src data:`, `form-action 'self'`, `base-uri 'none'`, `frame-ancestors 'none'`].join('; ');

export interface ConfirmPageOptions {
  /** This merchant's engine (none: actions are off, and every link is not valid). */
  engine: () => ActionsEngine | undefined;
  /** Where wrong links are counted per client address (platform mode: one place for every merchant). */
  store: Store;
  settings: Pick<Settings, 'TRUST_PROXY' | 'PUBLIC_URL' | 'MERCHANT_NAME'>;
}

/** Wrong links per client address, counted in the shared store (as the panel counts sign-ins). */
class WrongLinkLimits {
  private readonly store: Store;
  constructor(store: Store) {
    this.store = store.ownedBy('anonymous', STORE_SHARES.anonymous);
  }
  private key(address: string): string {
    return `confirm-wrong-links:${address}`;
  }
  async isLocked(address: string): Promise<boolean> {
    return Number((await this.store.get(this.key(address))) ?? 0) >= WRONG_LINKS_ALLOWED;
  }
  async recordFailure(address: string): Promise<void> {
    await this.store.increment(this.key(address), WRONG_LINK_WINDOW_MS);
  }
}

/** The form's anti-forgery token: bound to this link (keyed by its secret) and to the browser's nonce cookie. */
function formToken(secret: string, nonce: string): string {
  return createHmac('sha256', secret).update(`sbm-confirm-form\n${nonce}`).digest('base64url');
}

/** One cookie per request, so two links open at once (a refund and a pause) do not replace each other's nonce. */
function nonceCookie(requestId: string): string {
  return `__Host-sbm_confirm_${requestId}`;
}

type Status = 200 | 400 | 403 | 404 | 410 | 413 | 429 | 503;

function Page(props: { title: string; merchant: string | undefined; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <link rel="icon" href="data:," />
        <title>{props.title}</title>
        <style dangerouslySetInnerHTML={{ __html: CONFIRM_CSS }} />
      </head>
      <body>
        <main>
          <section class="card" aria-labelledby="title">
            {props.merchant ? <p class="merchant">{props.merchant}</p> : null}
            {props.children}
          </section>
        </main>
      </body>
    </html>
  );
}

/** The words for a request that has moved on (done, canceled…), for the page and the POST's answer. */
function stateWords(request: ActionRequest): { title: string; lines: string[] } {
  const preview = previewOf(request);
  const what = kindWords(request.kind);
  switch (request.state) {
    case 'done':
      return { title: 'Done', lines: [doneWords(request), ...(preview.when ? [preview.when] : [])] };
    case 'awaiting_approval':
      return { title: 'Confirmed: waiting for approval', lines: [`Thank you. The merchant's team reviews this ${what} request before it is carried out; you will hear from them.`] };
    case 'executing':
      return { title: 'Confirmed: being carried out', lines: [`Your ${what} is being carried out now. Nothing more is needed from you.`] };
    case 'failed':
      return { title: 'It could not be carried out', lines: [request.failure_reason ?? `The ${what} could not be carried out. Nothing was changed; the merchant's support team can help.`] };
    case 'denied':
      return { title: 'Not approved', lines: [`The merchant's team did not approve this ${what} request. Their support team can tell you more.`] };
    case 'canceled':
      return { title: 'Canceled', lines: [`This ${what} request was canceled. Nothing was changed.`] };
    case 'expired':
      return { title: 'This link has expired', lines: [`Links last 15 minutes, and this one has run out. Nothing was changed. Ask again in the chat for a new link.`] };
    case 'awaiting_confirmation':
      return { title: 'Waiting for your confirmation', lines: [] };
  }
}

/** What Stripe did, in plain words. */
function doneWords(request: ActionRequest): string {
  const preview = previewOf(request);
  const amount = preview.amount ? ` of ${preview.amount}` : '';
  switch (request.kind) {
    case 'refund':
      return `Your refund${amount} has been issued.`;
    case 'credit':
      return `A credit${amount} has been added to your account: it lowers what your next invoices charge.`;
    case 'pause':
      return 'Your subscription is paused.';
    case 'resume':
      return 'Your subscription is active again.';
    case 'plan_change':
      return 'Your plan has been changed.';
    case 'retry_payment':
      return preview.amount ? `${preview.amount} has been paid on your invoice.` : 'Your invoice has been paid.';
  }
}

export function confirmRoutes(options: ConfirmPageOptions): Hono {
  const { settings } = options;
  const merchant = settings.MERCHANT_NAME ?? 'Billing';
  const limits = new WrongLinkLimits(options.store);
  const publicOrigin = settings.PUBLIC_URL ? normalizeOrigin(new URL(settings.PUBLIC_URL).origin) : undefined;
  const app = new Hono();

  /** `anonymous`: the not-valid page, the same on every merchant (and in platform mode, before one is known). */
  const page = (c: Context, status: Status, title: string, body: Child, anonymous = false) =>
    c.html(
      html`<!DOCTYPE html>${(
        <Page title={anonymous ? title : `${title} · ${merchant}`} merchant={anonymous ? undefined : merchant}>
          {body}
        </Page>
      )}`,
      status,
    );
  const message = (c: Context, status: Status, title: string, lines: string[], anonymous = false) =>
    page(
      c,
      status,
      title,
      <>
        <h1 id="title">{title}</h1>
        {lines.map((line) => (
          <p>{line}</p>
        ))}
      </>,
      anonymous,
    );
  // One answer for a made-up token, a wrong secret and another merchant's request: it tells nothing.
  const notValid = (c: Context) => message(c, 404, 'This link is not valid', ['Check that you opened the whole link from the email. If you asked for something in a chat, ask there again for a new link.'], true);
  const moved = (c: Context, request: ActionRequest) => {
    const words = stateWords(request);
    return message(c, request.state === 'expired' ? 410 : 200, words.title, words.lines);
  };

  // A full store (the wrong-link count) is busy, as everywhere: a page that says to retry, never a 500.
  app.onError((error, c) => {
    if (!(error instanceof ToolError && error.kind === 'busy')) throw error;
    c.header('Retry-After', '5');
    return message(c, 503, 'Busy', ['The server is busy right now. Nothing was changed. Try the link again in a minute.'], true);
  });
  app.use('*', async (c, next) => {
    await next();
    c.header('Cache-Control', 'no-store');
    c.header('Content-Security-Policy', CSP);
    c.header('X-Frame-Options', 'DENY');
    c.header('X-Content-Type-Options', 'nosniff');
    // Not no-referrer: with it Chrome sends `Origin: null` on the page's own form post (see
    // panel/csp.ts). same-origin still sends the URL (and its token) to no one else, and the page
    // loads nothing and links nowhere.
    c.header('Referrer-Policy', 'same-origin');
    c.header('Cross-Origin-Opener-Policy', 'same-origin');
    c.header('Cross-Origin-Resource-Policy', 'same-origin');
  });
  app.use('*', bodyLimit({ maxSize: CONFIRM_BODY_LIMIT, onError: (c) => message(c, 413, 'That form is too large', ['Go back to the link in the email and use its buttons.']) }));

  /** The request this link confirms, read without using it up; undefined for every kind of wrong link (counted). */
  async function resolve(c: Context): Promise<{ engine: ActionsEngine; request: ActionRequest; secret: string } | 'locked' | undefined> {
    const engine = options.engine();
    const address = clientAddress(c, settings.TRUST_PROXY);
    if (await limits.isLocked(address)) return 'locked';
    const parsed = parseConfirmationToken(c.req.param('token') ?? '');
    const request = parsed && engine ? await engine.requests.peek(parsed.requestId, parsed.secret) : undefined;
    // A customer's request of this merchant only: in platform mode every tenant's requests share one table.
    if (!parsed || !engine || !request || request.tenant_id !== engine.tenantId || request.principal !== 'customer') {
      await limits.recordFailure(address);
      return undefined;
    }
    return { engine, request, secret: parsed.secret };
  }
  const tooMany = (c: Context) => {
    c.header('Retry-After', String(WRONG_LINK_WINDOW_MS / 1000));
    return message(c, 429, 'Too many attempts', ['Too many links that are not valid came from your network. Wait a few minutes, then open the link from the email again.'], true);
  };

  const expiredNow = (engine: ActionsEngine, request: ActionRequest) =>
    request.state === 'awaiting_confirmation' && engine.requests.confirmationLapsed(request);

  app.get('/:token', async (c) => {
    const found = await resolve(c);
    if (found === 'locked') return tooMany(c);
    if (!found) return notValid(c);
    const { engine, request, secret } = found;
    if (expiredNow(engine, request)) return moved(c, { ...request, state: 'expired' });
    if (request.state !== 'awaiting_confirmation') return moved(c, request);

    // Kept when the browser still has it (a reload), so an open tab's form stays good.
    const cookie = nonceCookie(request.id);
    const held = getCookie(c, cookie);
    const nonce = held && NONCE.test(held) ? held : randomBytes(32).toString('base64url');
    setCookie(c, cookie, nonce, { path: '/', secure: true, httpOnly: true, sameSite: 'Strict', maxAge: NONCE_MAX_AGE_S });

    const preview = previewOf(request);
    const what = kindWords(request.kind);
    return page(
      c,
      200,
      `Confirm your ${what} request`,
      <>
        <h1 id="title">Confirm your {what} request</h1>
        <p class="summary">{preview.summary}</p>
        {preview.amount ? (
          <p>
            Amount: <span class="amount">{preview.amount}</span>
          </p>
        ) : null}
        {preview.when ? <p>{preview.when}</p> : null}
        {preview.approvalBecause.length > 0 ? <p class="notice">After you confirm, the merchant's team reviews it before it is carried out.</p> : null}
        <p class="muted">Nothing happens unless you confirm. If you did not ask for this, cancel it or close this page.</p>
        {/* No action: the form posts back to this very URL, so the token is not written into the page (and a proxy's path prefix in PUBLIC_URL is kept). */}
        <form method="post">
          <input type="hidden" name="csrf" value={formToken(secret, nonce)} />
          <div class="actions">
            <button class="confirm" type="submit" name="action" value="confirm">
              Confirm
            </button>
            <button class="cancel" type="submit" name="action" value="cancel">
              Cancel
            </button>
          </div>
        </form>
      </>,
    );
  });

  app.post('/:token', async (c) => {
    // A click from this page only: a browser says where a post came from, and another site's page is refused.
    const origin = c.req.header('origin');
    const fromHere = origin === undefined || isSameHost(origin, c.req.header('host')) || (publicOrigin !== undefined && normalizeOrigin(origin) === publicOrigin);
    const site = c.req.header('sec-fetch-site');
    if (!fromHere || (site !== undefined && site !== 'same-origin')) return message(c, 403, 'Refused', ['This confirmation can only be made from its own page. Open the link from the email and use its buttons.']);

    const type = (c.req.header('content-type') ?? '').toLowerCase();
    if (!type.startsWith('application/x-www-form-urlencoded') && !type.startsWith('multipart/form-data')) return badForm(c);
    let form: Record<string, unknown>;
    try {
      form = await c.req.parseBody();
    } catch {
      return badForm(c);
    }
    const action = form.action;
    // A missing anti-forgery token is a forged click (403 below), not a malformed form.
    const presented = typeof form.csrf === 'string' ? form.csrf : '';
    if (action !== 'confirm' && action !== 'cancel') return badForm(c);

    const found = await resolve(c);
    if (found === 'locked') return tooMany(c);
    if (!found) return notValid(c);
    const { engine, request, secret } = found;
    const nonce = getCookie(c, nonceCookie(request.id));
    if (!nonce || !NONCE.test(nonce) || !equal(presented, formToken(secret, nonce))) {
      return message(c, 403, 'This page is out of date', ['Nothing was changed. Open the link from the email again, then use its buttons.']);
    }

    if (action === 'cancel') {
      const result = await engine.cancelWithSecret(request.id, secret);
      if (result.outcome === 'invalid') return notValid(c);
      if (result.outcome === 'canceled') return moved(c, result.request);
      return alreadyUsed(c, result.request);
    }
    const result = await engine.confirm(request.id, secret, 'email', { by: 'customer' });
    if (result.outcome === 'invalid') return notValid(c);
    if (result.outcome === 'expired') return moved(c, result.request);
    if (result.outcome === 'already_decided') return alreadyUsed(c, result.request);
    return moved(c, result.request);
  });

  const badForm = (c: Context) => message(c, 400, 'That form could not be read', ['Nothing was changed. Open the link from the email again, then use its Confirm or Cancel button.']);
  const alreadyUsed = (c: Context, request: ActionRequest) => {
    const words = stateWords(request);
    if (request.state === 'expired') return message(c, 410, words.title, words.lines);
    return message(c, 200, 'This link was already used', [`It cannot be used again. Where the request stands: ${words.title.toLowerCase()}.`, ...words.lines]);
  };

  return app;
}
