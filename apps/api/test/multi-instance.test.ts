/**
 * Many API instances and workers (issue 10), as deployed: three `npm start` processes (JOBS_IN_PROCESS=false)
 * and two `npm run worker` processes, real child processes against one PostgreSQL database, one Redis (own
 * prefix) and one shared storage: a STORAGE_DIR, then an S3 bucket (the test's own S3-compatible server); each
 * process has its own DATA_DIR, as separate machines would. What a user of any instance sees: an upload moves
 * between instances, two clients racing on one upload through two instances cannot mix their bytes, an expired
 * file is removed by exactly one job run, clicks counted on three instances add up exactly, and a logout on one
 * instance is honoured by the others at once.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '@tagdrop/db/testing';
import { sql } from 'kysely';
import pino from 'pino';
import type * as tus from 'tus-js-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRedis, type RedisHandle } from '../src/infra/redis.js';
import { Deployment, type SharedStorage, type Started, sharedStorages as storages } from './deployment-helpers.js';
import { bearer, createFile, download, type FileObject, runUpload, sha256, tusUploadObject } from './files-helpers.js';
import { REDIS_URL } from './harness.js';
import { raceTwoPatches } from './tus-race.js';

// Five child processes start at once on a busy machine: generous timeouts (the assertions carry the limits).
vi.setConfig({ testTimeout: 120_000, hookTimeout: 240_000 });

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** The JSON log lines of a process with this message. */
const logLines = (proc: Started, msg: string) =>
  proc.proc
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry.msg === msg);

describe.each(['local', 's3'] as const)(
  'three API instances and two workers on one database, one Redis and %s storage',
  (kind) => {
    let database: TestDatabase;
    let deployment: Deployment;
    let storage: SharedStorage;
    let redis: RedisHandle;
    let a: Started;
    let b: Started;
    let c: Started;
    let workers: Started[];
    let token: string;

    beforeAll(async () => {
      [database, deployment] = await Promise.all([createTestDatabase(), new Deployment().init()]);
      const root = deployment.shared.DATA_DIR;
      storage = await storages[kind](root);
      redis = createRedis(REDIS_URL, deployment.shared.REDIS_KEY_PREFIX, pino({ level: 'silent' }));
      const on = (name: string, env: Record<string, string> = {}) => ({
        ...storage.env,
        DATA_DIR: path.join(root, name),
        ...env,
      });
      const started = await Promise.all([
        deployment.start('main', database.url, on('a', { JOBS_IN_PROCESS: 'false' })),
        deployment.start('main', database.url, on('b', { JOBS_IN_PROCESS: 'false' })),
        deployment.start('main', database.url, on('c', { JOBS_IN_PROCESS: 'false' })),
        ...['worker-1', 'worker-2'].map((name) =>
          deployment.start(
            'worker',
            database.url,
            on(name, { EXPIRY_INTERVAL: '2 seconds', STATS_FLUSH_INTERVAL: '1 second' }),
          ),
        ),
      ]);
      [a, b, c] = started as [Started, Started, Started];
      workers = started.slice(3);
      token = await deployment.login(a.url, 'many@example.com');
    });
    afterAll(async () => {
      await deployment?.cleanup();
      await redis?.close();
      await storage?.stop();
      await database?.drop();
    });

    const lockKey = (id: string) => `${deployment.shared.REDIS_KEY_PREFIX}{tus-lock:${id}}`;

    it('an upload started on A and interrupted resumes on B; C serves it with Range; sha256 equal', async () => {
      const content = randomBytes(4 * MiB);
      // Started on A with tus-js-client; the client is stopped while it sends its second 1 MiB chunk.
      let started!: tus.Upload;
      await new Promise<void>((resolve, reject) => {
        let cut = false;
        started = tusUploadObject(
          a,
          content,
          { filename: 'travelling.bin' },
          {
            token,
            chunkSize: MiB,
            onProgress(sent) {
              if (cut || sent < 1.5 * MiB) return;
              cut = true;
              started.abort().then(resolve, reject);
            },
            onError: reject,
          },
        );
        started.start();
      });
      const uploadPath = new URL(started.url as string).pathname;
      expect(started.url).toBe(`${a.url}${uploadPath}`);

      // The same client resumes on B: it asks B where the upload stands and sends only the rest there.
      const seen: string[] = [];
      const resumed = tusUploadObject(
        b,
        content,
        { filename: 'travelling.bin' },
        {
          token,
          chunkSize: MiB,
          uploadUrl: `${b.url}${uploadPath}`,
          onAfterResponse(req, res) {
            seen.push(
              `${req.getMethod()} ${new URL(req.getURL()).origin} ${res.getStatus()} ${res.getHeader('Upload-Offset')}`,
            );
          },
        },
      );
      const { fileId } = await runUpload(resumed);
      const [head, ...patches] = seen;
      const [, , headStatus, headOffset] = head?.split(' ') ?? [];
      expect(head?.startsWith(`HEAD ${b.url} `)).toBe(true);
      expect(headStatus).toBe('200');
      expect(Number(headOffset)).toBeGreaterThan(0);
      expect(Number(headOffset)).toBeLessThan(content.length);
      expect(patches.length).toBeGreaterThan(0);
      for (const p of patches) expect(p.startsWith(`PATCH ${b.url} 204 `)).toBe(true);
      expect(patches.at(-1)?.endsWith(` ${content.length}`)).toBe(true);

      // C knows the file and serves it in two ranges that make up the same bytes.
      const file = (await (
        await fetch(`${c.url}/api/files/${fileId}/`, { headers: bearer(token) })
      ).json()) as FileObject;
      expect(file).toMatchObject({ id: fileId, size: content.length, sha256: sha256(content), name: 'travelling.bin' });
      const split = 1_234_567;
      const first = await download(`${c.url}/f/${fileId}`, { ...bearer(token), range: `bytes=0-${split - 1}` });
      const rest = await download(`${c.url}/f/${fileId}`, { ...bearer(token), range: `bytes=${split}-` });
      expect([first.status, rest.status]).toEqual([206, 206]);
      expect(first.headers.get('content-range')).toBe(`bytes 0-${split - 1}/${content.length}`);
      expect(rest.headers.get('content-range')).toBe(`bytes ${split}-${content.length - 1}/${content.length}`);
      expect(sha256(Buffer.concat([first.body, rest.body]))).toBe(sha256(content));
      expect(await redis.client?.exists(lockKey(uploadPath.split('/').pop() as string))).toBe(0);
      console.info(`${kind}: upload cut on A, resumed on B from offset ${headOffset} of ${content.length}`);
    });

    it('two PATCHes at the same offset through A and B: one 204, one 409 or 423, the bytes are the winner’s', async () => {
      const outcomes = await raceTwoPatches({
        through: [a, b],
        via: c,
        token,
        runs: 6,
        // The lock is given back every time (never left to expire).
        afterRun: async (id) => expect(await redis.client?.exists(lockKey(id))).toBe(0),
      });
      console.info(
        `${kind}: tus race through two of three instances (${outcomes.length} runs): ${outcomes.join('; ')}`,
      );
    });

    it('an expired file is removed by exactly one job run, whichever worker runs it', async () => {
      const expiresAt = new Date(Date.now() + 4_000).toISOString();
      const files = await Promise.all(
        [a, b, c].map((instance, i) =>
          createFile(instance, token, `expiring ${i}`, { is_public: 'true', expires_at: expiresAt }),
        ),
      );
      const ids = files.map((f) => f.id);
      const storageKeys = (
        await database.db.selectFrom('files').select('storage_key').where('id', 'in', ids).execute()
      ).map((r) => r.storage_key);
      const held = await storage.keys();
      for (const key of storageKeys) expect(held).toContain(key);
      for (const [i, id] of ids.entries()) expect((await download(`${[a, b, c][i]?.url}/f/${id}`)).status).toBe(200);

      for (const id of ids) {
        await until(
          async () => ((await download(`${b.url}/f/${id}`)).status === 404 ? true : undefined),
          `file ${id} to be removed`,
        );
      }
      // Gone everywhere, bytes included.
      for (const instance of [a, b, c]) {
        for (const id of ids) {
          expect((await fetch(`${instance.url}/api/files/${id}/`, { headers: bearer(token) })).status).toBe(404);
        }
      }
      const { rows } = await sql<{ meta: { ids: string[] } }>`
      select meta from audit_log where action = 'file.expired'`.execute(database.db);
      const removals = rows.flatMap((r) => r.meta.ids);
      for (const id of ids) expect(removals.filter((x) => x === id)).toHaveLength(1);
      const left = await storage.keys();
      for (const key of storageKeys) expect(left.filter((k) => k.startsWith(key))).toEqual([]);
      // The workers' own accounts agree: three files removed in all, by one run or several, never twice.
      await sleep(2_500); // one more sweep interval: a second run would find (and report) nothing to do
      const reported = workers.map((w) =>
        logLines(w, 'delete-expired-files: removed').reduce((n, entry) => n + Number(entry.files ?? 0), 0),
      );
      expect(reported.reduce((x, y) => x + y, 0)).toBe(3);
      console.info(`${kind}: expiry: the 3 files were removed by worker-1 ${reported[0]}, worker-2 ${reported[1]}`);
    });

    it('clicks spread over the three instances are counted exactly, before and after the workers flush them', async () => {
      const file = await createFile(b, token, randomBytes(1024), { is_public: 'true' });
      const instances = [a, b, c];
      const clicks = 45;
      const visitors = 5;
      const statuses = await Promise.all(
        Array.from({ length: clicks }, async (_, i) => {
          const res = await fetch(`${instances[i % 3]?.url}/f/${file.id}`, {
            headers: { 'user-agent': `visitor-${i % visitors}` },
          });
          await res.arrayBuffer();
          return res.status;
        }),
      );
      expect(statuses.every((s) => s === 200)).toBe(true);
      const statsOn = async (instance: Started) =>
        (
          (await (
            await fetch(`${instance.url}/api/files/${file.id}/`, { headers: bearer(token) })
          ).json()) as FileObject
        ).stats;
      for (const instance of instances) {
        expect(await statsOn(instance)).toMatchObject({ clicks, unique_visitors: visitors });
      }
      // The workers move the counters into PostgreSQL (every second here); nothing is lost or counted twice.
      await until(async () => {
        const row = await database.db
          .selectFrom('file_click_totals')
          .select('clicks')
          .where('file_id', '=', file.id)
          .executeTakeFirst();
        return Number(row?.clicks) === clicks ? true : undefined;
      }, 'the clicks to be flushed');
      await sleep(1_500); // and another flush round that finds nothing new
      for (const instance of instances) {
        expect(await statsOn(instance)).toMatchObject({ clicks, unique_visitors: visitors });
      }
    });

    it('logout on A: the token is refused on B and C at once', async () => {
      const session = await deployment.login(b.url, 'leaving@example.com');
      const me = (instance: Started) => fetch(`${instance.url}/api/files/`, { headers: bearer(session) });
      // Each instance has seen (and cached) the session.
      for (const instance of [a, b, c]) expect((await me(instance)).status).toBe(200);
      const logout = await fetch(`${a.url}/api/logout/`, { method: 'POST', headers: bearer(session) });
      expect(logout.status).toBe(200);
      for (const instance of [b, c, a]) {
        const res = await me(instance);
        expect(res.status).toBe(401);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_token');
      }
    });
  },
);
