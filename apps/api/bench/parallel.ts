/**
 * Parallel uploads (tus concatenation) against one stream: 1 GiB sent by tus-js-client in Node (its own
 * process, bench/lib/tus-client.ts) as 4 partial uploads joined by a final one, vs the same file as one
 * upload in one stream. The client is made the bottleneck honestly: every TCP connection it opens goes
 * through a shaping proxy that carries at most RATE (32 MiB/s) towards the server, the situation parallel
 * uploads are for (one connection cannot fill the line: long round trips, per-flow shaping). The server and
 * loopback have far more headroom. The parallel time includes the server assembling the final file (reading
 * the 4 parts into one object while hashing it) before it answers. Ratio = one-stream seconds / parallel
 * seconds (goal ≥ 1.5).
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTestApp } from '../test/harness.js';
import { MiB, makeFile, median, run } from './transfer.js';

const exec = promisify(execFile);
const client = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib', 'tus-client.ts');

export async function benchParallel(options: { bytes?: number; rounds?: number; rate?: number; parts?: number } = {}) {
  const bytes = options.bytes ?? 1024 * MiB;
  const rounds = options.rounds ?? 2;
  const rate = options.rate ?? 32 * MiB;
  const parts = options.parts ?? 4;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tagdrop-bench-parallel-'));
  const source = path.join(dir, 'source.bin');
  await makeFile(source, bytes);
  const app = await startTestApp({
    MAX_UPLOAD_BYTES: String(bytes * 2),
    USER_QUOTA_BYTES: String(bytes * 8),
    STORAGE_DIR: path.join(dir, 'tagdrop'),
  });
  try {
    const { access } = await app.login('bench-parallel@example.com');
    const times = { single: [] as number[], parallel: [] as number[] };
    const once = async (parallel: number) => {
      await run('sync', []);
      const { stdout } = await exec('npx', ['tsx', client], {
        env: {
          ...process.env,
          BENCH_CLIENT: JSON.stringify({ target: app.url, token: access, file: source, parallel, rate }),
        },
        maxBuffer: 1024 * 1024,
      });
      const result = JSON.parse(stdout.trim().split('\n').pop() as string) as { seconds: number; url: string };
      (parallel > 1 ? times.parallel : times.single).push(result.seconds);
      const id = result.url.split('/').pop() as string;
      const file = await app.api<{ size: number }>('GET', `/api/files/${id}/`, { token: access });
      if (file.status !== 200 || file.body.size !== bytes) throw new Error(`upload ${id} is not a ${bytes}-byte file`);
      await app.api('DELETE', `/api/files/${id}/`, { token: access });
    };
    for (let i = 0; i < rounds; i++) {
      await once(i % 2 === 0 ? 1 : parts);
      await once(i % 2 === 0 ? parts : 1);
    }
    const mb = bytes / MiB;
    const single = median(times.single);
    const parallel = median(times.parallel);
    console.log(
      `parallel: ${mb} MiB from tus-js-client (own process), ${rate / MiB} MiB/s per connection, median of ${rounds}`,
    );
    console.log(
      `  one stream ${single.toFixed(1)} s (${(mb / single).toFixed(0)} MiB/s), ${parts} parts ${parallel.toFixed(1)} s (${(mb / parallel).toFixed(0)} MiB/s, assembly included), ratio ${(single / parallel).toFixed(2)} (goal >= 1.5)`,
    );
    return { singleSeconds: single, parallelSeconds: parallel };
  } finally {
    await app.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const mib = Number(process.env.BENCH_MIB ?? 1024);
  await benchParallel({ bytes: mib * MiB, rounds: Number(process.env.BENCH_ROUNDS ?? 2) });
}
