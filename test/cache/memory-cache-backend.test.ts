import { describe, expect, it } from 'vitest';
import { MemoryCacheBackend } from '../../src/cache/memory-cache-backend.js';

const MB = 1024 * 1024;

describe('the in-memory cache backend is bounded by bytes', () => {
  it('keeps the newest entries within its budget and drops the oldest', async () => {
    const cache = new MemoryCacheBackend({ maxBytes: MB });
    const value = 'x'.repeat(10_000);
    // 20 MB of entries into a 1 MB budget.
    for (let i = 0; i < 2_000; i++) await cache.write(`entry:${i}`, value, 600_000);
    expect((await cache.read('entry:1999', [])).value).toBe(value);
    expect((await cache.read('entry:1950', [])).value).toBe(value);
    expect((await cache.read('entry:0', [])).value).toBeUndefined();
    expect((await cache.read('entry:1800', [])).value).toBeUndefined();
  });

  it('keeps an entry that is read often while newer ones push others out', async () => {
    const cache = new MemoryCacheBackend({ maxBytes: MB });
    const value = 'x'.repeat(10_000);
    await cache.write('hot', value, 600_000);
    for (let i = 0; i < 500; i++) {
      await cache.write(`entry:${i}`, value, 600_000);
      expect((await cache.read('hot', [])).value).toBe(value);
    }
  });

  it('keeps tag tokens apart from entries: filling the entries changes no token', async () => {
    const cache = new MemoryCacheBackend({ maxBytes: MB });
    const before = (await cache.read('entry:a', ['customer:a'])).tokens;
    for (let i = 0; i < 2_000; i++) await cache.write(`entry:${i}`, 'x'.repeat(10_000), 600_000);
    expect((await cache.read('entry:a', ['customer:a'])).tokens).toEqual(before);
  });

  it('holds tokens for many more tags than a budget of entries, the newest kept when full', async () => {
    const cache = new MemoryCacheBackend({ maxBytes: MB });
    // 1 MB: tokens have 128 KB, about 1,000 tags of this size.
    const tag = (i: number) => `customer:cus_${String(i).padStart(6, '0')}`;
    const tokens: string[] = [];
    for (let i = 0; i < 5_000; i++) tokens.push((await cache.read('k', [tag(i)])).tokens[0]!);
    for (let i = 4_900; i < 5_000; i++) expect((await cache.read('k', [tag(i)])).tokens[0]).toBe(tokens[i]);
    // The oldest tags' tokens were dropped: new ones, so entries recorded under the old ones miss (never a stale hit).
    expect((await cache.read('k', [tag(0)])).tokens[0]).not.toBe(tokens[0]);
  });

  it('keeps notes (claims, owners) when the entries fill up, and drops the oldest notes only past their own share', async () => {
    const cache = new MemoryCacheBackend({ maxBytes: MB });
    expect(await cache.claim('event:evt_1', 600_000)).toBe(true);
    await cache.set('owner:pm_1', 'cus_1', 600_000);
    for (let i = 0; i < 2_000; i++) await cache.write(`entry:${i}`, 'x'.repeat(10_000), 600_000);
    expect(await cache.claim('event:evt_1', 600_000)).toBe(false);
    expect(await cache.get('owner:pm_1')).toBe('cus_1');

    // Notes have 512 KB of a 1 MB budget: 10,000 owners of about 100 bytes each do not fit.
    for (let i = 0; i < 10_000; i++) await cache.set(`owner:pm_${String(i).padStart(8, '0')}`, 'cus_0000000000000', 600_000);
    expect(await cache.get('owner:pm_00009999')).toBe('cus_0000000000000');
    expect(await cache.get('owner:pm_00008000')).toBe('cus_0000000000000');
    expect(await cache.get('owner:pm_1')).toBeUndefined();
  });

  it('reserves no memory up front: its first use allocates no large arrays', async () => {
    const before = process.memoryUsage().arrayBuffers;
    const cache = new MemoryCacheBackend();
    await cache.read('entry', ['customer:a']);
    await cache.claim('event:evt_1', 60_000);
    // An LRU with `max: 200_000` allocated about 2.3 MB of typed arrays here, each.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(MB);
  });
});
