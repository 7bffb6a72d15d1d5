import type { Context, MiddlewareHandler } from 'hono';
import { timeout } from 'hono/timeout';
import type { HttpCaller } from '../verify/request-principal.js';
import type { BearerKeys } from './auth.js';
import { bodyLimitFromHead } from './body-limit.js';

export type GuardedEnv = { Variables: { caller: HttpCaller } };

export interface GuardedApiOptions {
  keys: Pick<BearerKeys, 'authenticate'>;
  timeoutMs: number;
  maxBodyBytes: number;
  /** The answers to a body over the limit and to a request without a known key. */
  tooLarge: (c: Context) => Response | Promise<Response>;
  unauthorized: (c: Context) => Response | Promise<Response>;
}

/** Answers made with `noStoreJson`: marked already, so their headers stay a plain object. */
const markedNoStore = new WeakSet<Response>();

/**
 * A JSON answer that carries `Cache-Control: no-store` from the start. Its headers are a plain
 * object, which @hono/node-server writes as they are; marking an answer afterwards builds a web
 * Headers object for it (and the adapter then copies that back into Node's).
 */
export function noStoreJson(body: string, status = 200): Response {
  const response = new Response(body, { status, headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' } });
  markedNoStore.add(response);
  return response;
}

/**
 * What every API route (/mcp, /v1/*, /metrics) passes through, in this order: the request
 * timeout (hono's), the body limit, the bearer key (which sets `caller`), and on every answer
 * `Cache-Control: no-store`. One middleware rather than four: each Hono layer costs every request
 * a dispatch, a closure and a promise. (A timeout's 504 is answered by the app's onError, which
 * marks it too.)
 */
export function guardedApi(options: GuardedApiOptions): MiddlewareHandler<GuardedEnv> {
  const timed = timeout(options.timeoutMs);
  const limited = bodyLimitFromHead({ maxSize: options.maxBodyBytes, onError: options.tooLarge });
  return (c, next) =>
    timed(c, async () => {
      const refused = await limited(c, async () => {
        const caller = options.keys.authenticate(c.req.header('authorization'));
        if (!caller) {
          c.header('WWW-Authenticate', 'Bearer realm="stripe-billing-mcp"');
          c.res = await options.unauthorized(c);
          return;
        }
        c.set('caller', caller);
        await next();
      });
      if (refused) c.res = refused;
      // Answers carry one customer's billing data: no browser or proxy may keep a copy. Set on
      // the finished answer in place (c.header would now rebuild it), copying nothing.
      if (!markedNoStore.has(c.res)) c.res.headers.set('Cache-Control', 'no-store');
    });
}
