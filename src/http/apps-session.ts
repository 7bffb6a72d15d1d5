import { randomBytes } from 'node:crypto';
import { declaresApps } from '../apps/billing-card.js';

/**
 * Stateless /mcp answers each request with a fresh server, so only the `initialize` request says
 * whether the client renders MCP Apps cards. A client that declares the extension gets an
 * `Mcp-Session-Id` marking it, which Streamable HTTP clients send with every later request; the
 * server keeps no session (any process behind a load balancer reads the mark). The mark only
 * decides what is listed — the card's buttons get their authority from the secrets each card is
 * handed, never from this header — so a client that forged it would see three more tools and
 * still could change nothing. Clients that do not declare Apps get no session id, as before.
 */
const MARK = 'sbm-apps-1.';

/** The session id to answer an `initialize` (the request's parsed body) that declares the Apps extension with; else undefined. */
export function appsSessionFor(message: unknown): string | undefined {
  const { method, params } = (message ?? {}) as { method?: unknown; params?: { capabilities?: { extensions?: Record<string, unknown> } } };
  if (method !== 'initialize' || !declaresApps(params?.capabilities)) return undefined;
  return MARK + randomBytes(16).toString('base64url');
}

/** Whether a later request comes from a client that declared the Apps extension at initialize. */
export function isAppsSession(sessionId: string | undefined): boolean {
  return sessionId !== undefined && sessionId.startsWith(MARK) && sessionId.length <= 64;
}
