/**
 * A desktop client spawns the stdio server on every launch and waits for tools/list: the server
 * answers from the probe its last launch kept, never from a Stripe round trip, and sends its own
 * probe only once that first list is answered.
 */
import { serve } from '@hono/node-server';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeStripe } from '../src/demo/fake-stripe/index.js';
import { CLI_PATH, cleanEnv } from './support/cli.js';

const KEY = 'rk_test_fake_startup_000000000000000000';

/** The fake Stripe on loopback; while `hold` is set, it takes requests and answers none of them. */
async function startStripe(fake: FakeStripe) {
  let gate: Promise<void> | undefined;
  let open = () => {};
  let received = 0;
  const server = serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch: async (request: Request) => {
      received++;
      if (gate) await gate;
      return fake.handle(request);
    },
  });
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received: () => received,
    hold() {
      gate = new Promise((resolve) => (open = resolve));
    },
    release() {
      gate = undefined;
      open();
    },
    close: () => new Promise<void>((resolve) => {
      open();
      server.close(() => resolve());
      if ('closeAllConnections' in server) server.closeAllConnections();
    }),
  };
}

let cacheHome: string;
beforeEach(async () => {
  cacheHome = await mkdtemp(join(tmpdir(), 'sbm-probe-cache-'));
});
afterEach(async () => {
  await rm(cacheHome, { recursive: true, force: true });
});

async function launch(stripeUrl: string, onListChanged: () => void = () => {}): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI_PATH, '--staff'],
    env: cleanEnv({ STRIPE_API_KEY: KEY, STRIPE_API_BASE: stripeUrl, XDG_CACHE_HOME: cacheHome, LOG_LEVEL: 'silent' }),
    stderr: 'ignore',
  });
  const client = new Client({ name: 'start-up-test', version: '1.0.0' });
  client.setNotificationHandler(ToolListChangedNotificationSchema, onListChanged);
  await client.connect(transport);
  return client;
}

const names = async (client: Client) => (await client.listTools()).tools.map((tool) => tool.name);

describe('stdio start-up never waits on Stripe', () => {
  it('with no earlier probe, lists every tool at once, probes Stripe only then, and narrows the list when the probe answers', async () => {
    const fake = new FakeStripe();
    fake.restrictKey(KEY, ['rak_charge_read']);
    const stripe = await startStripe(fake);
    stripe.hold();
    let changed = 0;
    const client = await launch(stripe.url, () => changed++);
    try {
      // The first list comes before any request to Stripe: the probe's TLS and DNS do not delay it.
      expect(await names(client)).toContain('get_payment_history');
      expect(stripe.received()).toBe(0);
      // Then the probe goes out; while Stripe holds it, the list stays complete.
      await expect.poll(() => stripe.received()).toBeGreaterThan(0);
      expect(await names(client)).toContain('get_payment_history');
      stripe.release();
      await expect.poll(() => changed, { timeout: 10_000 }).toBeGreaterThan(0);
      expect(await names(client)).not.toContain('get_payment_history');
    } finally {
      await client.close();
      await stripe.close();
    }
  });

  it('probes Stripe even for a client that never lists the tools, and rules out what the key cannot serve', async () => {
    const fake = new FakeStripe();
    fake.restrictKey(KEY, ['rak_charge_read']);
    const stripe = await startStripe(fake);
    const client = await launch(stripe.url);
    try {
      // No tools/list: the probe goes out a few seconds after start, and its answer is kept.
      await expect.poll(() => stripe.received(), { timeout: 15_000 }).toBeGreaterThan(0);
      const dir = join(cacheHome, 'stripe-billing-mcp');
      await expect.poll(async () => (await readdir(dir).catch(() => [])).filter((name) => name.endsWith('.json')).length, { timeout: 10_000 }).toBe(1);
      const result = await client.callTool({ name: 'get_payment_history', arguments: { email: 'alice@example.com' } });
      expect(result.isError).toBe(true);
      expect(JSON.stringify(result.content)).toMatch(/disabled|not found|unknown/i);
    } finally {
      await client.close();
      await stripe.close();
    }
  });

  it('the next launch starts from the kept probe (mode 0600, no key in it) while Stripe has not answered', async () => {
    const fake = new FakeStripe();
    fake.restrictKey(KEY, ['rak_charge_read']);
    const stripe = await startStripe(fake);
    const first = await launch(stripe.url);
    // A client lists the tools first; the probe follows.
    expect(await names(first)).toContain('get_payment_history');
    const dir = join(cacheHome, 'stripe-billing-mcp');
    // The first launch's probe answers and is kept.
    await expect.poll(async () => (await readdir(dir).catch(() => [])).filter((name) => name.endsWith('.json')).length, { timeout: 10_000 }).toBe(1);
    expect(await names(first)).not.toContain('get_payment_history');
    await first.close();
    const [file] = (await readdir(dir)).filter((name) => name.endsWith('.json'));
    expect(file).toMatch(/^probe-[0-9a-f]{32}\.json$/);
    expect((await stat(join(dir, file!))).mode & 0o777).toBe(0o600);
    const kept = await readFile(join(dir, file!), 'utf8');
    expect(kept).not.toContain(KEY);
    expect(kept).not.toContain('startup');

    stripe.hold();
    const second = await launch(stripe.url);
    try {
      await expect.poll(() => stripe.received()).toBeGreaterThan(0);
      const listed = await names(second);
      expect(listed).not.toContain('get_payment_history');
      expect(listed).toContain('get_subscription_status');
    } finally {
      await second.close();
      await stripe.close();
    }
  });
});
