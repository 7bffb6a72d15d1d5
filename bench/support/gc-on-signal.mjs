// Preloaded into a `serve` process by bench/platform.mjs (node --expose-gc --import <this file>):
// SIGUSR2 runs a full garbage collection, so that the heap the bench reads next (/metrics) is what
// the process still holds, not garbage a later collection would have freed. Nothing else changes.
// Without --expose-gc, gc is undefined and the signal is ignored.
process.on('SIGUSR2', () => {
  // Twice: the first collection can leave objects that only a second one finds unreachable
  // (finalizers, weak references cleared by the first).
  globalThis.gc?.();
  globalThis.gc?.();
});
