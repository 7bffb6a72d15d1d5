/**
 * Connections as a load balancer and an attacker use them: one address flooding the server with
 * sockets that never finish their request head must not take the health checks down with it, and
 * an idle keep-alive connection must outlive a load balancer's idle timeout.
 */
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSettings } from '../src/config.js';
import { clientKey, forwardedClientAddress } from '../src/http/client-connections.js';
import { startPlatform } from '../src/platform/serve-platform.js';
import { tempDirAfterAll } from './support/audit.js';
import { STAFF, startHttpFixture, type HttpFixture } from './support/http-harness.js';
import { testMailer, testSettings } from './support/mcp-harness.js';

const fixtures: HttpFixture[] = [];
const sockets = new Set<Socket>();
afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await Promise.all(fixtures.splice(0).map((fx) => fx.close()));
});

async function start(...args: Parameters<typeof startHttpFixture>): Promise<HttpFixture> {
  const fx = await startHttpFixture(...args);
  fixtures.push(fx);
  return fx;
}

const portOf = (url: string) => Number(new URL(url).port);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One GET on a connection of its own (as a load balancer's or Kubernetes' probe), from `from`. */
function probe(port: number, path: string, options: { from?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined> } | { error: string }> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false, localAddress: options.from ?? '127.0.0.1', headers: options.headers ?? {}, timeout: 2_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    req.end();
  });
}

/**
 * The attack the soak found: sockets from one address that send part of a request head and wait;
 * whenever the server closes one, it reconnects. `sockets` of them at once, until stopped.
 */
function slowHeadFlood(port: number, from: string, count: number) {
  let running = true;
  let opened = 0;
  let settledFirstRound = 0;
  const open = (first: boolean) => {
    if (!running) return;
    opened++;
    const socket = connect({ port, host: '127.0.0.1', localAddress: from });
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('connect', () => socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: '));
    let settled = false;
    const settle = () => {
      if (first && !settled) settledFirstRound++;
      settled = true;
    };
    socket.on('connect', () => setTimeout(settle, 50));
    socket.on('close', () => {
      settle();
      sockets.delete(socket);
      // Reconnect, as the attacker did, with a little jitter so the loop cannot spin.
      setTimeout(() => open(false), 400 + Math.random() * 200);
    });
  };
  for (let i = 0; i < count; i++) open(true);
  return {
    /** Every socket of the first wave has connected or been closed. */
    saturated: () => settledFirstRound >= count,
    opened: () => opened,
    stop: () => {
      running = false;
    },
  };
}

const statusOf = (answer: Awaited<ReturnType<typeof probe>>) => ('status' in answer ? answer.status : 0);

async function metric(fx: HttpFixture, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${fx.url}/metrics`, { headers: { authorization: `Bearer ${STAFF}` } })).text();
  return Number(pattern.exec(text)?.[1] ?? 0);
}

describe('connections per client address (MAX_CONNECTIONS_PER_CLIENT)', () => {
  it('defaults to 256, a fair part of the 2048 connections the server takes', () => {
    expect(loadSettings({}).MAX_CONNECTIONS_PER_CLIENT).toBe(256);
    expect(() => loadSettings({ MAX_CONNECTIONS_PER_CLIENT: '0' })).toThrow(/MAX_CONNECTIONS_PER_CLIENT/);
  });

  it('counts a client by its address: IPv4 as is (also IPv4-mapped), IPv6 by its /64; behind proxies, the entry the outermost one added', () => {
    expect(clientKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe(clientKey('2001:db8:1:2:ffff:ffff:ffff:ffff'));
    expect(clientKey('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8:1:3::1')).not.toBe(clientKey('2001:db8:1:2::1'));
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(forwardedClientAddress('198.51.100.1, 203.0.113.7', '10.0.0.2', 1)).toBe('203.0.113.7');
    expect(forwardedClientAddress('198.51.100.1, 203.0.113.7, 10.0.0.9', '10.0.0.2', 2)).toBe('203.0.113.7');
    expect(forwardedClientAddress('198.51.100.1', '10.0.0.2', 0)).toBe('10.0.0.2');
    expect(forwardedClientAddress(null, '10.0.0.2', 1)).toBe('10.0.0.2');
  });

  it('health checks keep answering while one address floods the server with sockets that never finish their request head', async () => {
    // Scaled down to run in seconds: the server takes 500 connections, the flood opens 1,000 at once.
    const fx = await start({ MAX_CONNECTIONS_PER_CLIENT: '50' }, { maxConnections: 500 });
    const port = portOf(fx.url);
    const flood = slowHeadFlood(port, '127.0.0.2', 1_000);
    try {
      await expect.poll(flood.saturated, { timeout: 10_000, interval: 50 }).toBe(true);
      const answers: Array<Awaited<ReturnType<typeof probe>>> = [];
      for (let i = 0; i < 10; i++) {
        answers.push(await probe(port, '/healthz'));
        await sleep(100);
      }
      expect(answers.filter((answer) => !('status' in answer) || answer.status !== 200), `of ${answers.length} probes, after ${flood.opened()} flood sockets`).toEqual([]);
    } finally {
      flood.stop();
    }
    expect(flood.opened()).toBeGreaterThan(1_000);
    expect(await metric(fx, /sbm_connections_refused_total\{scope="socket"\} (\d+)/)).toBeGreaterThan(0);
  });

  it("behind TRUST_PROXY, counts each forwarded client's open requests and answers the one over its share 503, closing the connection", async () => {
    const fx = await start({ TRUST_PROXY: '1', MAX_CONNECTIONS_PER_CLIENT: '2', STRIPE_WEBHOOK_SECRET: 'whsec_test_fake_connections_00000000000' });
    const port = portOf(fx.url);
    // Two requests of 203.0.113.7 (as the proxy saw it; the left entry is what the client wrote) still sending their body.
    for (let i = 0; i < 2; i++) {
      const socket = connect({ port, host: '127.0.0.1' });
      sockets.add(socket);
      socket.on('error', () => {});
      socket.write('POST /webhooks/stripe HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-For: 198.51.100.1, 203.0.113.7\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{');
    }
    const third = () => probe(port, '/healthz', { headers: { 'x-forwarded-for': '203.0.113.7' } });
    await expect.poll(async () => statusOf(await third()), { timeout: 3_000 }).toBe(503);
    const refused = await third();
    expect(refused).toMatchObject({ status: 503, headers: { connection: 'close', 'retry-after': expect.any(String) } });
    // Spoofing a different leftmost entry changes nothing; another client is not affected.
    expect(await probe(port, '/healthz', { headers: { 'x-forwarded-for': '192.0.2.50, 203.0.113.7' } })).toMatchObject({ status: 503 });
    expect(await probe(port, '/healthz', { headers: { 'x-forwarded-for': '203.0.113.8' } })).toMatchObject({ status: 200 });
    // The proxy's own address holds every connection: that alone is never refused.
    expect(await probe(port, '/healthz')).toMatchObject({ status: 200 });
    // Once its requests end, the client is served again.
    for (const socket of sockets) socket.destroy();
    await expect.poll(async () => statusOf(await third()), { timeout: 3_000 }).toBe(200);
    expect(await metric(fx, /sbm_connections_refused_total\{scope="forwarded"\} (\d+)/)).toBeGreaterThan(0);
  });
});

/** A raw keep-alive connection: one request at a time, each answer read whole. */
function keepAliveConnection(port: number) {
  const socket = connect({ port, host: '127.0.0.1' });
  sockets.add(socket);
  socket.on('error', () => {});
  let buffered = '';
  let closed = false;
  socket.on('data', (chunk) => (buffered += String(chunk)));
  socket.on('close', () => (closed = true));
  return {
    isClosed: () => closed,
    async get(path: string): Promise<string | undefined> {
      if (closed) return undefined;
      buffered = '';
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      const deadline = Date.now() + 2_000;
      while (!/\r\n\r\n[\s\S]*\}/.test(buffered) && !closed && Date.now() < deadline) await sleep(10);
      return /\r\n\r\n[\s\S]*\}/.test(buffered) ? buffered : undefined;
    },
  };
}

describe('keep-alive (KEEP_ALIVE_SECONDS)', () => {
  const tempDir = tempDirAfterAll('sbm-keepalive-');

  it('keeps idle connections 65 s by default, longer than load balancers (60 s), with the head timeout above it: serve and platform', async () => {
    expect(loadSettings({}).KEEP_ALIVE_SECONDS).toBe(65);
    const fx = await start();
    const platform = await startPlatform({
      settings: testSettings({ PORT: '0', ADMIN_KEYS: 'ops:admin_secret_for_keepalive_tests_0000', TENANT_KEY_SECRET: `k1:${Buffer.alloc(32, 5).toString('base64')}`, AUDIT_DB: join(tempDir(), 'platform.db') }),
      log: pino({ level: 'silent' }),
      mailer: testMailer(),
    });
    try {
      for (const server of [fx.server.server, platform.server]) {
        expect(server.keepAliveTimeout).toBe(65_000);
        expect(server.headersTimeout).toBeGreaterThan(server.keepAliveTimeout);
        expect(server.requestTimeout).toBeGreaterThanOrEqual(server.headersTimeout);
      }
      for (const url of [fx.url, platform.url]) {
        const answer = await keepAliveConnection(portOf(url)).get('/healthz');
        expect(answer).toMatch(/^HTTP\/1\.1 200/);
        expect(answer).toMatch(/\r\nKeep-Alive: timeout=65\r\n/i);
      }
    } finally {
      for (const socket of sockets) socket.destroy();
      await platform.close();
    }
  });

  it("an idle keep-alive connection still answers after Node's old 5 s default", async () => {
    const fx = await start();
    const connection = keepAliveConnection(portOf(fx.url));
    expect(await connection.get('/healthz')).toMatch(/^HTTP\/1\.1 200/);
    // Past the old 5 s and the 1 s grace newer Node versions add to it before closing.
    await sleep(7_000);
    expect(connection.isClosed(), 'the server closed the idle connection').toBe(false);
    expect(await connection.get('/healthz')).toMatch(/^HTTP\/1\.1 200/);
  }, 20_000);

  it('KEEP_ALIVE_SECONDS decides when an idle connection is closed', async () => {
    const fx = await start({ KEEP_ALIVE_SECONDS: '1' });
    expect(fx.server.server.headersTimeout).toBeGreaterThan(1_000);
    const connection = keepAliveConnection(portOf(fx.url));
    expect(await connection.get('/healthz')).toMatch(/\r\nKeep-Alive: timeout=1\r\n/i);
    await sleep(500);
    expect(await connection.get('/healthz')).toMatch(/^HTTP\/1\.1 200/);
    await expect.poll(connection.isClosed, { timeout: 3_000 }).toBe(true);
  });
});
