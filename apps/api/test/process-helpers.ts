/**
 * Entry points (src/main.ts = `npm start`, src/worker.ts = `npm run worker`) run as real child processes, so tests
 * can send them signals, take their databases away and read what they log.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const apiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface EntryProcess {
  readonly child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves once the output matches (rejects after timeoutMs, with the output in the message). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Whether the process is still running. */
  alive(): boolean;
  /** Resolves with the exit code (or the signal that killed it). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends a signal (SIGTERM by default) and waits for the exit; SIGKILL after killAfterMs. */
  stop(signal?: NodeJS.Signals, killAfterMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The environment of a production-like instance (every setting production insists on), plus `env`. */
export function productionEnv(env: Record<string, string>): Record<string, string> {
  return {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PUBLIC_URL: 'https://files.example.com',
    SECRET_KEY: randomBytes(32).toString('hex'),
    DATA_DIR: `/tmp/tagdrop-proc-${randomBytes(6).toString('hex')}`,
    REDIS_KEY_PREFIX: `tagdrop-test:${randomBytes(6).toString('hex')}:`,
    EMAIL_HOST: '127.0.0.1',
    EMAIL_PORT: '9',
    SMS_PROVIDER: 'webhook',
    SMS_WEBHOOK_URL: 'http://127.0.0.1:9/sms',
    LOG_LEVEL: 'info',
    ...env,
  };
}

/**
 * Runs src/<entry>.ts under node (tsx loader, no wrapper process: signals reach it directly), or with `compiled`
 * the built dist/<entry>.js (`npm run build -w @tagdrop/api`) as the runtime image does.
 */
export function spawnEntry(
  entry: 'main' | 'worker',
  env: Record<string, string>,
  { compiled = false }: { compiled?: boolean } = {},
): EntryProcess {
  const args = compiled ? [`dist/${entry}.js`] : ['--import', 'tsx', `src/${entry}.ts`];
  const child = spawn(process.execPath, args, {
    cwd: apiDir,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    for (const l of listeners) l();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let running = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      running = false;
      for (const l of listeners) l();
      resolve({ code, signal });
    });
  });

  return {
    child,
    output: () => out,
    alive: () => running,
    exited,
    waitFor(pattern, timeoutMs = 90_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(out)) {
            done();
            resolve();
          } else if (!running) {
            done();
            reject(new Error(`process exited before ${pattern}:\n${out.slice(-4000)}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out waiting for ${pattern}:\n${out.slice(-4000)}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM', killAfterMs = 30_000) {
      if (!running) return exited;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}
