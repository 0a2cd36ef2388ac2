import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what the last full collection kept: at most 1.6× (V8's own factor
 * goes up to 4× when collections are cheap, which they are here). Under a list load the live heap is ~40 MB while
 * RSS reached ~280 MB, mostly garbage waiting for the next full collection. Measured in one run against the same
 * code with each factor (README "Benchmarks", Memory): 2× peaked at 191 MB, 1.6× at 182 MB, for the same CPU per
 * request within ±5%. V8 reads the factor at every collection, so setting it at start-up works;
 * `node --heap-growing-percent=N dist/main.js` chooses another value (NODE_OPTIONS cannot carry this flag).
 */
export const HEAP_GROWING_PERCENT = 60;

export function limitHeapGrowth(execArgv = process.execArgv) {
  if (execArgv.some((a) => a.startsWith('--heap-growing-percent') || a.startsWith('--heap_growing_percent'))) return;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
