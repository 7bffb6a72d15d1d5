/**
 * Cold caches that do not answer busy (issue 25 item 4): one Stripe read per key across
 * processes sharing a Redis, warm on verification, and stale-while-revalidate with webhooks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BillingReads } from '../../src/cache/billing-reads.js';
import type { CacheBackend } from '../../src/cache/cache-backend.js';
import { invalidateForEvent } from '../../src/cache/event-invalidation.js';
import { MemoryCacheBackend } from '../../src/cache/memory-cache-backend.js';
import { ReadThroughCache } from '../../src/cache/read-through.js';
import { RedisCacheBackend } from '../../src/cache/redis-cache-backend.js';
import { mintIdentityToken } from '../../src/demo/demo-identity.js';
import { DEMO, FakeStripe } from '../../src/demo/fake-stripe/index.js';
import { serveFakeStripe } from '../../src/demo/serve-fake-stripe.js';
import { silentLogger } from '../../src/log.js';
import { backgroundWork } from '../../src/stripe/caller-context.js';
import { createRuntime } from '../../src/runtime.js';
import { runTool } from '../../src/tools/lib/run-tool.js';
import { ALL_TOOLS } from '../../src/tools/registry.js';
import { createIdentityTokenVerifier } from '../../src/verify/identity-token.js';
import { connectClient, structured, testMailer, testSettings } from '../support/mcp-harness.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { startServer, stopProcess, type ServerProcess } from '../support/serve-process.js';

/** A Stripe read held until `open()`: counts its calls, answers `value` once opened. */
function gatedLoad<T>(value: T) {
  let calls = 0;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const load = async () => {
    calls++;
    await gate;
    return value;
  };
  return { load, open, calls: () => calls };
}

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

const tool = (name: string) => ALL_TOOLS.find((t) => t.name === name)!;
const described = (request: { method: string; path: string; params: unknown }) => `${request.method} ${request.path} ${JSON.stringify(request.params)}`;

/** A runtime on the in-process fake Stripe that counts what reaches it. */
function countingRuntime(env: Record<string, string> = {}, options: { webhooks?: boolean } = {}) {
  const fake = new FakeStripe({ now: Math.floor(Date.now() / 1000) });
  const mailer = testMailer();
  const runtime = createRuntime({
    settings: testSettings(env),
    log: silentLogger(),
    maxNetworkRetries: 0,
    mailer,
    webhooks: options.webhooks ?? false,
    fetch: (input, init) => fake.handle(new Request(input, init)),
  });
  return { runtime, fake, mailer };
}

describe('two serve processes on one Redis', () => {
  const fake = new FakeStripe({ now: Math.floor(Date.now() / 1000) });
  const HOST_KEY = 'coalescing_host_key_0000000000000000';
  const IDENTITY_SECRET = 'coalescing-identity-secret-32-bytes-long!';
  let stripe: Awaited<ReturnType<typeof serveFakeStripe>>;
  let servers: ServerProcess[] = [];

  beforeAll(async () => {
    stripe = await serveFakeStripe(fake);
    const env = {
      STRIPE_API_KEY: DEMO.apiKey,
      STRIPE_API_BASE: stripe.url,
      STORE_URL: redis.url,
      VERIFY_SECRET: 'coalescing-verify-secret-32-bytes-long!!!',
      HOST_KEYS: `bot:${HOST_KEY}`,
      IDENTITY_SECRET,
      AUDIT: 'off',
    };
    servers = await Promise.all([startServer(env), startServer(env)]);
    // The start-up probes are done once both answer /healthz.
    for (const server of servers) expect((await fetch(`${server.url}/healthz`)).ok).toBe(true);
  }, 40_000);

  afterAll(async () => {
    await Promise.all(servers.map((server) => stopProcess(server.child)));
    await stripe?.close();
  });

  it('make each Stripe read once when the same customer asks both at the same moment', async () => {
    const before = fake.requests.length;
    const token = await mintIdentityToken(DEMO.emails.alice, IDENTITY_SECRET, 600);
    const headers = { authorization: `Bearer ${HOST_KEY}`, 'x-customer-token': token, 'content-type': 'application/json' };
    const answers = await Promise.all(
      servers.map((server, i) =>
        fetch(`${server.url}/v1/tools/get_subscription_status`, { method: 'POST', headers: { ...headers, 'x-conversation-id': `conv-${i}` }, body: '{}' }).then(
          (response) => response.json() as Promise<{ is_error: boolean; result: { subscriptions: unknown[] } }>,
        ),
      ),
    );
    for (const answer of answers) expect(answer).toMatchObject({ is_error: false });
    expect(answers[0]!.result).toEqual(answers[1]!.result);
    // Both processes warm alice too (her token was new to each): wait until Stripe hears nothing more.
    for (let seen = -1; seen !== fake.requests.length; ) {
      seen = fake.requests.length;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const reads = fake.requests.slice(before).map(described);
    // Subscriptions were read from Stripe (the tool's read, and warming's): no read is repeated.
    expect(reads.some((read) => read.startsWith('GET /v1/subscriptions '))).toBe(true);
    expect(reads.filter((read, i) => reads.indexOf(read) !== i)).toEqual([]);
  });
});

describe.each<[string, () => CacheBackend]>([
  ['memory', (() => {
    const shared = new MemoryCacheBackend();
    return () => shared;
  })()],
  // A connection each (as two processes have), on one Redis and one key prefix.
  ['redis', (() => {
    const prefix = `c${Math.random().toString(36).slice(2)}:`;
    return () => new RedisCacheBackend(redis.url, { keyPrefix: prefix });
  })()],
])('a read another runtime is making (%s)', (_name, backend) => {
  // Two runtimes with separate in-process state on one cache: each has its own ReadThroughCache.
  const spec = (load: () => Promise<string>) => ({ key: 'cus:1:subs', tags: ['t:cus:1'], ttlMs: () => 60_000, load });

  it('is waited for, not made again', async () => {
    const [a, b] = [new ReadThroughCache(backend(), silentLogger()), new ReadThroughCache(backend(), silentLogger())];
    const { load, open, calls: calls } = gatedLoad('Pro');
    const first = a.read(spec(load));
    // b asks while a's read is still waiting for Stripe.
    await expect.poll(calls).toBe(1);
    const second = b.read(spec(load));
    open();
    expect(await Promise.all([first, second])).toEqual(['Pro', 'Pro']);
    expect(calls()).toBe(1);
  });

  it('held by a background read (warming) waiting for spare budget: the first answer takes its place, and other answers wait for that one', async () => {
    const [a, b, c] = [0, 1, 2].map(() => new ReadThroughCache(backend(), silentLogger()));
    const key = { key: 'cus:4:subs', tags: ['t:cus:4'], ttlMs: () => 60_000 };
    // a's warming read holds the lock and never gets budget (answers keep the budget busy).
    let warmingCalls = 0;
    const warming = a!.read({ ...key, load: () => (warmingCalls++, new Promise<string>(() => {})) }, backgroundWork());
    void warming.catch(() => {});
    await expect.poll(() => warmingCalls).toBe(1);
    const { load, open, calls: answerCalls } = gatedLoad('Plus');
    const first = b!.read({ ...key, load });
    await expect.poll(answerCalls).toBe(1);
    const second = c!.read({ ...key, load });
    // Longer than an answer ever waited for a background holder before reading itself.
    await new Promise((resolve) => setTimeout(resolve, 400));
    open();
    expect(await Promise.all([first, second])).toEqual(['Plus', 'Plus']);
    expect(answerCalls()).toBe(1);
  });

  it('held by a background read an answer of its own runtime joined: answers elsewhere wait for it', async () => {
    const [a, b] = [new ReadThroughCache(backend(), silentLogger()), new ReadThroughCache(backend(), silentLogger())];
    const key = { key: 'cus:5:subs', tags: ['t:cus:5'], ttlMs: () => 60_000 };
    const { load, open, calls: calls } = gatedLoad('Team');
    const warming = a.read({ ...key, load }, backgroundWork());
    await expect.poll(calls).toBe(1);
    // A tool call in a's runtime needs the same read: it joins (and promotes) the warming read.
    const joined = a.read({ ...key, load });
    const elsewhere = b.read({ ...key, load });
    await new Promise((resolve) => setTimeout(resolve, 400));
    open();
    expect(await Promise.all([warming, joined, elsewhere])).toEqual(['Team', 'Team', 'Team']);
    expect(calls()).toBe(1);
  });

  it('is made again by the waiter when its maker fails or dies holding the lock', async () => {
    const cacheBackend = backend();
    const [a, b] = [new ReadThroughCache(cacheBackend, silentLogger()), new ReadThroughCache(cacheBackend, silentLogger())];
    const key = { key: 'cus:2:subs', tags: ['t:cus:2'], ttlMs: () => 60_000 };
    // The maker fails: the waiter reads Stripe itself.
    let fail!: (error: Error) => void;
    const failing = a.read({ ...key, load: () => new Promise<string>((_, reject) => (fail = reject)) });
    await expect.poll(() => fail !== undefined).toBe(true);
    let calls = 0;
    const waiting = b.read({ ...key, load: async () => (calls++, 'Team') });
    fail(new Error('Stripe said no'));
    await expect(failing).rejects.toThrow('Stripe said no');
    expect(await waiting).toBe('Team');
    expect(calls).toBe(1);

    // A maker that died: its lock outlives it until the lock's own TTL, then the waiter reads.
    const { tokens } = await cacheBackend.read('cus:3:subs', ['t:cus:3']);
    expect(await cacheBackend.claim(`cus:3:subs|fetching|${tokens.join(',')}`, 300)).toBe(true);
    const lockTaken = Date.now();
    let readAt = 0;
    expect(await b.read({ key: 'cus:3:subs', tags: ['t:cus:3'], ttlMs: () => 60_000, load: async () => ((readAt = Date.now()), 'Solo') })).toBe('Solo');
    // Not before the dead maker's lock ran out.
    expect(readAt - lockTaken).toBeGreaterThanOrEqual(250);
  });
});

describe('warm on verification', () => {
  it('after an email code verifies the visitor, their first questions make no Stripe request of their own', async () => {
    const { runtime, fake, mailer } = countingRuntime({ SMTP_URL: 'smtp://127.0.0.1:1' });
    const visitor = await connectClient({ visitor: 'host:conv-warm' }, { runtime });
    await visitor.call('verify_email_start', { email: DEMO.emails.alice });
    await expect.poll(() => mailer.messages.length).toBe(1);
    const code = mailer.messages[0]!.code;
    expect(structured(await visitor.call('verify_email_confirm', { code }))).toMatchObject({ verified: true });
    await runtime.reads.warmed();
    const afterWarming = fake.requests.length;
    const status = await visitor.call('get_subscription_status');
    const overview = await visitor.call('get_customer_overview');
    expect(status.isError).toBeFalsy();
    expect(overview.isError).toBeFalsy();
    expect(fake.requests.slice(afterWarming).map(described)).toEqual([]);
    await visitor.close();
  });

  it('after an identity token is checked for the first time, the same holds', async () => {
    const { runtime, fake } = countingRuntime();
    const secret = 'warm-identity-secret-at-least-32-bytes!!';
    // As run-command wires it.
    const verifier = createIdentityTokenVerifier({ IDENTITY_SECRET: secret }, (principal) => runtime.reads.warm(principal.email))!;
    const principal = await verifier.verify(await mintIdentityToken(DEMO.emails.carol, secret, 600));
    await runtime.reads.warmed();
    const afterWarming = fake.requests.length;
    expect(afterWarming).toBeGreaterThan(0);
    for (const name of ['get_subscription_status', 'get_customer_overview']) {
      expect((await runTool(tool(name), {}, { runtime, principal, mode: 'customer', conversation: 'c1', surface: 'stdio' })).ok).toBe(true);
    }
    expect(fake.requests.slice(afterWarming).map(described)).toEqual([]);
  });
});

describe.each<[string, () => CacheBackend]>([
  ['memory', () => new MemoryCacheBackend()],
  ['redis', () => new RedisCacheBackend(redis.url, { keyPrefix: `s${Math.random().toString(36).slice(2)}:` })],
])('past its TTL (%s)', (_name, makeBackend) => {
  /** A cache whose clock the test moves, and a Stripe read that answers `plan` and counts. */
  function setup() {
    let now = 1_000_000;
    const revalidated: string[] = [];
    let settle: (() => void) | undefined;
    const cache = new ReadThroughCache(makeBackend(), silentLogger(), {
      now: () => now,
      onRevalidated: (key) => {
        revalidated.push(key);
        settle?.();
      },
    });
    const stripe = { plan: 'Pro', calls: 0 };
    const load = async () => (stripe.calls++, stripe.plan);
    const read = (staleMs: number) => cache.read({ key: 'cus:1:subs', tags: ['t:cus:1'], ttlMs: () => 60_000, staleMs: () => staleMs, load });
    const refreshed = () => new Promise<void>((resolve) => (revalidated.length > 0 ? resolve() : (settle = resolve)));
    return { cache, stripe, read, refreshed, advance: (ms: number) => (now += ms) };
  }

  it('with webhooks: an entry no event invalidated is served at once, then a background read refreshes it', async () => {
    const { stripe, read, refreshed, advance } = setup();
    expect(await read(3_600_000)).toBe('Pro');
    advance(61_000);
    stripe.plan = 'Team';
    // Served from the cache at once; the refresh runs behind it.
    expect(await read(3_600_000)).toBe('Pro');
    await refreshed();
    expect(stripe.calls).toBe(2);
    expect(await read(3_600_000)).toBe('Team');
    expect(stripe.calls).toBe(2);
  });

  it('with webhooks: an entry an event invalidated is never served, stale or not', async () => {
    const { cache, stripe, read, advance } = setup();
    expect(await read(3_600_000)).toBe('Pro');
    stripe.plan = 'Team';
    await cache.invalidate(['t:cus:1']);
    expect(await read(3_600_000)).toBe('Team');
    stripe.plan = 'Enterprise';
    await cache.invalidate(['t:cus:1']);
    advance(61_000);
    expect(await read(3_600_000)).toBe('Enterprise');
    expect(stripe.calls).toBe(3);
  });

  it('without webhooks: the TTL stays the bound, the answer waits for Stripe', async () => {
    const { stripe, read, advance } = setup();
    expect(await read(0)).toBe('Pro');
    advance(61_000);
    stripe.plan = 'Team';
    expect(await read(0)).toBe('Team');
    expect(stripe.calls).toBe(2);
  });
});

describe('the billing reads serve stale only with webhooks', () => {
  it.each([true, false])('webhooks %s', async (webhooks) => {
    const { runtime } = countingRuntime();
    let now = Date.now();
    let refreshed: () => void = () => {};
    const cache = new ReadThroughCache(new MemoryCacheBackend(), silentLogger(), { now: () => now, onRevalidated: () => refreshed() });
    const reads = new BillingReads(runtime.stripe, cache, 'scope-test', { webhooks, ttlMs: 60_000 });
    const [record] = await reads.customersByEmail(DEMO.emails.carol);
    const [sub] = await reads.subscriptions(record!.id);
    const item = sub!.items.data[0]!;
    const base = item.quantity ?? 1;
    const quantity = async () => (await reads.subscriptions(record!.id))[0]!.items.data[0]!.quantity;
    await runtime.stripe.subscriptions.update(sub!.id, { items: [{ id: item.id, quantity: base + 1 }] });
    // Past every TTL: an hour with webhooks, CACHE_TTL_SECONDS without.
    now += 61 * 60_000;
    const refresh = new Promise<void>((resolve) => (refreshed = resolve));
    // With webhooks the cached answer comes at once (no event said it changed) and is refreshed behind it; without, the answer waits for Stripe.
    expect(await quantity()).toBe(webhooks ? base : base + 1);
    if (webhooks) await refresh;
    expect(await quantity()).toBe(base + 1);
    // An event for the record: the next read never serves the entry it invalidated.
    await runtime.stripe.subscriptions.update(sub!.id, { items: [{ id: item.id, quantity: base + 2 }] });
    await invalidateForEvent(reads, { id: 'evt_1', type: 'customer.subscription.updated', data: { object: { customer: record!.id } } });
    expect(await quantity()).toBe(base + 2);
  });
});
