/**
 * Anonymous downloads of public files are served from each instance's cached row (no PostgreSQL round trip),
 * and every change made through another instance takes effect at once: two API instances share one database,
 * Redis, key prefix and storage, as behind a load balancer. Without REDIS_URL the in-process store behaves the same
 * within one process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordQueries, stopWhenIdle } from './auth-helpers.js';
import { bearer, createFile, download, restUpload, type Session } from './files-helpers.js';
import { startTestApp, type TestApp } from './harness.js';

let a: TestApp;
let b: TestApp;
let local: TestApp;
let alice: Session;

beforeAll(async () => {
  [a, local] = await Promise.all([startTestApp(), startTestApp({ REDIS_URL: '' })]);
  b = await startTestApp({ STORAGE_DIR: a.config.storageDir }, { shareWith: a });
  alice = await a.login('cache-alice@example.com');
});
afterAll(async () => {
  await stopWhenIdle(b);
  await Promise.all([a, local].map(stopWhenIdle));
});

/** The file's URL on instance `app`. */
const on = (app: TestApp, id: string) => `${app.url}/f/${id}`;

async function queriesOf(app: TestApp, work: () => Promise<unknown>) {
  const recorder = recordQueries(app);
  try {
    await work();
  } finally {
    recorder.stop();
  }
  return recorder.sql;
}

describe('download metadata cache', () => {
  it('serves repeated anonymous downloads without a database query, and still counts each of them', async () => {
    const f = await createFile(a, alice.access, 'cached bytes', { is_public: 'true' }, 'c.txt');
    expect((await download(on(b, f.id))).body.toString()).toBe('cached bytes');
    const sql = await queriesOf(b, async () => {
      for (let i = 0; i < 3; i++) expect((await download(on(b, f.id))).body.toString()).toBe('cached bytes');
      expect((await download(on(b, f.id), {}, 'HEAD')).status).toBe(200);
      expect((await download(on(b, f.id), { range: 'bytes=7-11' })).body.toString()).toBe('bytes');
    });
    expect(sql).toEqual([]);
    // 1 + 3 GETs are clicks; HEAD and a Range that does not start at byte 0 are not.
    const detail = await a.api<{ stats: { clicks: number } }>('GET', `/api/files/${f.id}/`, { token: alice.access });
    expect(detail.body.stats.clicks).toBe(4);
  });

  it('takes every change made on another instance into account at once', async () => {
    const f = await createFile(a, alice.access, 'first', { is_public: 'true' }, 'one.txt');
    expect((await download(on(b, f.id))).status).toBe(200); // B now holds the row

    const patch = (body: unknown) => a.api('PATCH', `/api/files/${f.id}/`, { token: alice.access, body });
    expect((await patch({ is_public: false })).status).toBe(200);
    expect((await download(on(b, f.id))).status).toBe(404);
    expect((await download(on(b, f.id), bearer(alice.access))).body.toString()).toBe('first');

    expect((await patch({ is_public: true, name: 'renamed.txt' })).status).toBe(200);
    expect((await download(on(b, f.id))).headers.get('content-disposition')).toContain('renamed.txt');

    const replaced = await restUpload(a, alice.access, 'second', { method: 'PUT', path: `/api/files/${f.id}/` });
    expect(replaced.status).toBe(200);
    expect((await download(on(b, f.id))).body.toString()).toBe('second');

    expect((await patch({ expires_at: new Date(Date.now() + 1_000).toISOString() })).status).toBe(200);
    expect((await download(on(b, f.id))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await download(on(b, f.id))).status).toBe(410);

    expect((await patch({ expires_at: null, max_downloads: 1 })).status).toBe(200);
    expect((await download(on(b, f.id))).status).toBe(200);
    expect((await download(on(b, f.id))).status).toBe(410);

    expect((await patch({ max_downloads: null })).status).toBe(200);
    expect((await download(on(b, f.id))).status).toBe(200);
    expect((await a.api('DELETE', `/api/files/${f.id}/`, { token: alice.access })).status).toBe(204);
    expect((await download(on(b, f.id))).status).toBe(404);
  });

  it('without Redis, follows changes within the one process', async () => {
    const bob = await local.login('cache-bob@example.com');
    const f = await createFile(local, bob.access, 'local', { is_public: 'true' }, 'l.txt');
    expect((await download(on(local, f.id))).body.toString()).toBe('local');
    expect((await download(on(local, f.id))).body.toString()).toBe('local');
    const hidden = await local.api('PATCH', `/api/files/${f.id}/`, { token: bob.access, body: { is_public: false } });
    expect(hidden.status).toBe(200);
    expect((await download(on(local, f.id))).status).toBe(404);
  });
});
