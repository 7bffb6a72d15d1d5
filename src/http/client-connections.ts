/**
 * A fair share of the server's connections per client address (MAX_CONNECTIONS_PER_CLIENT), so
 * that one address cannot hold them all: 2,100 sockets from one address, each sending part of a
 * request head and reconnecting when closed, once made a third of the health checks fail.
 *
 * - Direct clients (TRUST_PROXY=0) are counted per peer address at the socket, before a byte is
 *   read: a socket beyond the share is closed at once, whatever it would have sent.
 * - Behind TRUST_PROXY proxies every socket is a proxy's, and the proxy buffers request heads, so
 *   sockets are not capped per peer; each forwarded client's requests in flight are counted
 *   instead, and one beyond its share is answered 503 with `Connection: close`.
 *
 * An IPv6 client is counted per /64, the block one subscriber is usually given.
 */
import type { Http2Bindings, HttpBindings } from '@hono/node-server';
import type { Server } from 'node:http';
import { isIPv6, type Socket } from 'node:net';
import type { Logger } from '../log.js';

/** Beyond this many open sockets the server refuses new connections, so a flood cannot exhaust the process. */
export const MAX_CONNECTIONS = 2_048;

export type RefusalScope = 'socket' | 'forwarded' | 'server';

export interface ClientConnectionOptions {
  maxPerClient: number;
  /** TRUST_PROXY: how many proxies in front of the server add themselves to X-Forwarded-For. */
  trustedProxies: number;
  log: Logger;
  /** Told of every refusal (metrics). */
  onRefused?: ((scope: RefusalScope) => void) | undefined;
}

type Fetch = (request: Request, env: HttpBindings | Http2Bindings) => Response | Promise<Response>;

/** Refusals are logged at most this often, with how many there were since the last line. */
const LOG_EVERY_MS = 10_000;

/**
 * The client behind the connection: the address the outermost trusted proxy saw (X-Forwarded-For
 * counted from the right; entries further left are whatever the client wrote), else the peer.
 */
export function forwardedClientAddress(forwardedFor: string | null | undefined, peer: string | undefined, trustedProxies: number): string {
  if (trustedProxies > 0) {
    const forwarded = (forwardedFor ?? '').split(',').map((entry) => entry.trim()).filter(Boolean);
    const client = forwarded[forwarded.length - trustedProxies];
    if (client) return client;
  }
  return peer ?? 'unknown';
}

/** The key one client is counted under: IPv4 as is (also when IPv4-mapped), IPv6 by its /64. */
export function clientKey(address: string): string {
  const plain = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '').replace(/%.*$/, '');
  if (!isIPv6(plain)) return plain;
  const [head = '', tail] = plain.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((group) => parseInt(group, 16).toString(16)).join(':')}::/64`;
}

export class ClientConnections {
  private readonly open = new Map<string, number>();
  private refusedSinceLog = 0;
  private loggedAt = 0;

  constructor(private readonly options: ClientConnectionOptions) {}

  /** Counts sockets per peer on `server` (direct clients only), and the server's own drops beyond its total. */
  watch(server: Server): void {
    server.on('drop', () => this.refused('server', undefined));
    if (this.options.trustedProxies > 0) return;
    server.on('connection', (socket: Socket) => {
      const client = clientKey(socket.remoteAddress ?? 'unknown');
      if (!this.take(client)) {
        socket.destroy();
        this.refused('socket', client);
        return;
      }
      socket.once('close', () => this.release(client));
    });
  }

  /** The app's fetch, with each forwarded client's requests in flight counted (behind TRUST_PROXY only). */
  gate(fetch: Fetch): Fetch {
    const { trustedProxies } = this.options;
    if (trustedProxies === 0) return fetch;
    return (request, env) => {
      const client = clientKey(forwardedClientAddress(request.headers.get('x-forwarded-for'), env.incoming.socket.remoteAddress, trustedProxies));
      if (!this.take(client)) {
        this.refused('forwarded', client);
        return Response.json(
          { error: 'too_many_connections', message: 'Too many open requests from this address. Try again in a moment.' },
          { status: 503, headers: { connection: 'close', 'retry-after': '1', 'cache-control': 'no-store' } },
        );
      }
      env.outgoing.once('close', () => this.release(client));
      return fetch(request, env);
    };
  }

  private take(client: string): boolean {
    const count = this.open.get(client) ?? 0;
    if (count >= this.options.maxPerClient) return false;
    this.open.set(client, count + 1);
    return true;
  }

  private release(client: string): void {
    const count = (this.open.get(client) ?? 1) - 1;
    if (count <= 0) this.open.delete(client);
    else this.open.set(client, count);
  }

  private refused(scope: RefusalScope, client: string | undefined): void {
    this.options.onRefused?.(scope);
    this.refusedSinceLog++;
    const now = Date.now();
    if (now - this.loggedAt < LOG_EVERY_MS) return;
    this.options.log.warn(
      { scope, client, refused: this.refusedSinceLog, maxPerClient: this.options.maxPerClient },
      scope === 'server' ? 'connections refused: the server holds as many connections as it takes' : 'connections refused: a client is over MAX_CONNECTIONS_PER_CLIENT',
    );
    this.refusedSinceLog = 0;
    this.loggedAt = now;
  }
}
