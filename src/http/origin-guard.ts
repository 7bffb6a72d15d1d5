import type { MiddlewareHandler } from 'hono';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** 127.0.0.0/8 as an IPv4 literal: a DNS name such as `127.0.0.1.attacker.example` is not loopback. */
const LOOPBACK_V4 = /^127\.(?:\d{1,3})\.(?:\d{1,3})\.(?:\d{1,3})$/;

function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || LOOPBACK_V4.test(host);
}

/** Origins as browsers send them: lower case, no trailing slash. */
export function normalizeOrigin(origin: string): string {
  return origin.replace(/\/$/, '').toLowerCase();
}

/** An Origin naming exactly the host:port this request was sent to: the server's own page. */
export function isSameHost(origin: string, host: string | undefined): boolean {
  return host !== undefined && URL.canParse(origin) && new URL(origin).host === host.toLowerCase();
}

/**
 * DNS-rebinding and cross-site protection (MCP transport security): a browser Origin must be
 * allowlisted (ALLOWED_ORIGINS), and a server bound to loopback answers only loopback Host
 * names, so a web page cannot reach it through a hostile DNS name.
 */
export function originGuard(options: { allowedOrigins: readonly string[]; panelOrigins?: readonly string[]; bindHost: string }): MiddlewareHandler {
  const allowed = new Set(options.allowedOrigins.map(normalizeOrigin));
  const panel = new Set((options.panelOrigins ?? []).map(normalizeOrigin));
  const loopbackOnly = isLoopback(options.bindHost);
  return async (c, next) => {
    const origin = c.req.header('origin');
    // The panel's own pages post back to the host that served them; only under /panel, where
    // requests carry the panel's cookie (the API takes bearer keys and keeps the allowlist).
    const ownPage = c.req.path.startsWith('/panel/') && origin !== undefined && (isSameHost(origin, c.req.header('host')) || panel.has(normalizeOrigin(origin)));
    // The emailed confirmation page checks its own posts' Origin and Sec-Fetch-Site (it answers a
    // page, not JSON) and is never read cross-origin: no allowlist, no CORS headers.
    const confirmPage = c.req.path.startsWith('/confirm/');
    if (origin !== undefined && !allowed.has(origin.toLowerCase()) && !ownPage && !confirmPage) {
      return c.json({ error: 'forbidden_origin', message: 'This Origin is not allowed. Add it to ALLOWED_ORIGINS.' }, 403);
    }
    if (loopbackOnly) {
      const host = (c.req.header('host') ?? '').toLowerCase().replace(/:\d+$/, '');
      if (!isLoopback(host)) return c.json({ error: 'forbidden_host', message: 'This server only answers loopback Host names.' }, 403);
    }
    if (origin !== undefined && !confirmPage) {
      c.header('Access-Control-Allow-Origin', origin);
      c.header('Vary', 'Origin');
    }
    if (c.req.method === 'OPTIONS' && origin !== undefined && !confirmPage) {
      c.header('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
      c.header('Access-Control-Allow-Headers', 'Authorization, Content-Type, Accept, X-Customer-Token, X-Conversation-Id, Mcp-Protocol-Version');
      c.header('Access-Control-Max-Age', '600');
      return c.body(null, 204);
    }
    await next();
  };
}
