import type { MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { normalizeOrigin } from '../origin-guard.js';

/** PANEL_FRAME_ANCESTORS as browsers send origins. */
export function frameAncestorOrigins(setting: readonly string[]): string[] {
  return setting.map(normalizeOrigin);
}

/**
 * The panel's headers: scripts and styles only from its own served files (no inline script at
 * all, so no nonce is needed), nothing else loaded, forms post only to itself, and framing only
 * by the helpdesks PANEL_FRAME_ANCESTORS names.
 */
export function panelSecurityHeaders(frameAncestors: readonly string[]): MiddlewareHandler {
  return secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      formAction: ["'self'"],
      baseUri: ["'none'"],
      frameAncestors: ["'self'", ...frameAncestors],
    },
    // frame-ancestors decides framing; the legacy header cannot name other origins.
    xFrameOptions: frameAncestors.length === 0 ? 'SAMEORIGIN' : false,
    // same-origin, not no-referrer: with no-referrer Chrome sends `Origin: null` on the panel's own form posts.
    referrerPolicy: 'same-origin',
    // A helpdesk opening the panel in a popup or frame keeps its window reference.
    crossOriginOpenerPolicy: frameAncestors.length === 0 ? 'same-origin' : false,
    permissionsPolicy: { camera: [], microphone: [], geolocation: [] },
  });
}
