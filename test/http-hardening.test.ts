import { connect } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DEMO } from '../src/demo/fake-stripe/index.js';
import { HOST_A, STAFF, startHttpFixture } from './support/http-harness.js';

const post = (url: string, path: string, headers: Record<string, string>, body: unknown = {}) =>
  fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body: JSON.stringify(body) });

describe('HTTP hardening', () => {
  it('a request that runs out of time answers 504 and is logged as a timeout, not as an unhandled error', async () => {
    const lines: string[] = [];
    const log = pino({}, new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) }));
    const fx = await startHttpFixture({}, { log, stripeDelayMs: 600, requestTimeoutMs: 200 });
    try {
      const response = await post(fx.url, '/v1/tools/get_subscription_status', { authorization: `Bearer ${HOST_A}`, 'x-customer-token': await fx.token(DEMO.emails.alice) });
      expect(response.status).toBe(504);
      expect(await response.json()).toEqual({ error: 'timeout', message: 'The request took too long. Try again in a moment.' });
    } finally {
      await fx.close();
    }
    const messages = lines.map((line) => JSON.parse(line) as { msg: string });
    expect(messages.some((line) => line.msg === 'request timed out')).toBe(true);
    expect(messages.some((line) => line.msg === 'unhandled HTTP error')).toBe(false);
  });

  it('closes the socket of a client that drips its headers', async () => {
    const fx = await startHttpFixture({}, { headersTimeoutMs: 500 });
    try {
      const { port } = new URL(fx.url);
      const socket = connect(Number(port), '127.0.0.1');
      socket.on('error', () => {});
      const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
      const started = Date.now();
      socket.write('POST /v1/tools/get_subscription_status HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      const drip = setInterval(() => socket.writable && socket.write('X-Slow: 1\r\n'), 100);
      const end = await Promise.race([closed, new Promise<number>((resolve) => setTimeout(() => resolve(-1), 5_000))]);
      clearInterval(drip);
      socket.destroy();
      expect(end, 'the server kept the dripping socket open').toBeGreaterThan(0);
      expect(end - started).toBeLessThan(5_000);
    } finally {
      await fx.close();
    }
  });

  it('answers carrying customer data are never stored by browsers or proxies', async () => {
    const fx = await startHttpFixture();
    try {
      const headers = { authorization: `Bearer ${HOST_A}`, 'x-customer-token': await fx.token(DEMO.emails.alice) };
      const v1 = await post(fx.url, '/v1/tools/get_billing_info', headers);
      expect(v1.headers.get('cache-control')).toBe('no-store');
      const mcp = await post(fx.url, '/mcp', headers, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_billing_info', arguments: {} } });
      expect(mcp.status).toBe(200);
      expect(mcp.headers.get('cache-control')).toBe('no-store');
      const insight = await fetch(`${fx.url}/v1/insight?email=${DEMO.emails.alice}`, { headers: { authorization: `Bearer ${STAFF}` } });
      expect(insight.headers.get('cache-control')).toBe('no-store');
      const refused = await post(fx.url, '/v1/tools/get_billing_info', { authorization: 'Bearer wrong' });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('cache-control')).toBe('no-store');
    } finally {
      await fx.close();
    }
  });
});
