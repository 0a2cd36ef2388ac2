/**
 * A production-like deployment of real entry points as child processes (`npm start` = src/main.ts, `npm run
 * worker` = src/worker.ts) sharing one secret, one Redis prefix and an SMTP server in the test process, so a test
 * can log in, watch jobs deliver codes, send signals and take servers away. Everything is removed by cleanup().
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import { codeFrom, Inbox, REDIS_URL, type ReceivedMail, startSmtp } from './harness.js';
import { type EntryProcess, freePort, productionEnv, spawnEntry } from './process-helpers.js';
import { listBucket, s3Env, startS3Server } from './s3-helpers.js';

export interface Started {
  proc: EntryProcess;
  url: string;
  port: number;
  env: Record<string, string>;
}

export const postJson = (url: string, path: string, body: unknown) =>
  fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });

/** The storage every process shares, with the keys it holds now. */
export interface SharedStorage {
  env: Record<string, string>;
  keys(): Promise<string[]>;
  stop(): Promise<void>;
}

export const sharedStorages: Record<'local' | 's3', (root: string) => Promise<SharedStorage>> = {
  // One directory for every process (NFS or the like in production).
  async local(root) {
    const dir = path.join(root, 'files');
    return {
      env: { STORAGE_DIR: dir },
      keys: async () => (await readdir(dir, { recursive: true }).catch(() => [] as string[])).map(String),
      stop: async () => {},
    };
  },
  // One bucket on the test's own S3-compatible server.
  async s3() {
    const server = await startS3Server();
    const env = s3Env(server);
    return {
      env,
      keys: async () => (await listBucket(server, env.S3_PREFIX)).objects,
      stop: () => server.stop(),
    };
  },
};

export class Deployment {
  readonly mail = new Inbox<ReceivedMail>();
  /** The same for every process of this deployment (job payloads are sealed with the secret). */
  readonly shared = {
    SECRET_KEY: randomBytes(32).toString('hex'),
    REDIS_KEY_PREFIX: `tagdrop-test:${randomUUID()}:`,
    DATA_DIR: `/tmp/tagdrop-deploy-${randomBytes(6).toString('hex')}`,
  };
  private smtp: Awaited<ReturnType<typeof startSmtp>> | undefined;
  private readonly procs: EntryProcess[] = [];

  /** `compiled`: run the built dist/ entries (as the runtime image does) instead of the TypeScript sources. */
  constructor(private readonly options: { compiled?: boolean } = {}) {}

  async init() {
    this.smtp = await startSmtp(this.mail);
    return this;
  }

  /** Starts an entry point; `env` may name a PORT to come back on the same address after a restart. */
  async start(entry: 'main' | 'worker', databaseUrl: string, env: Record<string, string> = {}): Promise<Started> {
    const port = Number(env.PORT ?? (await freePort()));
    const config = productionEnv({
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DATABASE_URL: databaseUrl,
      REDIS_URL,
      EMAIL_HOST: '127.0.0.1',
      EMAIL_PORT: String(this.smtp?.port),
      OTP_IP_LIMIT: '100000',
      JOB_PROCESS_EVERY: '1 second',
      ...this.shared,
      ...env,
    });
    const proc = spawnEntry(entry, config, this.options);
    this.procs.push(proc);
    await proc.waitFor(entry === 'main' ? /Tagdrop is running/ : /worker started/);
    return { proc, url: `http://127.0.0.1:${port}`, port, env: config };
  }

  /** Asks for a code and waits until a job has delivered it: proof that the job runner works. */
  async codeFor(url: string, email: string, timeoutMs = 15_000) {
    const since = this.mail.items.length;
    const res = await postJson(url, '/api/otp-login/', { email });
    expect(res.status).toBe(200);
    return codeFrom((await this.mail.wait((m) => m.to === email, { since, timeoutMs })).text);
  }

  /** An access token for this address. */
  async login(url: string, email: string) {
    const res = await postJson(url, '/api/verify-otp/', { email, otp: await this.codeFor(url, email) });
    expect(res.status).toBe(200);
    return ((await res.json()) as { access: string }).access;
  }

  async cleanup() {
    for (const proc of this.procs) await proc.stop('SIGKILL');
    await this.smtp?.close();
    await rm(this.shared.DATA_DIR, { recursive: true, force: true });
  }
}
