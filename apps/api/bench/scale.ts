/**
 * `npm run bench -- scale`: the catalogue at 10,000 and at 1,000,000 files, seeded straight into PostgreSQL
 * (test/catalogue-helpers.ts: 1 in 10 files the caller's, 1 in 5 public, 3 of 1,000 hashtags each). For each
 * request of issue 9's table: req/s, p50 and p99 under autocannon -c 50 (its own process), the latency alone
 * (sequential), the ratio to a bare Fastify JSON route with 20 items measured in the same run, and the growth
 * from 10k to 1M. Then small downloads (10 KiB, counting on) against Debian's nginx serving the same file by
 * sendfile, the expiry sweep of 1,000,000 files (rows, bytes, counts) with own-list p99 during vs idle, and the
 * API's RSS under list load and while streaming a large upload and download. Reports against the goals; never
 * fails on them.
 *
 * The API under measure is its own process (bench/lib/api-process.ts: the compiled `node dist/main.js` the runtime
 * image runs, or `npm start`'s tsx entry with BENCH_API_ENTRY=tsx, with this run's database and Redis prefix), so
 * its RSS is the API's alone; the seeding, the bare route and the expiry sweep (as `npm run
 * worker` would run it) stay in this process.
 *
 * Knobs: BENCH_SCALE_SIZES (10000,1000000), BENCH_SCALE_SECONDS (8 per request), BENCH_EXPIRY_SCALE_FILES
 * (1000000; 0 skips), BENCH_STREAM_GIB (5; 0 skips), BENCH_SCALE_LISTS (1; 0 skips the list table),
 * BENCH_SCALE_ONLY (only the list requests whose label contains it, e.g. `(own)` when profiling one),
 * BENCH_SCALE_DOWNLOADS (1; 0 skips the small downloads), BENCH_BASELINE_DIR (the root of another checkout, e.g. a
 * `git worktree` of an earlier commit with its own `npm ci`: its API serves the same data and each list request
 * and the small downloads are measured on it too, in the same run, for before → after ratios; this checkout's root
 * compares node flags instead: BENCH_API_NODE_ARGS for the API under measure, BENCH_BASELINE_NODE_ARGS for the
 * baseline).
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Fastify from 'fastify';
import { sql } from 'kysely';
import { sweepExpired } from '../src/jobs/delete-expired-files.job.js';
import { seedCatalogue } from '../test/catalogue-helpers.js';
import { startTestApp, type TestApp } from '../test/harness.js';
import { type ApiProcess, freePort, startApiProcess } from './lib/api-process.js';
import { curlTusUpload } from './transfer.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SECONDS = Number(process.env.BENCH_SCALE_SECONDS ?? 8);
const SIZES = (process.env.BENCH_SCALE_SIZES ?? '10000,1000000').split(',').map(Number);
const EXPIRY_FILES = Number(process.env.BENCH_EXPIRY_SCALE_FILES ?? 1_000_000);
const STREAM_GIB = Number(process.env.BENCH_STREAM_GIB ?? 5);
const LISTS = process.env.BENCH_SCALE_LISTS !== '0';
/** Only the list requests whose label contains this (for profiling one of them). */
const ONLY = process.env.BENCH_SCALE_ONLY ?? '';
const DOWNLOADS = process.env.BENCH_SCALE_DOWNLOADS !== '0';
/** Another checkout (its root): its API runs beside this one on the same data, measured in the same run. */
const BASELINE = process.env.BENCH_BASELINE_DIR;
const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon');

interface Load {
  rps: number;
  /** Requests answered in the run. */
  total: number;
  p50: number;
  p99: number;
  errors: number;
}

/** autocannon -c 50 in its own process (so it never shares the API's event loop). */
async function autocannon(url: string, headers: Record<string, string> = {}, seconds = SECONDS): Promise<Load> {
  const args = [AUTOCANNON, '-c', '50', '-d', String(seconds), '-j'];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}=${v}`);
  const { stdout } = await run(process.execPath, [...args, url], { maxBuffer: 64 * 1024 * 1024 });
  const r = JSON.parse(stdout) as {
    requests: { average: number; total: number };
    latency: { p50: number; p99: number };
    non2xx: number;
    errors: number;
  };
  return {
    rps: r.requests.average,
    total: r.requests.total,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.non2xx + r.errors,
  };
}

/** Median latency of sequential requests (no concurrency): what one request costs. */
async function alone(url: string, headers: Record<string, string> = {}, n = 30) {
  const times: number[] = [];
  let items = 0;
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const res = await fetch(url, { headers });
    const body = (await res.json()) as { results?: unknown[]; result?: { data?: { results?: unknown[] } } };
    if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
    times.push(performance.now() - started);
    items = (body.results ?? body.result?.data?.results ?? []).length;
  }
  return { ms: times.sort((a, b) => a - b)[Math.floor(n / 2)] as number, items };
}

/**
 * Samples the API process's RSS (load generators and the harness run elsewhere) while `work` runs, and the CPU time
 * it used meanwhile (divided by the requests answered, the API's own work per request: unlike req/s it does not move
 * with what else the 2 cores are doing).
 */
async function peakRss<T>(
  api: ApiProcess,
  work: () => Promise<T>,
): Promise<{ result: T; peak: number; cpuMs: number }> {
  let peak = await api.rssMb();
  const cpuBefore = await api.cpuMs();
  const timer = setInterval(() => {
    void api.rssMb().then((mb) => {
      peak = Math.max(peak, mb);
    });
  }, 100);
  try {
    const result = await work();
    return { result, peak: Math.max(peak, await api.rssMb()), cpuMs: (await api.cpuMs()) - cpuBefore };
  } finally {
    clearInterval(timer);
  }
}

/** Debian's nginx with its own prefix, config and port, serving `root` by sendfile. */
async function startNginx(root: string) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tagdrop-nginx-'));
  const port = await freePort();
  await fs.writeFile(
    path.join(dir, 'nginx.conf'),
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    location /f/ { alias ${root}/; default_type application/octet-stream; }
  }
}
`,
  );
  const child = spawn('/usr/sbin/nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf')], { stdio: 'ignore' });
  child.on('error', () => {}); // checked before (hasNginx); anything else shows as no answer below
  for (let i = 0; i < 50; i++) {
    if (
      await fetch(`http://127.0.0.1:${port}/`).then(
        () => true,
        () => false,
      )
    )
      break;
    await sleep(100);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

const fmt = (n: number, d = 0) => n.toLocaleString('en', { maximumFractionDigits: d, minimumFractionDigits: d });

export async function benchScale() {
  const app = await startTestApp({
    LOG_LEVEL: 'warn',
    EXPIRY_INTERVAL: '1 hour',
    STATS_FLUSH_INTERVAL: '1 hour',
    MAX_UPLOAD_BYTES: String(8 * 1024 ** 3),
    USER_QUOTA_BYTES: String(16 * 1024 ** 3),
  });
  // The yardstick: a bare Fastify route answering 20 file-like items, in this same process.
  const bare = Fastify();
  const items = Array.from({ length: 20 }, (_, i) => ({
    id: randomBytes(16).toString('hex'),
    name: `img_${i}.jpg`,
    size: 10240,
    hashtags: ['tag1', 'tag334', 'tag667'],
    stats: { clicks: 0, unique_visitors: 0, last_click_at: null },
  }));
  bare.get('/bare', async () => ({ results: items, next: null }));
  const bareUrl = await bare.listen({ port: 0, host: '127.0.0.1' });
  const nginxRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'tagdrop-nginx-root-'));
  let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
  const api = await startApiProcess(app, { EXPIRY_INTERVAL: '1 hour', STATS_FLUSH_INTERVAL: '1 hour' });
  const baseline = BASELINE
    ? await startApiProcess(
        app,
        { EXPIRY_INTERVAL: '1 hour', STATS_FLUSH_INTERVAL: '1 hour', JOBS_IN_PROCESS: 'false' },
        (process.env.BENCH_BASELINE_NODE_ARGS ?? '').split(' ').filter(Boolean),
        path.resolve(BASELINE, 'apps/api'),
      )
    : undefined;
  console.log(
    `scale: API process pid ${api.pid} (${process.env.BENCH_API_ENTRY === 'tsx' ? 'node --import tsx src/main.ts' : 'node dist/main.js'}), RSS at start ${fmt(await api.rssMb())} MB; load average ${os
      .loadavg()
      .map((l) => fmt(l, 1))
      .join(' ')}`,
  );
  try {
    const db = app.deps.db;
    const caller = await app.login('scale-caller@example.com');
    const auth = { authorization: `Bearer ${caller.access}` };
    const requests: { label: string; path: string; auth: boolean; goal: string }[] = [
      {
        label: 'GET /api/files/?limit=20 (own)',
        path: '/api/files/?limit=20',
        auth: true,
        goal: '>= 0.25x bare, p99 <= 25 ms',
      },
      { label: 'GET /api/public/files/', path: '/api/public/files/', auth: false, goal: '>= 0.25x bare, p99 <= 25 ms' },
      {
        label: 'trpc files.list',
        path: `/trpc/files.list?input=${encodeURIComponent(JSON.stringify({ limit: 20 }))}`,
        auth: true,
        goal: 'as REST',
      },
      {
        label: 'GET /api/public/files/?hashtag=tag7',
        path: '/api/public/files/?hashtag=tag7',
        auth: false,
        goal: 'p99 <= 25 ms',
      },
      {
        label: 'GET /api/files/?search=forest (own)',
        path: '/api/files/?search=forest',
        auth: true,
        goal: 'p99 <= 50 ms',
      },
      { label: 'GET /api/hashtags/', path: '/api/hashtags/', auth: true, goal: 'p99 <= 25 ms' },
    ];
    const results = new Map<string, Map<number, Load & { alone: number; bare: number; items: number }>>();
    let seeded = 0;
    let listPeakRss = 0;
    let baselinePeakRss = 0;
    for (const size of LISTS ? SIZES : []) {
      const seedMs = await seedCatalogue(db, { files: size - seeded, offset: seeded, callerId: caller.user.id });
      seeded = size;
      console.log(`scale: seeded ${fmt(size)} files in ${fmt(seedMs / 1000, 1)} s`);
      const bareLoad = await autocannon(`${bareUrl}/bare`);
      console.log(`  bare Fastify route: ${fmt(bareLoad.rps)} req/s, p50 ${bareLoad.p50} ms, p99 ${bareLoad.p99} ms`);
      for (const r of requests.filter((q) => q.label.includes(ONLY))) {
        const url = `${api.url}${r.path}`;
        const headers = r.auth ? auth : {};
        const { ms: a, items: n } = await alone(url, headers);
        const { result: load, peak, cpuMs } = await peakRss(api, () => autocannon(url, headers));
        const cpuUs = (cpuMs * 1000) / Math.max(1, load.total);
        listPeakRss = Math.max(listPeakRss, peak);
        const row = results.get(r.label) ?? new Map();
        row.set(size, { ...load, alone: a, bare: bareLoad.rps, items: n });
        results.set(r.label, row);
        console.log(
          `  ${r.label}: ${fmt(load.rps)} req/s (${fmt(load.rps / bareLoad.rps, 3)}x bare), p50 ${load.p50} ms, p99 ${load.p99} ms, alone ${fmt(a, 1)} ms, API CPU ${fmt(cpuUs)} µs/request, ${n} items${load.errors ? `, ${load.errors} errors` : ''}`,
        );
        if (baseline) {
          // In the same order as above (alone, then under load), so that both start equally warm.
          const { ms: beforeAlone } = await alone(`${baseline.url}${r.path}`, headers);
          const {
            result: before,
            peak: beforePeak,
            cpuMs: beforeCpuMs,
          } = await peakRss(baseline, () => autocannon(`${baseline.url}${r.path}`, headers));
          baselinePeakRss = Math.max(baselinePeakRss, beforePeak);
          console.log(
            `    baseline (${BASELINE}): ${fmt(before.rps)} req/s, p99 ${before.p99} ms, alone ${fmt(beforeAlone, 1)} ms, API CPU ${fmt((beforeCpuMs * 1000) / Math.max(1, before.total))} µs/request: now ${fmt(load.rps / before.rps, 2)}x the req/s, ${fmt((beforeCpuMs * 1000) / Math.max(1, before.total) / cpuUs, 2)}x less CPU per request`,
          );
        }
      }
    }
    const [small, large] = [SIZES[0] as number, SIZES.at(-1) as number];
    console.log(`\n| request | ${fmt(small)} files | ${fmt(large)} files: alone / under load | growth | goal |`);
    console.log('|---|---|---|---|---|');
    for (const r of requests) {
      const row = results.get(r.label);
      const s = row?.get(small);
      const l = row?.get(large);
      if (!s || !l) continue;
      console.log(
        `| \`${r.label}\` | ${fmt(s.rps)} req/s (${fmt(s.rps / s.bare, 2)}x bare), p50 ${s.p50} ms, p99 ${s.p99} ms, ${s.items} items | ${fmt(l.alone, 1)} ms / ${fmt(l.rps)} req/s (${fmt(l.rps / l.bare, 2)}x bare), p50 ${l.p50} ms, p99 ${l.p99} ms, ${l.items} items | ${fmt(s.rps / l.rps, 2)}x | ${r.goal} |`,
      );
    }
    if (LISTS) {
      console.log(
        `scale: API process RSS peak under the list load ${fmt(listPeakRss)} MB, ${fmt(await api.rssMb())} MB after (goal <= 200 MB); load average ${os
          .loadavg()
          .map((l) => fmt(l, 1))
          .join(' ')}`,
      );
      if (baseline)
        console.log(
          `scale: baseline API process RSS peak under the same load ${fmt(baselinePeakRss)} MB, ${fmt(await baseline.rssMb())} MB after`,
        );
    }

    // Small downloads: a 10 KiB public file through /f/{id} (counting on) vs nginx serving the same bytes.
    const hasNginx = await fs.access('/usr/sbin/nginx').then(
      () => true,
      () => false,
    );
    if (DOWNLOADS && !hasNginx)
      console.log('scale: small downloads skipped: no /usr/sbin/nginx (apt-get install -y nginx)');
    if (DOWNLOADS && hasNginx) {
      const content = randomBytes(10 * 1024);
      const form = new FormData();
      form.set('file', new Blob([new Uint8Array(content)]), 'small.bin');
      form.set('is_public', 'true');
      const created = await fetch(`${app.url}/api/files/`, { method: 'POST', body: form, headers: auth });
      const file = (await created.json()) as { id: string; download_url: string };
      const row = await db
        .selectFrom('files')
        .select('storage_key')
        .where('id', '=', file.id)
        .executeTakeFirstOrThrow();
      await fs.copyFile(path.join(app.config.storageDir, row.storage_key), path.join(nginxRoot, 'small.bin'));
      nginx = await startNginx(nginxRoot);
      const viaNginx = await autocannon(`${nginx.url}/f/small.bin`);
      await autocannon(`${api.url}/f/${file.id}`, {}, 1); // warm-up
      const viaApi = await autocannon(`${api.url}/f/${file.id}`);
      if (baseline) {
        await autocannon(`${baseline.url}/f/${file.id}`, {}, 1); // warm-up
        const before = await autocannon(`${baseline.url}/f/${file.id}`);
        console.log(
          `scale: 10 KiB downloads on the baseline: ${fmt(before.rps)} req/s: now ${fmt(viaApi.rps / before.rps, 2)}x`,
        );
      }
      console.log(
        `scale: 10 KiB downloads: tagdrop ${fmt(viaApi.rps)} req/s (p99 ${viaApi.p99} ms), nginx sendfile ${fmt(viaNginx.rps)} req/s (p99 ${viaNginx.p99} ms), ratio ${fmt(viaApi.rps / viaNginx.rps, 2)} (goal >= 0.5); load average ${os
          .loadavg()
          .map((l) => fmt(l, 1))
          .join(' ')}`,
      );
    }

    if (EXPIRY_FILES > 0) await expirySweep(app, api, auth, seeded);
    // A fresh login: the access token of the start (15 minutes) may have expired by now.
    if (STREAM_GIB > 0)
      await streamRss(app, api, { authorization: `Bearer ${(await app.login('scale-stream@example.com')).access}` });
  } finally {
    await api.stop();
    await baseline?.stop();
    await nginx?.stop();
    await bare.close();
    await fs.rm(nginxRoot, { recursive: true, force: true });
    await app.stop();
  }
}

/** EXPIRY_FILES files expiring at once (rows, links, counts, one small object each), swept; list p99 during. */
async function expirySweep(app: TestApp, api: ApiProcess, auth: Record<string, string>, offset: number) {
  const db = app.deps.db;
  const expiringOwner = await db
    .insertInto('users')
    .values({ email: 'scale-expiring@example.com' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const setup = Date.now();
  await seedCatalogue(db, {
    files: EXPIRY_FILES,
    offset,
    callerId: expiringOwner.id,
    others: 1,
    expiring: EXPIRY_FILES,
    expiresAt: new Date(Date.now() - 60_000),
  });
  const keys = (
    await sql<{ k: string }>`select storage_key as k from files where expires_at is not null`.execute(db)
  ).rows.map((r) => r.k);
  const body = Buffer.from('expired content\n');
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < keys.length) await fs.writeFile(path.join(app.config.storageDir, keys[next++] as string), body);
    }),
  );
  console.log(
    `scale: ${fmt(keys.length)} expiring files (rows and objects) set up in ${fmt((Date.now() - setup) / 1000, 1)} s`,
  );
  const ownList = `${api.url}/api/files/?limit=20`;
  const idle = await autocannon(ownList, auth, 5);
  const started = Date.now();
  let sweepMs = 0;
  const sweep = sweepExpired(app.deps).then((r) => {
    sweepMs = Date.now() - started;
    return r;
  });
  // Own-list load for as long as the sweep runs, in 5-second windows.
  const during: Load[] = [];
  while (sweepMs === 0) during.push(await autocannon(ownList, auth, 5));
  const result = await sweep;
  const left = await sql<{ files: string; links: string; counted: string }>`
    select (select count(*) from files where expires_at is not null) as files,
           (select count(*) from file_hashtags where expires_at is not null) as links,
           (select coalesce(sum(private_count), 0) from hashtag_owner_counts where owner_id = ${expiringOwner.id}) as counted
  `.execute(db);
  let objectsLeft = 0;
  for (const key of keys.slice(0, 10_000)) {
    if (
      await fs.access(path.join(app.config.storageDir, key)).then(
        () => true,
        () => false,
      )
    )
      objectsLeft++;
  }
  const p99During = Math.max(...during.map((d) => d.p99));
  console.log(
    `scale: expiry sweep (in this process, off the API's: as \`npm run worker\`) of ${fmt(result.files)} files in ${fmt(sweepMs / 1000, 1)} s = ${fmt(result.files / (sweepMs / 60_000))}/min (goal >= 250,000/min, 1M within 240 s); left: rows ${left.rows[0]?.files}, links ${left.rows[0]?.links}, counted ${left.rows[0]?.counted}, objects ${objectsLeft} of the first 10,000`,
  );
  console.log(
    `scale: own list during the sweep p99 ${p99During} ms (worst 5 s window) vs idle ${idle.p99} ms: ${fmt(p99During / idle.p99, 2)}x (goal <= 2x); ${fmt(during.reduce((n, d) => n + d.rps, 0) / Math.max(1, during.length))} req/s during vs ${fmt(idle.rps)} idle`,
  );
}

/** RSS while a large file streams up (tus, one PATCH by curl) and back down (curl). */
async function streamRss(app: TestApp, api: ApiProcess, auth: Record<string, string>) {
  const bytes = Math.floor(STREAM_GIB * 1024 ** 3);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tagdrop-stream-'));
  const source = path.join(dir, 'big.bin');
  try {
    await run('truncate', ['-s', String(bytes), source]); // sparse: reads as zeros without using the disk
    const up = await peakRss(api, () =>
      curlTusUpload(`${api.url}/uploads/`, source, bytes, [`Authorization: ${auth.authorization}`]),
    );
    const id = up.result.location.split('/').pop() as string;
    const down = await peakRss(api, () =>
      run('curl', [
        '-sS',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code} %{size_download}',
        '-H',
        `Authorization: ${auth.authorization}`,
        `${api.url}/f/${id}`,
      ]),
    );
    console.log(
      `scale: RSS streaming ${STREAM_GIB} GiB: upload peak ${fmt(up.peak)} MB (${fmt((STREAM_GIB * 1024) / up.result.seconds)} MiB/s), download peak ${fmt(down.peak)} MB (${down.result.stdout.trim()}) (goal <= 200 MB)`,
    );
    await app.api('DELETE', `/api/files/${id}/`, { headers: auth });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
