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

/**
 * What every API route (/mcp, /v1/*, /metrics) passes through, in this order: the request
 * timeout (hono's), `Cache-Control: no-store`, the body limit, then the bearer key, which sets
 * `caller`. One middleware rather than four: each Hono layer costs every request a dispatch, a
 * closure and a promise.
 */
export function guardedApi(options: GuardedApiOptions): MiddlewareHandler<GuardedEnv> {
  const timed = timeout(options.timeoutMs);
  const limited = bodyLimitFromHead({ maxSize: options.maxBodyBytes, onError: options.tooLarge });
  return (c, next) =>
    timed(c, async () => {
      // Answers carry one customer's billing data: no browser or proxy may keep a copy. Set
      // before the answer exists: set after `next()`, Hono rebuilds the finished response to add it.
      c.header('Cache-Control', 'no-store');
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
      // An answer a handler built itself (the MCP transport's) skipped the prepared header: set it in place, copying nothing.
      if (c.res.headers.get('cache-control') !== 'no-store') c.res.headers.set('Cache-Control', 'no-store');
    });
}
