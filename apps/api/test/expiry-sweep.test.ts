import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobs, type Jobs } from '../src/jobs/agenda.js';
import { jobSpecs } from '../src/jobs/registry.js';
import { startTestApp, type TestApp } from './harness.js';

/**
 * Expiry on real Agenda and PostgreSQL: the app's own in-process Agenda plus a second Agenda instance on the
 * same database (as a second worker would be), with EXPIRY_INTERVAL='2 seconds'.
 */
const INTERVAL_MS = 2_000;
let app: TestApp;
let second: Jobs;
let session: { access: string };
const runs: { at: number; by: string }[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value) || Date.now() > end) return value;
    await sleep(100);
  }
}

async function upload(fields: Record<string, string>, body = randomBytes(256)) {
  const form = new FormData();
  form.set('file', new Blob([new Uint8Array(body)]), 'expiring.bin');
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  const res = await fetch(`${app.url}/api/files/`, {
    method: 'POST',
    body: form,
    headers: { authorization: `Bearer ${session.access}` },
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string };
}

const fileRow = (id: string) => app.deps.db.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirst();
const objectPath = (key: string) => path.join(app.config.storageDir, key);
const exists = (p: string) =>
  fs.access(p).then(
    () => true,
    () => false,
  );

beforeAll(async () => {
  app = await startTestApp({ EXPIRY_INTERVAL: '2 seconds', ORPHAN_GRACE_SECONDS: '2', STATS_FLUSH_INTERVAL: '1 hour' });
  second = createJobs(
    { connectionString: app.database.url, processEvery: '1 second', name: 'second-worker', specs: jobSpecs },
    app.deps,
  );
  await second.start();
  // Agenda re-emits other instances' job events with remote=true: count each run where it really ran.
  const count = (by: string) => (_job: unknown, remote?: boolean) => {
    if (remote !== true) runs.push({ at: Date.now(), by });
  };
  app.deps.jobs.agenda.on('start:delete-expired-files', count('first'));
  second.agenda.on('start:delete-expired-files', count('second'));
  session = await app.login('expiry@example.com');
});
afterAll(async () => {
  await second?.stop();
  await app?.stop();
});

describe('delete-expired-files with two Agenda instances', () => {
  it('runs once per interval across both instances, never twice', async () => {
    const from = runs.length;
    const started = Date.now();
    await sleep(9_000);
    const window = runs.slice(from);
    const elapsed = Date.now() - started;
    // Every 2 s over 9 s: about 4 runs; never two in the same interval.
    expect(window.length).toBeGreaterThanOrEqual(3);
    expect(window.length).toBeLessThanOrEqual(Math.ceil(elapsed / INTERVAL_MS) + 1);
    for (let i = 1; i < window.length; i++) {
      expect((window[i] as { at: number }).at - (window[i - 1] as { at: number }).at).toBeGreaterThanOrEqual(
        INTERVAL_MS - 250,
      );
    }
    const row = await app.deps.db
      .selectFrom('agenda_jobs' as never)
      .select(['name' as never, 'type' as never])
      .where('name' as never, '=', 'delete-expired-files' as never)
      .execute();
    expect(row).toEqual([{ name: 'delete-expired-files', type: 'single' }]);
  });

  it('a file expiring in a few seconds is 410 at once and gone (bytes and rows) after the next run', async () => {
    const expiresAt = new Date(Date.now() + 3_000);
    const file = await upload({ is_public: 'true', hashtags: 'soon-gone', expires_at: expiresAt.toISOString() });
    const row = await fileRow(file.id);
    expect(row).toBeDefined();
    const key = row?.storage_key as string;
    expect(await exists(objectPath(key))).toBe(true);
    expect((await fetch(`${app.url}/f/${file.id}`)).status).toBe(200);

    await sleep(expiresAt.getTime() - Date.now() + 20);
    const expiredAt = Date.now();
    expect((await fetch(`${app.url}/f/${file.id}`)).status).toBe(410);
    const listed = await app.api<{ results: { id: string }[] }>('GET', '/api/public/files/');
    expect(listed.body.results.map((f) => f.id)).not.toContain(file.id);
    const tags = await app.api<{ results: { name: string }[] }>('GET', '/api/hashtags/');
    expect(tags.body.results.map((t) => t.name)).not.toContain('soon-gone');

    const gone = await until(
      async () => ({ row: await fileRow(file.id), bytes: await exists(objectPath(key)) }),
      (s) => !s.row && !s.bytes,
    );
    expect(gone).toEqual({ row: undefined, bytes: false });
    expect(Date.now() - expiredAt).toBeLessThan(INTERVAL_MS * 2 + 1_500);
    const links = await app.deps.db.selectFrom('file_hashtags').selectAll().where('file_id', '=', file.id).execute();
    expect(links).toEqual([]);
    const entries = await app.deps.db
      .selectFrom('audit_log')
      .select(['actor_id', 'meta'])
      .where('action', '=', 'file.expired')
      .execute();
    const entry = entries.find((e) => (e.meta.ids as string[]).includes(file.id));
    expect(entry).toMatchObject({ actor_id: null, meta: { count: 1 } });
  });

  it('a run killed half-way (rows deleted, bytes not) is finished by the next run', async () => {
    const files = await Promise.all([1, 2, 3].map(() => upload({ is_public: 'false' })));
    const keys = (
      await app.deps.db
        .selectFrom('files')
        .select('storage_key')
        .where(
          'id',
          'in',
          files.map((f) => f.id),
        )
        .execute()
    ).map((r) => r.storage_key);
    await app.deps.db
      .updateTable('files')
      .set({ expires_at: new Date(Date.now() - 1_000) })
      .where(
        'id',
        'in',
        files.map((f) => f.id),
      )
      .execute();
    // A run that dies after deleting the rows, before the bytes (storage fails).
    const storage = app.deps.storage;
    const original = storage.deleteMany;
    storage.deleteMany = async () => {
      throw new Error('killed half-way');
    };
    try {
      await expect(app.deps.jobs.runNow('delete-expired-files')).rejects.toThrow('killed half-way');
    } finally {
      storage.deleteMany = original;
    }
    for (const f of files) expect(await fileRow(f.id)).toBeUndefined();
    for (const key of keys) expect(await exists(objectPath(key))).toBe(true);

    // The next scheduled run removes the orphaned bytes (older than ORPHAN_GRACE_SECONDS).
    const left = await until(
      async () => (await Promise.all(keys.map((k) => exists(objectPath(k))))).filter(Boolean).length,
      (n) => n === 0,
    );
    expect(left).toBe(0);
  });

  it('removes abandoned tus uploads past their expiry and objects with no row, but not fresh ones', async () => {
    const created = await fetch(`${app.url}/uploads/`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${session.access}`,
        'tus-resumable': '1.0.0',
        'upload-length': '1000',
        'upload-metadata': `filename ${Buffer.from('abandoned.bin').toString('base64')}`,
      },
    });
    expect(created.status).toBe(201);
    const uploadId = String(created.headers.get('location')).split('/').pop() as string;
    expect(await exists(objectPath(uploadId))).toBe(true);
    expect(await exists(`${objectPath(uploadId)}.json`)).toBe(true);
    // A second upload, still within its expiry, is kept.
    const kept = await fetch(`${app.url}/uploads/`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${session.access}`,
        'tus-resumable': '1.0.0',
        'upload-length': '1000',
        'upload-metadata': `filename ${Buffer.from('kept.bin').toString('base64')}`,
      },
    });
    const keptId = String(kept.headers.get('location')).split('/').pop() as string;
    await app.deps.db
      .updateTable('uploads')
      .set({ expires_at: new Date(Date.now() - 1_000) })
      .where('id', '=', uploadId)
      .execute();

    const orphan = `orphan-${randomBytes(8).toString('hex')}`;
    await app.deps.storage.put(orphan, Readable.from([Buffer.from('no row owns me')]));
    const old = new Date(Date.now() - 2 * 3600_000);
    await fs.utimes(objectPath(orphan), old, old);

    await app.deps.jobs.runNow('delete-expired-files');
    expect(await app.deps.db.selectFrom('uploads').select('id').where('id', '=', uploadId).executeTakeFirst()).toBe(
      undefined,
    );
    expect(await exists(objectPath(uploadId))).toBe(false);
    expect(await exists(`${objectPath(uploadId)}.json`)).toBe(false);
    expect(await exists(objectPath(orphan))).toBe(false);
    expect(await exists(objectPath(keptId))).toBe(true);
    expect(await app.deps.db.selectFrom('uploads').select('id').where('id', '=', keptId).executeTakeFirst()).toEqual({
      id: keptId,
    });
    const audit = await app.deps.db
      .selectFrom('audit_log')
      .select('meta')
      .where('action', '=', 'upload.expired')
      .execute();
    expect(audit.some((a) => (a.meta.ids as string[]).includes(uploadId))).toBe(true);
  });

  it('npm run jobs:run -- delete-expired-files has the job (runNow by name)', async () => {
    await expect(app.deps.jobs.runNow('delete-expired-files')).resolves.toBeUndefined();
    await expect(app.deps.jobs.runNow('flush-click-stats')).resolves.toBeUndefined();
  });
});
