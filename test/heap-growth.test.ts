import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { heapGrowthFlag, SERVE_HEAP_GROWING_PERCENT } from '../src/http/heap-growth.js';

describe('serve bounds how far the heap grows past what is alive', () => {
  it('sets V8 heap growing when the operator chose nothing', () => {
    expect(heapGrowthFlag([], undefined)).toBe(`--heap-growing-percent=${SERVE_HEAP_GROWING_PERCENT}`);
    expect(heapGrowthFlag(['--enable-source-maps'], '--dns-result-order=ipv4first')).toBe(`--heap-growing-percent=${SERVE_HEAP_GROWING_PERCENT}`);
  });

  it("leaves the heap to the operator's own flags, in node's arguments or NODE_OPTIONS", () => {
    expect(heapGrowthFlag(['--max-old-space-size=1024'], undefined)).toBeUndefined();
    expect(heapGrowthFlag([], '--max_old_space_size=512')).toBeUndefined();
    expect(heapGrowthFlag([], '--trace-gc --heap-growing-percent=20')).toBeUndefined();
  });

  it('changes how V8 sizes the heap after a collection in a running process', () => {
    // The same garbage-heavy loop over a flat live set, with and without the flag set at run time:
    // bounded, V8 commits a smaller heap. Sizes, not times.
    const script = (bound: boolean) => `
      const v8 = require('node:v8');
      ${bound ? `v8.setFlagsFromString('--heap-growing-percent=${SERVE_HEAP_GROWING_PERCENT}');` : ''}
      const live = new Map();
      for (let i = 0; i < 300000; i++) live.set('k' + i, { i, s: 'v' + i });
      let peak = 0;
      for (let round = 0; round < 40; round++) {
        let batch = [];
        for (let i = 0; i < 200000; i++) batch.push({ b: i, s: 'x' + i });
        batch = null;
        peak = Math.max(peak, v8.getHeapStatistics().total_heap_size);
      }
      process.stdout.write(String(live.size && peak));
    `;
    const peak = (bound: boolean) => Number(execFileSync(process.execPath, ['-e', script(bound)], { encoding: 'utf8' }));
    expect(peak(true)).toBeLessThan(peak(false) * 0.85);
  });
});
