/**
 * Share lending in the Stripe request budget: a caller's share (CALLER_STRIPE_SHARE) holds only
 * while another caller waits for room; until then the caller is lent the rest of the budget.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryWindows, RedisWindows, StripeBudgetExhausted, StripeRateBudget, type Bucket, type WindowBackend } from '../../src/stripe/rate-budget.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

const global: Bucket = { key: 'global', limit: 20, label: 'global' };
const shareOf = (caller: string): Bucket => ({ key: `caller:${caller}`, limit: 5, label: 'caller share', share: true });
const lendingTo = (caller: string) => ({ lending: { waiters: 'waiting', caller } });
const takeAs = (windows: WindowBackend, caller: string) => windows.tryTake([global, shareOf(caller)], lendingTo(caller));

/** Two views of one set of windows: two processes (Redis: two connections). */
describe.each<[string, () => [WindowBackend, WindowBackend]]>([
  ['memory', () => {
    const windows = new MemoryWindows();
    return [windows, windows];
  }],
  ['redis', () => {
    const prefix = `lend${Math.random().toString(36).slice(2)}:`;
    return [new RedisWindows(redis.url, prefix), new RedisWindows(redis.url, prefix)];
  }],
])('the windows (%s)', (_name, makeWindows) => {
  it('lend a lone caller the whole limit; without lending its share holds', async () => {
    const [windows] = makeWindows();
    for (let i = 0; i < 5; i++) expect(await windows.tryTake([global, shareOf('host:b')])).toBe(0);
    expect(await windows.tryTake([global, shareOf('host:b')])).toBeGreaterThan(0);
    // host:a is lent the 15 left of the global limit, three times its share.
    for (let i = 0; i < 15; i++) expect(await takeAs(windows, 'host:a')).toBe(0);
    expect(await takeAs(windows, 'host:a')).toBeGreaterThan(0);
    await windows.close();
  });

  it('hold a caller to its share as soon as another caller is listed waiting (in another process too), and lend again once it is not', async () => {
    const [here, there] = makeWindows();
    for (let i = 0; i < 7; i++) expect(await takeAs(here, 'host:a')).toBe(0);
    // Its own listing does not hold a caller back.
    await here.listWaiting('waiting', 'p1|host:a', 5_000);
    expect(await takeAs(here, 'host:a')).toBe(0);
    await there.listWaiting('waiting', 'p2|host:b', 5_000);
    // 8 of 20 taken: room, but not within host:a's share of 5; host:b gets it.
    expect(await takeAs(here, 'host:a')).toBeGreaterThan(0);
    expect(await takeAs(there, 'host:b')).toBe(0);
    await there.listWaiting('waiting', 'p2|host:b', 0);
    expect(await takeAs(here, 'host:a')).toBe(0);
    await Promise.all([here.close(), there === here ? undefined : there.close()]);
  });

  it('forget a listing whose process stopped renewing it', async () => {
    const [here, there] = makeWindows();
    for (let i = 0; i < 5; i++) expect(await takeAs(here, 'host:a')).toBe(0);
    await there.listWaiting('waiting', 'p2|host:b', 50);
    expect(await takeAs(here, 'host:a')).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await takeAs(here, 'host:a')).toBe(0);
    await Promise.all([here.close(), there === here ? undefined : there.close()]);
  });
});

describe('the budget', () => {
  const limits = { global: 10, callerSharePercent: 50 };

  it('gives a lone caller the full budget when nobody else waits', async () => {
    // 300 ms: a call that had to wait for the window to slide (1.1 s) would be refused.
    const budget = new StripeRateBudget(new MemoryWindows(), 'lone', limits, 300);
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => budget.acquire('GET', '/v1/invoices', 'host:a')));
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(10);
    await expect(budget.acquire('GET', '/v1/invoices', 'host:a')).rejects.toBeInstanceOf(StripeBudgetExhausted);
    await budget.close();
  });

  it('lists a caller waiting in one process, holding a caller in another to its share, and takes it off once served', async () => {
    const windows = new MemoryWindows();
    const [here, there] = [new StripeRateBudget(windows, 'two', limits), new StripeRateBudget(windows, 'two', limits)];
    for (let i = 0; i < 10; i++) await here.acquire('GET', '/v1/invoices', 'host:a');
    const shareOfA = here.bucketsFor('GET', '/v1/invoices', 'host:a').filter((bucket) => bucket.share);
    const lendingToA = { lending: { waiters: 'two:waiting', caller: 'host:a' } };
    const waiting = there.acquire('GET', '/v1/invoices', 'host:b');
    // host:a has 10 in the window, twice its share: held while host:b waits.
    await expect.poll(() => windows.tryTake(shareOfA, lendingToA)).toBeGreaterThan(0);
    await waiting;
    // host:b was served and is off the list: host:a is lent again.
    await expect.poll(() => windows.tryTake(shareOfA, lendingToA)).toBe(0);
    await Promise.all([here.close(), there.close()]);
  });

  it('still gives background reads only what waiting calls do not need', async () => {
    const budget = new StripeRateBudget(new MemoryWindows(), 'bg', { global: 4, callerSharePercent: 50 });
    for (let i = 0; i < 4; i++) await budget.acquire('GET', '/v1/invoices', 'host:a');
    const admitted: string[] = [];
    const background = { caller: undefined, background: true };
    const warm = budget.acquire('GET', '/v1/charges', undefined, background).then(() => admitted.push('background'));
    const answers = [1, 2].map((n) => budget.acquire('GET', '/v1/invoices', 'host:a', { caller: 'host:a', background: false }).then(() => admitted.push(`A${n}`)));
    await Promise.all([warm, ...answers]);
    expect(admitted).toEqual(['A1', 'A2', 'background']);
    await budget.close();
  });
});
