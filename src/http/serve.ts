import { startRetention } from '../audit/retention.js';
import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Settings } from '../config.js';
import type { Logger } from '../log.js';
import type { ToolRuntime } from '../tools/lib/context.js';
import type { AnyToolDefinition } from '../tools/lib/define-tool.js';
import type { IdentityTokenVerifier } from '../verify/identity-token.js';
import { createHttpApp, REQUEST_TIMEOUT_MS } from './app.js';
import { CallLimits } from './call-limits.js';
import { Metrics } from './metrics.js';
import { gracefulShutdown } from './shutdown.js';

export interface RunningHttpServer {
  url: string;
  server: Server;
  metrics: Metrics;
  /**
   * Graceful stop: new requests get 503, in-flight ones finish (up to 10 s), then the listener
   * and the store close. Idempotent.
   */
  close(): Promise<void>;
}

/** Binds the HTTP app on HOST:PORT (127.0.0.1 unless HOST says otherwise). */
const HEADERS_TIMEOUT_MS = 10_000;
/** Beyond this many open sockets new connections are refused, so a slow-client flood cannot exhaust the process. */
const MAX_CONNECTIONS = 2_048;

export async function startHttpServer(options: {
  settings: Settings;
  runtime: ToolRuntime;
  tools: readonly AnyToolDefinition[];
  verifier: IdentityTokenVerifier | undefined;
  requestTimeoutMs?: number | undefined;
  headersTimeoutMs?: number | undefined;
}): Promise<RunningHttpServer> {
  const metrics = new Metrics();
  metrics.attachStripe(options.runtime.stripe);
  options.runtime.reads.cache.observe = (outcome) => metrics.observeCacheRead(outcome);
  const runtime: ToolRuntime = { ...options.runtime, observe: (event) => metrics.observeToolCall(event) };
  // Bound after listen; the app only asks once requests arrive.
  let isDraining: () => boolean = () => false;
  options.runtime.budget.onRateLimited((event) => metrics.observeStripeRateLimit(event));
  const audit = options.runtime.audit;
  if (audit) metrics.attachAudit(audit);
  const stopRetention = audit ? startRetention(audit, options.settings.AUDIT_RETENTION_DAYS, options.runtime.log) : undefined;
  const callLimits = new CallLimits(options.settings);
  const app = createHttpApp({ ...options, runtime, metrics, callLimits, isDraining: () => isDraining() });
  const bound = await listen(app, {
    settings: options.settings,
    log: options.runtime.log,
    requestTimeoutMs: options.requestTimeoutMs,
    headersTimeoutMs: options.headersTimeoutMs,
    closeResources: async () => {
      stopRetention?.();
      options.runtime.availability?.stop();
      // The trail closes last among equals: it writes what the drained requests recorded.
      await Promise.all([options.runtime.store.close(), options.runtime.reads.close(), options.runtime.budget.close(), callLimits.close(), audit?.close()]);
    },
  });
  isDraining = bound.isDraining;
  return { ...bound, metrics };
}

export interface BoundServer {
  url: string;
  server: Server;
  isDraining: () => boolean;
  close(): Promise<void>;
}

/**
 * Binds an app on HOST:PORT with the server's protections (a head within 10 s, a bound on request
 * time, at most 2048 connections) and a graceful stop that ends with `closeResources`.
 */
export function listen(
  app: { fetch: (request: Request) => Response | Promise<Response> },
  options: { settings: Settings; log: Logger; requestTimeoutMs?: number | undefined; headersTimeoutMs?: number | undefined; closeResources: () => Promise<void> },
): Promise<BoundServer> {
  const hostname = options.settings.HOST;
  return new Promise((resolve, reject) => {
    // A client dripping its headers cannot hold a socket: the whole head must arrive within 10 s,
    // and checks run every second instead of Node's default 30 s.
    const headersTimeout = options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS;
    const serverOptions = {
      headersTimeout,
      requestTimeout: Math.max(headersTimeout, (options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS) + 5_000),
      connectionsCheckingInterval: Math.min(1_000, headersTimeout),
    };
    const server = serve({ fetch: app.fetch, port: options.settings.PORT, hostname, serverOptions }, (info: AddressInfo) => {
      const host = hostname.includes(':') ? `[${hostname}]` : hostname;
      resolve({ url: `http://${host}:${info.port}`, server, isDraining: stopping.isDraining, close: () => stopping.shutdown() });
    }) as Server;
    const stopping = gracefulShutdown(server, { log: options.log, closeResources: options.closeResources });
    server.maxConnections = MAX_CONNECTIONS;
    server.once('error', reject);
  });
}
