/**
 * A PostgreSQL restart must not kill the API or the worker (issue 8, item 1). The test runs its own PostgreSQL 15
 * cluster and the real entry points as child processes (`npm start` = src/main.ts with jobs in process, and
 * `npm run worker` = src/worker.ts), restarts the database with `pg_ctl restart -m fast` under light load, and
 * checks what clients see: requests in flight answer 503 service_unavailable (never a 500, never a hang), the
 * processes stay up, and everything serves again within seconds, jobs included.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Deployment, postJson as post, type Started } from './deployment-helpers.js';
import { type OwnPostgres, startOwnPostgres } from './postgres-helpers.js';

// Child processes start slowly on a busy machine: generous timeouts (the assertions carry the real limits).
vi.setConfig({ testTimeout: 120_000, hookTimeout: 180_000 });

let cluster: OwnPostgres;
let deployment: Deployment;
/** `npm start` with jobs in process (the default). */
let inProcess: Started;
/** `npm start` with JOBS_IN_PROCESS=false, and `npm run worker` beside it. */
let apiOnly: Started;
let worker: Started;

beforeAll(async () => {
  [cluster, deployment] = await Promise.all([startOwnPostgres(), new Deployment().init()]);
  const [first, second] = [await createDatabase('api_in_process'), await createDatabase('api_and_worker')];
  [inProcess, apiOnly, worker] = await Promise.all([
    deployment.start('main', first),
    deployment.start('main', second, { JOBS_IN_PROCESS: 'false' }),
    deployment.start('worker', second),
  ]);
});
afterAll(async () => {
  await deployment?.cleanup();
  await cluster?.destroy();
});

async function createDatabase(name: string) {
  const client = new pg.Client({ connectionString: cluster.url });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(cluster.url);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Retries the request until it answers `ok`; returns the milliseconds that took. */
async function untilOk(request: () => Promise<Response>, ok: number, timeoutMs = 10_000) {
  const started = performance.now();
  for (;;) {
    const res = await request().catch(() => undefined);
    if (res?.status === ok) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`no ${ok} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

type Outcome = { kind: string; at: number; status: number | string; code?: string };

/**
 * Light load: four clients in a loop over REST, tRPC, a download and tus HEAD (each needs PostgreSQL). Each
 * request has 10 s to answer; a timeout or a dropped connection is recorded as such.
 */
function lightLoad(url: string, token: string, uploadUrl: string) {
  const auth = { authorization: `Bearer ${token}` };
  const kinds: { kind: string; ok: number; send: () => Promise<Response> }[] = [
    { kind: 'rest', ok: 200, send: () => fetch(`${url}/api/files/`, { headers: auth }) },
    {
      kind: 'trpc',
      ok: 200,
      send: () => fetch(`${url}/trpc/files.list?input=${encodeURIComponent('{}')}`, { headers: auth }),
    },
    { kind: 'download', ok: 404, send: () => fetch(`${url}/f/${randomUUID()}`) },
    {
      kind: 'tus',
      ok: 200,
      send: () => fetch(uploadUrl, { method: 'HEAD', headers: { ...auth, 'tus-resumable': '1.0.0' } }),
    },
  ];
  const outcomes: Outcome[] = [];
  let running = true;
  const loops = kinds.map(async ({ kind, send }) => {
    while (running) {
      const at = performance.now();
      try {
        const res = await Promise.race([
          send(),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error('hang')), 10_000)),
        ]);
        const text = await res.text();
        let code: string | undefined;
        if (text) {
          // REST: error.code; tRPC: error.data.code (error.code is the JSON-RPC number there).
          const error = (JSON.parse(text) as { error?: { code?: unknown; data?: { code?: string } } }).error;
          code = error?.data?.code ?? (typeof error?.code === 'string' ? error.code : undefined);
        } else if (kind === 'tus' && res.status === 503) {
          code = 'service_unavailable'; // HEAD carries no body: its status is the answer
        }
        outcomes.push({ kind, at, status: res.status, code });
      } catch (err) {
        outcomes.push({ kind, at, status: err instanceof Error ? err.message : String(err) });
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  });
  return {
    outcomes,
    ok: Object.fromEntries(kinds.map((k) => [k.kind, k.ok])) as Record<string, number>,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Every outcome is the normal answer or a clean 503; returns how many 503s and when each kind was back. */
function judge(load: ReturnType<typeof lightLoad>, restartedAt: number) {
  const bad = load.outcomes.filter(
    (o) => o.status !== load.ok[o.kind] && !(o.status === 503 && o.code === 'service_unavailable'),
  );
  const backAfterMs = Object.fromEntries(
    Object.keys(load.ok).map((kind) => {
      const first = load.outcomes.find((o) => o.kind === kind && o.at > restartedAt && o.status === load.ok[kind]);
      return [kind, first ? Math.round(first.at - restartedAt) : Number.POSITIVE_INFINITY];
    }),
  );
  // tus HEAD has no body: its 503 is recognised by status alone.
  const unavailable = load.outcomes.filter((o) => o.status === 503).length;
  return { bad, unavailable, backAfterMs };
}

describe('PostgreSQL restart', () => {
  it('the API (jobs in process) survives pg_ctl restart -m fast under load, answers 503 meanwhile, then serves again', async () => {
    const api = inProcess;
    const token = await deployment.login(api.url, 'restart@example.com');
    const created = await fetch(`${api.url}/uploads/`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'tus-resumable': '1.0.0',
        'upload-length': '10',
        'upload-metadata': `filename ${Buffer.from('a.txt').toString('base64')}`,
      },
    });
    expect(created.status).toBe(201);
    const uploadUrl = created.headers.get('location') as string;

    const load = lightLoad(api.url, token, uploadUrl);
    await new Promise((r) => setTimeout(r, 300));
    await cluster.restart();
    const restartedAt = performance.now();
    // Until every kind of request has been answered normally again (5 s at most), and a little longer.
    while (
      performance.now() - restartedAt < 5_000 &&
      Object.values(judge(load, restartedAt).backAfterMs).some((ms) => ms === Infinity)
    ) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 300));
    await load.stop();

    expect(api.proc.alive(), api.proc.output().slice(-3000)).toBe(true);
    const { bad, unavailable, backAfterMs } = judge(load, restartedAt);
    expect(bad).toEqual([]);
    expect(unavailable).toBeGreaterThan(0);
    for (const ms of Object.values(backAfterMs)) expect(ms).toBeLessThan(3_000);
    // Jobs run again in this process: a code requested now is delivered.
    expect(await deployment.codeFor(api.url, 'after-restart@example.com')).toMatch(/^\d{6}$/);
    expect(api.proc.alive(), api.proc.output().slice(-3000)).toBe(true);
    console.info('API restart: 503s during the restart', unavailable, 'back after (ms)', backAfterMs);
  });

  it('a separate worker survives a restart under load and an outage; every code accepted is delivered', async () => {
    const api = apiOnly;
    expect(await deployment.codeFor(api.url, 'before@example.com')).toMatch(/^\d{6}$/);

    // Load on the worker: a login-code request every 20 ms, each a job for the worker to deliver, before, during
    // and after the restart. Every request answers 200 (its job is stored) or a clean 503 (nothing stored).
    const since = deployment.mail.items.length;
    const answers: { email: string; status: number; code?: string }[] = [];
    let loading = true;
    const load = (async () => {
      for (let i = 0; loading; i++) {
        const email = `load-${i}@example.com`;
        const res = await post(api.url, '/api/otp-login/', { email }).catch(() => undefined);
        const code = res && res.status !== 200 ? ((await res.json()) as { error: { code: string } }).error.code : '';
        answers.push({ email, status: res?.status ?? 0, code });
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await new Promise((r) => setTimeout(r, 500));
    await cluster.restart();
    const restartedAt = performance.now();
    await untilOk(() => post(api.url, '/api/otp-login/', { email: 'probe@example.com' }), 200);
    await new Promise((r) => setTimeout(r, 500));
    loading = false;
    await load;
    expect(worker.proc.alive(), worker.proc.output().slice(-3000)).toBe(true);
    expect(answers.filter((a) => a.status !== 200 && !(a.status === 503 && a.code === 'service_unavailable'))).toEqual(
      [],
    );
    const accepted = answers.filter((a) => a.status === 200).map((a) => a.email);
    expect(accepted.length).toBeGreaterThan(20);
    // Nothing is lost: every accepted request's code arrives, those whose job the worker held during the restart too.
    for (const email of accepted) await deployment.mail.wait((m) => m.to === email, { since, timeoutMs: 30_000 });
    expect(await deployment.codeFor(api.url, 'after-restart@example.com')).toMatch(/^\d{6}$/);
    const jobBackMs = Math.round(performance.now() - restartedAt);
    console.info(
      `worker restart under load: ${accepted.length} codes accepted and all delivered, ${answers.length - accepted.length} clean 503s`,
    );

    // A longer outage: stopped for a few of the worker's polling rounds.
    await cluster.stop();
    const during = await post(api.url, '/api/otp-login/', { email: 'during@example.com' });
    expect(during.status).toBe(503);
    expect(((await during.json()) as { error: { code: string } }).error.code).toBe('service_unavailable');
    await new Promise((r) => setTimeout(r, 2_000));
    await cluster.start();
    await untilOk(() => post(api.url, '/api/otp-login/', { email: 'probe@example.com' }), 200);
    expect(await deployment.codeFor(api.url, 'after-outage@example.com')).toMatch(/^\d{6}$/);

    expect(worker.proc.alive(), worker.proc.output().slice(-3000)).toBe(true);
    expect(api.proc.alive(), api.proc.output().slice(-3000)).toBe(true);
    console.info('worker restart: a job enqueued after the restart delivered within (ms)', jobBackMs);
  });
});
