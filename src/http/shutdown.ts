import type { ServerType } from '@hono/node-server';
import type { MiddlewareHandler } from 'hono';
import { flushLogs, type Logger } from '../log.js';

export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
/** How often idle keep-alive connections are swept while in-flight requests finish. */
const IDLE_SWEEP_MS = 50;

export interface GracefulShutdown {
  /** True from the moment shutdown begins: refuse new work. */
  isDraining(): boolean;
  /** Idempotent: every call returns the same promise, resolved once the server and resources are closed. */
  shutdown(signal?: string): Promise<void>;
}

export interface GracefulShutdownOptions {
  log: Logger;
  /** How long in-flight requests may take before their connections are cut. */
  timeoutMs?: number;
  /** Told once, when draining begins. */
  onDrain?: () => void;
  /** Runs after the server has closed (the store, for one). */
  closeResources?: () => Promise<void>;
}

// http2 servers have neither method; there, close() alone waits for sessions to end.
function closeIdleConnections(server: ServerType): void {
  if ('closeIdleConnections' in server) server.closeIdleConnections();
}
function closeAllConnections(server: ServerType): void {
  if ('closeAllConnections' in server) server.closeAllConnections();
}

/**
 * Stops a server without cutting anyone off: new connections are refused (the listener closes)
 * and new requests on open connections get 503 (see `refuseWhileDraining`), requests in flight
 * finish, idle keep-alive connections are closed, and whatever is still open after `timeoutMs`
 * is cut. Then the resources close.
 */
export function gracefulShutdown(server: ServerType, options: GracefulShutdownOptions): GracefulShutdown {
  const { log } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  let draining = false;
  let finished: Promise<void> | undefined;

  async function run(signal: string | undefined): Promise<void> {
    draining = true;
    log.info({ signal, timeoutMs }, 'shutting down: draining in-flight requests');
    options.onDrain?.();
    // The callback's error only says the server was not listening; closed is closed either way.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // A keep-alive connection becomes idle when its last response ends; close it then, not at the deadline.
    closeIdleConnections(server);
    const sweep = setInterval(() => closeIdleConnections(server), IDLE_SWEEP_MS);
    let deadline: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      closed.then(() => 'drained' as const),
      new Promise<'timed_out'>((resolve) => {
        deadline = setTimeout(() => resolve('timed_out'), timeoutMs);
      }),
    ]);
    clearInterval(sweep);
    clearTimeout(deadline);
    if (outcome === 'timed_out') {
      log.warn({ timeoutMs }, 'shutdown: requests still in flight at the deadline; closing their connections');
      closeAllConnections(server);
      if ('closeAllConnections' in server) await closed;
    }
    if (options.closeResources) {
      try {
        await options.closeResources();
      } catch (error) {
        log.error({ err: { message: error instanceof Error ? error.message : String(error) } }, 'shutdown: closing resources failed');
      }
    }
    log.info('stopped');
  }

  return {
    isDraining: () => draining,
    shutdown: (signal) => (finished ??= run(signal)),
  };
}

/**
 * 503 for requests that arrive while draining (on a connection that was already open), each
 * with `Connection: close` so clients reconnect elsewhere; a request in flight when draining
 * began also ends its keep-alive connection.
 */
export function refuseWhileDraining(isDraining: () => boolean): MiddlewareHandler {
  return async (c, next) => {
    if (isDraining()) {
      c.header('Connection', 'close');
      return c.json({ error: 'shutting_down', message: 'This server is shutting down; retry on another instance.' }, 503);
    }
    await next();
    if (isDraining()) c.header('Connection', 'close');
  };
}

/**
 * SIGTERM / SIGINT start the shutdown once and exit 0 when it is done (1 if it throws). The
 * handlers are `once`, so the same signal again gets Node's default (an immediate exit): the
 * operator's way to skip the drain. Returns a function that removes the handlers.
 */
export function installSignalHandlers(shutdown: (signal?: string) => Promise<void>, exit: (code: number) => void = (code) => process.exit(code)): () => void {
  const handlers = (['SIGTERM', 'SIGINT'] as const).map((signal) => {
    const handler = () => {
      // The last lines (a drain that timed out, records not written) are written before the exit.
      const exitAfterLogs = (code: number) => () => void flushLogs().catch(() => undefined).then(() => exit(code));
      shutdown(signal).then(exitAfterLogs(0), exitAfterLogs(1));
    };
    process.once(signal, handler);
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}
