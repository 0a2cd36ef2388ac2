/**
 * Start time of the API to its first 200 on /healthz: the compiled entry (`node dist/main.js`, what the runtime
 * image runs) vs the TypeScript source through tsx (`node --import tsx src/main.ts`, what the image ran before).
 * Both with production settings against the same migrated PostgreSQL database and Redis; the two take turns going
 * first. Ratio = tsx time / compiled time (> 1: the compiled entry starts faster).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createTestDatabase } from '@tagdrop/db/testing';
import { REDIS_URL } from '../test/harness.js';
import { freePort, productionEnv, spawnEntry } from '../test/process-helpers.js';
import { median } from './transfer.js';

const apiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function timeToHealthz(compiled: boolean, databaseUrl: string): Promise<number> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const proc = spawnEntry(
    'main',
    productionEnv({ PORT: String(port), PUBLIC_URL: url, DATABASE_URL: databaseUrl, REDIS_URL, LOG_LEVEL: 'warn' }),
    { compiled },
  );
  try {
    for (;;) {
      if (!proc.alive()) throw new Error(`exited before /healthz:\n${proc.output()}`);
      const ok = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return performance.now() - started;
      if (performance.now() - started > 60_000) throw new Error(`no /healthz after 60 s:\n${proc.output()}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    await proc.stop('SIGTERM');
  }
}

export async function benchStartup(options: { rounds?: number } = {}) {
  const rounds = options.rounds ?? Number(process.env.BENCH_ROUNDS ?? 5);
  await promisify(execFile)('npm', ['run', 'build'], { cwd: apiDir });
  const database = await createTestDatabase();
  try {
    const times = { compiled: [] as number[], tsx: [] as number[] };
    for (let i = 0; i < rounds; i++) {
      const order = i % 2 === 0 ? [true, false] : [false, true];
      for (const compiled of order)
        times[compiled ? 'compiled' : 'tsx'].push(await timeToHealthz(compiled, database.url));
    }
    const compiled = median(times.compiled);
    const tsx = median(times.tsx);
    console.log(
      `startup: spawn to first 200 on /healthz (production settings, PostgreSQL + Redis), median of ${rounds}`,
    );
    console.log(
      `  node dist/main.js ${compiled.toFixed(0)} ms, node --import tsx src/main.ts ${tsx.toFixed(0)} ms, ratio ${(tsx / compiled).toFixed(2)}`,
    );
    console.log(
      `  all runs: compiled ${times.compiled.map((t) => t.toFixed(0)).join(', ')}; tsx ${times.tsx.map((t) => t.toFixed(0)).join(', ')}`,
    );
    return { compiledMs: compiled, tsxMs: tsx };
  } finally {
    await database.drop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchStartup();
