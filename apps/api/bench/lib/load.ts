/**
 * HTTP load from a worker thread (its own event loop, keep-alive connections): `concurrency` loops of GET `url`
 * for `seconds`; counts answers with the expected status and the rest.
 */
import { Worker } from 'node:worker_threads';

const LOAD = `
const { parentPort, workerData } = require('node:worker_threads');
const { url, seconds, concurrency, headers, status } = workerData;
let done = 0, errors = 0;
const end = Date.now() + seconds * 1000;
async function loop() {
  while (Date.now() < end) {
    try {
      const res = await fetch(url, { headers });
      await res.arrayBuffer();
      if (res.status === status) done++; else errors++;
    } catch { errors++; }
  }
}
Promise.all(Array.from({ length: concurrency }, loop)).then(() => parentPort.postMessage({ done, errors }));
`;

export function load(
  url: string,
  seconds: number,
  concurrency: number,
  options: { headers?: Record<string, string>; status?: number } = {},
) {
  return new Promise<{ done: number; errors: number }>((resolve, reject) => {
    const worker = new Worker(LOAD, {
      eval: true,
      workerData: { url, seconds, concurrency, headers: options.headers ?? {}, status: options.status ?? 200 },
    });
    worker.once('message', (m) => {
      resolve(m);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
