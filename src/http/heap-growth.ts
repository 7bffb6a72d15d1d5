import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 may grow the old space past what a full collection left alive, in percent.
 *
 * With Node's default heap limit (about 4 GB here) V8 lets the old space fill with garbage up to
 * 4× the live heap before it collects, so a server whose live heap is flat at ~40 MB still climbs
 * by 100 MB or more of RSS over its first minutes of load. 50 % holds RSS flat under steady load
 * for about 1 % more CPU (more, smaller full collections); bench/memory.mjs shows both.
 */
export const SERVE_HEAP_GROWING_PERCENT = 50;

/** Flags with which the operator already chose how the heap grows; theirs win. */
const OPERATOR_HEAP_FLAGS = /--(?:max[-_]old[-_]space[-_]size|heap[-_]growing[-_]percent)\b/;

/** The V8 flag `serve` sets, or undefined when node's own arguments or NODE_OPTIONS already size the heap. */
export function heapGrowthFlag(execArgv: readonly string[], nodeOptions: string | undefined): string | undefined {
  if (execArgv.some((arg) => OPERATOR_HEAP_FLAGS.test(arg)) || OPERATOR_HEAP_FLAGS.test(nodeOptions ?? '')) return undefined;
  return `--heap-growing-percent=${SERVE_HEAP_GROWING_PERCENT}`;
}

/**
 * Bounds heap growth for a long-running `serve`. V8 reads this flag each time it sizes the heap
 * after a collection, so setting it at run time takes effect from the next full collection.
 */
export function boundHeapGrowth(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS): void {
  const flag = heapGrowthFlag(execArgv, nodeOptions);
  if (flag) setFlagsFromString(flag);
}
