import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Settings } from '../config.js';
import type { ToolRuntime } from '../tools/lib/context.js';
import type { AnyToolDefinition } from '../tools/lib/define-tool.js';
import type { IdentityTokenVerifier } from '../verify/identity-token.js';
import { createHttpApp } from './app.js';

export interface RunningHttpServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Binds the HTTP app on HOST:PORT (127.0.0.1 unless HOST says otherwise). */
export async function startHttpServer(options: {
  settings: Settings;
  runtime: ToolRuntime;
  tools: readonly AnyToolDefinition[];
  verifier: IdentityTokenVerifier | undefined;
}): Promise<RunningHttpServer> {
  const app = createHttpApp(options);
  const hostname = options.settings.HOST;
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: options.settings.PORT, hostname }, (info: AddressInfo) => {
      const host = hostname.includes(':') ? `[${hostname}]` : hostname;
      resolve({
        url: `http://${host}:${info.port}`,
        server: server as Server,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            if ('closeIdleConnections' in server) server.closeIdleConnections();
          }),
      });
    }) as Server;
    server.once('error', reject);
  });
}
