// Preloaded into a `serve` process by bench/memory.mjs (node --import <this file>): each thread
// (the main one and workers such as the SQLite audit trail's, which inherit the flag) writes what
// its memory is made of every second, as one JSON object, to $MEMORY_PROBE_FILE.<threadId>, so the
// bench can tell V8's heap from Buffers and from native memory for any build, old or new, without
// the server's own code knowing. Nothing else changes: the timer is unref'd, the file replaced.
import { renameSync, writeFileSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { threadId } from 'node:worker_threads';

const file = process.env.MEMORY_PROBE_FILE;
if (file) {
  // The live heap: heap used just after the last full (mark-compact) collection, and how many
  // there were. Between them heapUsed is mostly garbage waiting for the next one.
  let liveAfterFullGc = 0;
  let fullGcs = 0;
  new PerformanceObserver((list) => {
    if (list.getEntries().some((entry) => entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)) {
      liveAfterFullGc = process.memoryUsage().heapUsed;
      fullGcs += list.getEntries().filter((entry) => entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR).length;
    }
  }).observe({ entryTypes: ['gc'] });
  const write = () => {
    const usage = process.memoryUsage();
    const heap = getHeapStatistics();
    const spaces = Object.fromEntries(getHeapSpaceStatistics().map((space) => [space.space_name, space.space_size]));
    const figures = {
      threadId,
      at: Date.now(),
      rss: usage.rss,
      heapTotal: usage.heapTotal,
      heapUsed: usage.heapUsed,
      external: usage.external,
      arrayBuffers: usage.arrayBuffers,
      // Memory V8 asked malloc for itself (compiler zones, tables): native, outside heapTotal.
      malloced: heap.malloced_memory,
      liveAfterFullGc,
      fullGcs,
      heapLimit: heap.heap_size_limit,
      spaces,
    };
    try {
      // Written aside, then renamed: the bench never reads half a file.
      writeFileSync(`${file}.${threadId}.tmp`, JSON.stringify(figures));
      renameSync(`${file}.${threadId}.tmp`, `${file}.${threadId}`);
    } catch {
      // The bench's folder went away: it is stopping this process anyway.
    }
  };
  write();
  setInterval(write, 1_000).unref();
}
