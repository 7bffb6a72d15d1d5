import { startRetention } from '../audit/retention.js';
import { serve, type Http2Bindings, type HttpBindings } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Settings } from '../config.js';
import type { Logger } from '../log.js';
import type { ToolRuntime } from '../tools/lib/context.js';
import type { AnyToolDefinition } from '../tools/lib/define-tool.js';
import type { IdentityTokenVerifier } from '../verify/identity-token.js';
import { createHttpApp, REQUEST_TIMEOUT_MS } from './app.js';
import { CallLimits } from './call-limits.js';
import { ClientConnections, MAX_CONNECTIONS } from './client-connections.js';
import { Metrics } from './metrics.js';
import { gracefulShutdown } from './shutdown.js';
import { bindError } from './bind-error.js';

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

/**
 * A request head may take this much longer than an idle keep-alive connection is kept. Some Node
 * versions counted the head's time from the previous request on a kept-alive connection, so a
 * shorter head timeout closed connections a load balancer was about to reuse (nodejs/node#27363);
 * the usual remedy, kept here, is a head timeout above the keep-alive timeout.
 */
const HEADERS_AFTER_KEEP_ALIVE_MS = 1_000;

export async function startHttpServer(options: {
  settings: Settings;
  runtime: ToolRuntime;
  tools: readonly AnyToolDefinition[];
  verifier: IdentityTokenVerifier | undefined;
  requestTimeoutMs?: number | undefined;
  headersTimeoutMs?: number | undefined;
  /** Open connections the whole server takes (MAX_CONNECTIONS; tests lower it). */
  maxConnections?: number | undefined;
}): Promise<RunningHttpServer> {
  const metrics = new Metrics();
  metrics.attachStripe(options.runtime.stripe);
  options.runtime.reads.cache.observe = (outcome) => metrics.observeCacheRead(outcome);
  const runtime: ToolRuntime = { ...options.runtime, observe: (event) => metrics.observeToolCall(event) };
  // Bound after listen; the app only asks once requests arrive.
  let isDraining: () => boolean = () => false;
  options.runtime.budget.onRateLimited((event) => metrics.observeStripeRateLimit(event));
  if (options.runtime.verification?.mode === 'code') options.runtime.verification.codes.onLock(() => metrics.observeVerificationLock());
  const audit = options.runtime.audit;
  if (audit) metrics.attachAudit(audit);
  const stopRetention = audit ? startRetention(audit, options.settings.AUDIT_RETENTION_DAYS, options.runtime.log) : undefined;
  // Expires unconfirmed action requests and resumes executions whose Stripe answer went missing.
  options.runtime.actions?.start();
  const callLimits = new CallLimits(options.settings);
  const app = createHttpApp({ ...options, runtime, metrics, callLimits, isDraining: () => isDraining() });
  const bound = await listen(app, {
    settings: options.settings,
    log: options.runtime.log,
    requestTimeoutMs: options.requestTimeoutMs,
    headersTimeoutMs: options.headersTimeoutMs,
    maxConnections: options.maxConnections,
    metrics,
    closeResources: async () => {
      stopRetention?.();
      options.runtime.availability?.stop();
      // A sweep in flight finishes first: its records go to the trail closed below.
      await options.runtime.actions?.close();
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
 * Binds an app on HOST:PORT with the server's protections (at most 2048 connections, at most
 * MAX_CONNECTIONS_PER_CLIENT of them per client, a head within KEEP_ALIVE_SECONDS + 1 s, a bound
 * on request time), idle keep-alive connections kept KEEP_ALIVE_SECONDS, and a graceful stop that
 * ends with `closeResources`.
 */
export function listen(
  app: { fetch: (request: Request, env: HttpBindings | Http2Bindings) => Response | Promise<Response> },
  options: {
    settings: Settings;
    log: Logger;
    requestTimeoutMs?: number | undefined;
    headersTimeoutMs?: number | undefined;
    maxConnections?: number | undefined;
    metrics?: Metrics | undefined;
    closeResources: () => Promise<void>;
  },
): Promise<BoundServer> {
  const { settings } = options;
  const hostname = settings.HOST;
  // Longer than the idle timeout of the load balancer in front (60 s for most), so that it, not
  // this server, closes an idle connection: otherwise it may reuse one as this server closes it.
  const keepAliveTimeout = settings.KEEP_ALIVE_SECONDS * 1000;
  // A client dripping its head holds a socket until this passes (checked every second, not every
  // 30 s); MAX_CONNECTIONS_PER_CLIENT bounds how many sockets one address can hold meanwhile.
  const headersTimeout = options.headersTimeoutMs ?? keepAliveTimeout + HEADERS_AFTER_KEEP_ALIVE_MS;
  const connections = new ClientConnections({
    maxPerClient: settings.MAX_CONNECTIONS_PER_CLIENT,
    trustedProxies: settings.TRUST_PROXY,
    log: options.log,
    onRefused: (scope) => options.metrics?.observeConnectionRefused(scope),
  });
  return new Promise((resolve, reject) => {
    const serverOptions = {
      headersTimeout,
      // Node requires the whole request's bound to be at least the head's.
      requestTimeout: Math.max(headersTimeout, (options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS) + 5_000),
      connectionsCheckingInterval: Math.min(1_000, headersTimeout),
    };
    const server = serve({ fetch: connections.gate(app.fetch), port: settings.PORT, hostname, serverOptions }, (info: AddressInfo) => {
      const host = hostname.includes(':') ? `[${hostname}]` : hostname;
      resolve({ url: `http://${host}:${info.port}`, server, isDraining: stopping.isDraining, close: () => stopping.shutdown() });
    }) as Server;
    server.keepAliveTimeout = keepAliveTimeout;
    const stopping = gracefulShutdown(server, { log: options.log, closeResources: options.closeResources });
    server.maxConnections = options.maxConnections ?? MAX_CONNECTIONS;
    connections.watch(server);
    // Before the server listens, an error is a failed bind (port taken): release what was opened, then say which setting to change.
    server.once('error', (error) => {
      if (server.listening) return reject(error);
      void options.closeResources().catch(() => undefined).finally(() => reject(bindError(error, hostname, settings.PORT)));
    });
  });
}
