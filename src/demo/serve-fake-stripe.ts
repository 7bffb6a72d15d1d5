import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import type { FakeStripe } from './fake-stripe/index.js';

/**
 * Serves the fake Stripe over HTTP on loopback (port 0 = any free port), for `npm run demo`
 * and tests that run the built CLI as a separate process.
 */
export async function serveFakeStripe(
  fake: FakeStripe,
  opts: { port?: number; hostname?: string } = {},
): Promise<{ url: string; close(): Promise<void> }> {
  const hostname = opts.hostname ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: fake.handle, port: opts.port ?? 0, hostname }, (info: AddressInfo) => {
      resolve({
        url: `http://${hostname}:${info.port}`,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((error?: Error) => (error ? fail(error) : done()));
            // Idle keep-alive sockets (the SDK keeps them) would otherwise hold close() open.
            if ('closeAllConnections' in server) server.closeAllConnections();
          }),
      });
    });
    server.once('error', reject);
  });
}
