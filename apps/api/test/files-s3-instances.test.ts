/**
 * Two API instances behind one load balancer on STORAGE_DRIVER=s3 (the same database, Redis prefix, SECRET_KEY
 * and bucket prefix; the test's own S3-compatible server): @tus/s3-store's metadata cache is shared through
 * Redis, so what one instance cached is what the other one changed. A deferred-length upload cached without a
 * length by A gets its length through B, and A then sees it and finishes the file whole; an upload A cached is
 * terminated through B, and A's cached entry goes with it. With a cache per process, A would keep answering
 * "length deferred" and never finish the upload.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  bytes,
  createRawUpload,
  download,
  encodeMetadata,
  type FileObject,
  type Session,
  sha256,
  startFilesApp,
  stopFilesApp,
  type TestApp,
  tusRaw,
} from './files-helpers.js';
import { startTestApp } from './harness.js';
import { listBucket, type S3TestServer, s3Env, startS3Server } from './s3-helpers.js';

const PREFIX = 'instances/';
const OFFSET = 'application/offset+octet-stream';
const MiB = 1024 * 1024;
let s3: S3TestServer;
let a: TestApp;
let b: TestApp;
let user: Session;

beforeAll(async () => {
  s3 = await startS3Server();
  // Both on the same bucket prefix (s3Env with an explicit prefix); B shares A's database and Redis prefix.
  a = await startFilesApp(s3Env(s3, PREFIX));
  b = await startTestApp(s3Env(s3, PREFIX), { shareWith: a });
  user = await a.login('instances-s3@example.com');
});
afterAll(async () => {
  await stopFilesApp(b);
  await stopFilesApp(a);
  await s3?.stop();
});

/** The upload's URL on an instance (the same path behind either). */
const on = (app: TestApp, id: string) => `${app.url}/uploads/${id}`;
const patch = (app: TestApp, id: string, offset: number, body: Buffer, headers: Record<string, string> = {}) =>
  tusRaw(app, 'PATCH', on(app, id), {
    token: user.access,
    headers: { 'upload-offset': String(offset), 'content-type': OFFSET, ...headers },
    body,
  });
/** What HEAD on an instance says about an upload. */
async function head(app: TestApp, id: string) {
  const res = await tusRaw(app, 'HEAD', on(app, id), { token: user.access });
  return {
    status: res.status,
    offset: res.headers.get('upload-offset'),
    length: res.headers.get('upload-length'),
    deferred: res.headers.get('upload-defer-length'),
  };
}
const objectsOf = async (id: string) => (await listBucket(s3, PREFIX)).objects.filter((k) => k.startsWith(id));
/** The entry of @tus/s3-store's metadata cache for an upload, in the Redis both instances share. */
const cached = async (id: string) =>
  (await a.deps.redis.client?.exists(`${a.config.REDIS_KEY_PREFIX}tus-s3:${id}`)) === 1;

describe('two instances on s3 share the tus metadata cache', () => {
  it('a length declared through B reaches A, which had cached the upload without one: both agree, the file is whole', async () => {
    expect(a.config.REDIS_KEY_PREFIX).toBe(b.config.REDIS_KEY_PREFIX);
    expect(a.config.S3_PREFIX).toBe(b.config.S3_PREFIX);
    const content = bytes(20 * MiB);
    const created = await tusRaw(a, 'POST', '/uploads/', {
      token: user.access,
      headers: { 'upload-defer-length': '1', 'upload-metadata': encodeMetadata({ filename: 'deferred.bin' }) },
    });
    expect(created.status).toBe(201);
    const id = (created.headers.get('location') as string).split('/').pop() as string;

    // A: 3 MiB while the length is deferred (kept as `.part`); A caches the upload as it is: no length.
    const first = await patch(a, id, 0, content.subarray(0, 3 * MiB));
    expect(first.status).toBe(204);
    expect(await head(a, id)).toEqual({ status: 200, offset: String(3 * MiB), length: null, deferred: '1' });

    // B: the length with the next 7 MiB (an 8 MiB part is written, 2 MiB stay in `.part`).
    const declared = await patch(b, id, 3 * MiB, content.subarray(3 * MiB, 10 * MiB), {
      'upload-length': String(content.length),
    });
    expect(declared.status).toBe(204);
    expect(declared.headers.get('upload-offset')).toBe(String(10 * MiB));

    // A sees the length B declared, not the deferred upload it had cached.
    const between = { status: 200, offset: String(10 * MiB), length: String(content.length), deferred: null };
    expect(await head(a, id)).toEqual(between);
    expect(await head(b, id)).toEqual(between);

    // A: the rest (an 8 MiB part and the last 4 MiB): the upload is complete and becomes its file.
    const last = await patch(a, id, 10 * MiB, content.subarray(10 * MiB));
    expect(last.status).toBe(204);
    expect(last.headers.get('upload-offset')).toBe(String(content.length));
    expect(last.headers.get('tagdrop-file-id')).toBe(id);

    const done = { status: 200, offset: String(content.length), length: String(content.length), deferred: null };
    expect(await head(a, id)).toEqual(done);
    expect(await head(b, id)).toEqual(done);
    for (const app of [a, b]) {
      const file = await app.api<FileObject>('GET', `/api/files/${id}/`, { token: user.access });
      expect(file.status).toBe(200);
      expect(file.body.size).toBe(content.length);
      expect(file.body.sha256).toBe(sha256(content));
    }
    const got = await download(`${b.url}/f/${id}`, bearer(user.access));
    expect(got.status).toBe(200);
    expect(sha256(got.body)).toBe(sha256(content));
    const bucket = await listBucket(s3, PREFIX);
    expect(bucket.objects.filter((k) => k.startsWith(id))).toEqual([id, `${id}.info`]);
    expect(bucket.uploads).not.toContain(id);
  });

  it('termination through B of an upload A cached: A answers 404 and the cached entry and every object are gone', async () => {
    const url = await createRawUpload(a, user.access, 12 * MiB, { filename: 'terminated.bin' });
    const id = url.split('/').pop() as string;
    expect((await patch(a, id, 0, bytes(6 * MiB))).status).toBe(204); // one part of the multipart upload
    expect((await patch(a, id, 6 * MiB, bytes(MiB))).status).toBe(204); // less than a part: `.part`
    expect(await head(a, id)).toEqual({
      status: 200,
      offset: String(7 * MiB),
      length: String(12 * MiB),
      deferred: null,
    });
    // A's metadata of the upload is in the shared cache, not in A's memory.
    expect(await cached(id)).toBe(true);
    const before = await listBucket(s3, PREFIX);
    expect(before.objects.filter((k) => k.startsWith(id))).toEqual([`${id}.info`, `${id}.part`]);
    expect(before.uploads).toContain(id);

    expect((await tusRaw(b, 'DELETE', on(b, id), { token: user.access })).status).toBe(204);

    expect([404, 410]).toContain((await head(a, id)).status);
    expect([404, 410]).toContain((await patch(a, id, 7 * MiB, bytes(16))).status);
    expect([404, 410]).toContain((await head(b, id)).status);
    expect(await cached(id)).toBe(false);
    expect(await objectsOf(id)).toEqual([]);
    expect((await listBucket(s3, PREFIX)).uploads).not.toContain(id);
  });
});
