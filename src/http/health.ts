import { Hono } from 'hono';
import type { ToolRuntime } from '../tools/lib/context.js';

const READY_CACHE_MS = 10_000;
const PROBE_TIMEOUT_MS = 3_000;

type PartState = 'ok' | 'unreachable';
interface Readiness {
  at: number;
  stripe: PartState;
  store: PartState;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<T>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms);
    timer.unref();
  });
  return Promise.race([promise, timedOut]).finally(() => clearTimeout(timer));
}

async function probe(runtime: ToolRuntime): Promise<Readiness> {
  const [stripe, store] = await Promise.all([
    // The cheapest read a restricted key with customer read can make.
    withTimeout(runtime.stripe.customers.list({ limit: 1 }), PROBE_TIMEOUT_MS).then(
      () => 'ok' as const,
      (error: unknown) => {
        const type = (error as { type?: unknown })?.type;
        runtime.log.warn({ err: { type: typeof type === 'string' ? type : undefined, message: error instanceof Error ? error.message : String(error) } }, 'readiness: Stripe probe failed');
        return 'unreachable' as const;
      },
    ),
    withTimeout(runtime.store.ping(), PROBE_TIMEOUT_MS).then(
      (ok) => (ok ? ('ok' as const) : ('unreachable' as const)),
      () => 'unreachable' as const,
    ),
  ]);
  return { at: Date.now(), stripe, store };
}

/**
 * `/healthz`: the process is up (503 while draining). `/readyz`: Stripe answers this key and the
 * store answers, checked at most every 10 s (concurrent probes share one check) so probes never
 * hammer Stripe. Neither says why in Stripe's words: the log has the detail.
 */
export function healthRoutes(deps: { runtime: ToolRuntime; isDraining: () => boolean }): Hono {
  const app = new Hono();
  let cached: Readiness | undefined;
  let checking: Promise<Readiness> | undefined;

  const readiness = (): Promise<Readiness> => {
    if (cached && Date.now() - cached.at <= READY_CACHE_MS) return Promise.resolve(cached);
    checking ??= probe(deps.runtime).then((result) => {
      cached = result;
      checking = undefined;
      return result;
    });
    return checking;
  };

  app.get('/healthz', (c) => (deps.isDraining() ? c.json({ status: 'draining' }, 503) : c.json({ status: 'ok' })));

  app.get('/readyz', async (c) => {
    const { stripe, store } = await readiness();
    const draining = deps.isDraining();
    // The trail's state is live (no probe): behind means records wait for the database.
    const trail = deps.runtime.audit?.status();
    const audit = trail ? { state: trail.state, pending: trail.pending, lost: trail.lost, ...(trail.problem ? { problem: trail.problem } : {}) } : undefined;
    // Only a fail-closed trail makes the server unready: otherwise calls still answer and records wait.
    const ready = !draining && stripe === 'ok' && store === 'ok' && !(trail?.required && trail.state === 'behind');
    return c.json({ status: ready ? 'ready' : 'not_ready', stripe, store, ...(audit ? { audit } : {}), draining }, ready ? 200 : 503);
  });
  return app;
}
