import { Hono } from 'hono';
import type { ToolRuntime } from '../tools/lib/context.js';

const READY_CACHE_MS = 10_000;
const PROBE_TIMEOUT_MS = 3_000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())]);
}

/**
 * `/healthz`: the process is up (503 while draining). `/readyz`: Stripe answers this key and the
 * store answers, checked at most every 10 s so probes never hammer Stripe. Neither says why in
 * Stripe's words: the log has the detail.
 */
export function healthRoutes(deps: { runtime: ToolRuntime; isDraining: () => boolean }): Hono {
  const app = new Hono();
  let cached: { at: number; stripe: 'ok' | 'unreachable'; store: 'ok' | 'unreachable' } | undefined;

  app.get('/healthz', (c) => (deps.isDraining() ? c.json({ status: 'draining' }, 503) : c.json({ status: 'ok' })));

  app.get('/readyz', async (c) => {
    if (!cached || Date.now() - cached.at > READY_CACHE_MS) {
      const [stripe, store] = await Promise.all([
        withTimeout(deps.runtime.stripe.customers.list({ limit: 1 }), PROBE_TIMEOUT_MS).then(
          () => 'ok' as const,
          (error: unknown) => {
            deps.runtime.log.warn({ err: { message: error instanceof Error ? error.message : String(error) } }, 'readiness: Stripe probe failed');
            return 'unreachable' as const;
          },
        ),
        withTimeout(deps.runtime.store.ping(), PROBE_TIMEOUT_MS).then(
          (ok) => (ok ? ('ok' as const) : ('unreachable' as const)),
          () => 'unreachable' as const,
        ),
      ]);
      cached = { at: Date.now(), stripe, store };
    }
    const ready = !deps.isDraining() && cached.stripe === 'ok' && cached.store === 'ok';
    return c.json({ status: ready ? 'ready' : 'not_ready', stripe: cached.stripe, store: cached.store, draining: deps.isDraining() }, ready ? 200 : 503);
  });
  return app;
}
