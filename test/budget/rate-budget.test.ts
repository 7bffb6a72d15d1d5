import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpointOf, MemoryWindows, RedisWindows, StripeBudgetExhausted, StripeRateBudget, WINDOW_MS, type Bucket, type WindowBackend } from '../../src/stripe/rate-budget.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

/** The most of `times` (ms) that fall within any span of `span` ms. */
function busiest(times: number[], span: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= span) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe('endpointOf names Stripe endpoints without ids', () => {
  it.each([
    ['GET', '/v1/customers/cus_NffrFeUfNV2Hib/balance_transactions?limit=10', 'GET /v1/customers/{id}/balance_transactions'],
    ['GET', '/v1/customers/search?query=x', 'GET /v1/customers/search'],
    ['GET', '/v1/subscriptions', 'GET /v1/subscriptions'],
    ['GET', '/v1/subscriptions/sub_DemoAlicePro', 'GET /v1/subscriptions/{id}'],
    ['POST', '/v1/invoices/create_preview', 'POST /v1/invoices/create_preview'],
  ])('%s %s', (method, path, expected) => expect(endpointOf(method, path)).toBe(expected));
});

describe('the in-memory windows', () => {
  it('keep counting with more than 10,000 buckets (callers and endpoints), and forget idle ones', async () => {
    const windows = new MemoryWindows();
    for (let i = 0; i < 10_050; i++) expect(await windows.tryTake([{ key: `caller:${i}`, limit: 1, label: 'caller share' }])).toBe(0);
    expect(await windows.tryTake([{ key: 'caller:5', limit: 1, label: 'caller share' }])).toBeGreaterThan(0);
  });
});

describe.each<[string, () => WindowBackend]>([
  ['memory', () => new MemoryWindows()],
  ['redis', () => new RedisWindows(redis.url, `t${Math.random().toString(36).slice(2)}:`)],
])('the Stripe request budget (%s)', (_name, makeWindows) => {
  it('never lets more than the limit through in any window, waits for room, then says busy', async () => {
    const budget = new StripeRateBudget(makeWindows(), 'scope', { global: 5, callerSharePercent: 100 }, 2_000);
    const admitted: number[] = [];
    const results = await Promise.allSettled(
      Array.from({ length: 14 }, async () => {
        await budget.acquire('GET', '/v1/subscriptions', undefined);
        admitted.push(Date.now());
      }),
    );
    // 5 at once, 5 after one window; the last 4 would wait past the 2 s bound.
    expect(admitted.length).toBeGreaterThanOrEqual(10);
    expect(busiest(admitted, 1000)).toBeLessThanOrEqual(5);
    const refused = results.filter((result) => result.status === 'rejected');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.length).toBe(14 - admitted.length);
    for (const result of refused) expect((result as PromiseRejectedResult).reason).toBeInstanceOf(StripeBudgetExhausted);
    await budget.close();
  });

  it('keeps a share for everyone else: while another caller waits, a flooding caller takes no more than its share', async () => {
    // Two budgets on one set of windows: two processes.
    const windows = makeWindows();
    const limits = { global: 10, callerSharePercent: 50 };
    const [floodSide, otherSide] = [new StripeRateBudget(windows, 'share', limits), new StripeRateBudget(windows, 'share', limits)];
    const admitted: string[] = [];
    const flood = Array.from({ length: 20 }, () => floodSide.acquire('GET', '/v1/invoices', 'host:flood').then(() => admitted.push('flood')));
    // The flood was alone: it was lent the whole budget, and the other caller has to wait for room.
    await expect.poll(() => admitted.length).toBe(10);
    const others = Array.from({ length: 3 }, () => otherSide.acquire('GET', '/v1/invoices', 'host:other').then(() => admitted.push('other')));
    await Promise.all(others);
    // From the moment the other caller waited until it was served, the flood got at most its share (5).
    const whileOtherWaited = admitted.slice(10, admitted.lastIndexOf('other') + 1);
    expect(whileOtherWaited.filter((who) => who === 'other')).toHaveLength(3);
    expect(whileOtherWaited.filter((who) => who === 'flood').length).toBeLessThanOrEqual(5);
    await Promise.allSettled(flood);
    await Promise.all([floodSide.close(), otherSide.close()]);
  });

  it('after Stripe says the limit was hit, holds every request for a window', async () => {
    const budget = new StripeRateBudget(makeWindows(), 'slow', { global: 5, callerSharePercent: 100 });
    await budget.slowDown('global-rate', 'GET', '/v1/charges');
    const started = Date.now();
    await budget.acquire('GET', '/v1/invoices', undefined);
    expect(Date.now() - started).toBeGreaterThanOrEqual(WINDOW_MS - 50);
    await budget.close();
  });
});

describe('the Redis windows after Redis lost them (FLUSHALL, a restart)', () => {
  it('are put back from what each process took, so the budget does not start again from an empty window', async () => {
    const prefix = `flush${Math.random().toString(36).slice(2)}:`;
    const [one, two] = [new RedisWindows(redis.url, prefix), new RedisWindows(redis.url, prefix)];
    const global: Bucket = { key: 'global', limit: 6, label: 'global' };
    for (let i = 0; i < 3; i++) expect(await one.tryTake([global])).toBe(0);
    for (let i = 0; i < 3; i++) expect(await two.tryTake([global])).toBe(0);
    expect(await one.tryTake([global])).toBeGreaterThan(0);
    const admin = new Redis(redis.url);
    await admin.flushall();
    admin.disconnect();
    // Each process puts its own three back before it takes: 3 + one new, then 3 more make the window full.
    expect(await two.tryTake([global])).toBe(0);
    expect(await one.tryTake([global])).toBeGreaterThan(0);
    expect(await two.tryTake([global])).toBeGreaterThan(0);
    await Promise.all([one.close(), two.close()]);
  });
});
