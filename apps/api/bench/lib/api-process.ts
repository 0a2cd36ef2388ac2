/**
 * The API as its own process, as `npm start` runs it (`tsx src/main.ts`, NODE_ENV=production), sharing a test
 * app's database, Redis key prefix, SECRET_KEY (its tokens work here), DATA_DIR and delivery receivers. Benches
 * send their load here so that the RSS measured is the API's own, not the harness's (SMTP server, bare route,
 * seeding code, the sweep when run as a worker would).
 */
import { execFile, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestApp } from '../../test/harness.js';

const run = promisify(execFile);
const apiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createNetServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

export interface ApiProcess {
  url: string;
  pid: number;
  /** Resident set size of the API process now (MB), from /proc. */
  rssMb(): Promise<number>;
  /** CPU time the API process has used so far (user + system, ms), from /proc: work per request, whatever else runs. */
  cpuMs(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * `nodeArgs` default to BENCH_API_NODE_ARGS (space separated), e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`; `dir`
 * is the API's folder (another checkout's apps/api measures its code against the same data: before → after).
 * `entry`: `dist` runs the compiled `node dist/main.js` (what the runtime image runs; built first), `tsx` the
 * TypeScript source as `npm start` does; default BENCH_API_ENTRY, else `dist`. BENCH_API_STDERR=1 shows its stdout and stderr
 * (e.g. with `--trace-gc`).
 */
/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks (100 on every common build). */
const CLOCK_TICKS = 100;

export async function startApiProcess(
  app: TestApp,
  env: Record<string, string> = {},
  nodeArgs = (process.env.BENCH_API_NODE_ARGS ?? '').split(' ').filter(Boolean),
  dir = apiDir,
  entry: 'dist' | 'tsx' = process.env.BENCH_API_ENTRY === 'tsx' ? 'tsx' : 'dist',
): Promise<ApiProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const c = app.config;
  const childEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL: url,
    SECRET_KEY: c.SECRET_KEY ?? '',
    DATABASE_URL: c.DATABASE_URL ?? '',
    REDIS_URL: c.REDIS_URL ?? '',
    REDIS_KEY_PREFIX: c.REDIS_KEY_PREFIX,
    DATA_DIR: c.dataDir,
    STORAGE_DIR: c.storageDir,
    EMAIL_HOST: '127.0.0.1',
    EMAIL_PORT: String(c.EMAIL_PORT),
    EMAIL_FROM: c.EMAIL_FROM,
    SMS_PROVIDER: 'webhook',
    SMS_WEBHOOK_URL: c.SMS_WEBHOOK_URL ?? '',
    LOG_LEVEL: 'warn',
    ...env,
  };
  // `node --import tsx` is what the tsx CLI of `npm start` runs, minus its wrapper process: the pid is the API's.
  if (entry === 'dist') await run(process.execPath, ['--import', 'tsx', 'scripts/build.ts'], { cwd: dir });
  const args = entry === 'dist' ? ['dist/main.js'] : ['--import', 'tsx', 'src/main.ts'];
  const child = spawn(process.execPath, [...nodeArgs, ...args], {
    cwd: dir,
    env: childEnv,
    stdio: [
      'ignore',
      process.env.BENCH_API_STDERR ? 'inherit' : 'ignore',
      process.env.BENCH_API_STDERR ? 'inherit' : 'pipe',
    ],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  for (let i = 0; ; i++) {
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (child.exitCode !== null || i > 300) {
      child.kill('SIGKILL');
      throw new Error(`API process did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = child.pid as number;
  return {
    url,
    pid,
    async rssMb() {
      const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      return kb / 1024;
    },
    async cpuMs() {
      const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th, in ticks.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
