/**
 * Expiry and the orphan sweep (delete-expired-files) on STORAGE_DRIVER=s3, read back by listing the bucket: an
 * abandoned tus upload loses its `.info`, its `.part` and its open multipart upload; a finished upload keeps its
 * object but loses `.info`; an expired file loses its object; objects and multipart uploads no row owns go, also
 * when the bucket lists over more than one page (S3 pages hold 1,000 keys).
 */
import { Readable } from 'node:stream';
import { CreateMultipartUploadCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepExpired } from '../src/jobs/delete-expired-files.job.js';
import {
  bytes,
  createRawUpload,
  restUpload,
  type Session,
  startFilesApp,
  stopFilesApp,
  type TestApp,
  tusRaw,
} from './files-helpers.js';
import { listBucket, type S3TestServer, s3Client, s3Env, startS3Server } from './s3-helpers.js';

const PREFIX = 'expiry/';
const MiB = 1024 * 1024;
let s3: S3TestServer;
let app: TestApp;
let user: Session;

beforeAll(async () => {
  s3 = await startS3Server();
  // No grace for orphans (nothing else writes to this prefix); the sweep is run by hand.
  app = await startFilesApp({ ...s3Env(s3, PREFIX), ORPHAN_GRACE_SECONDS: '0', EXPIRY_INTERVAL: '1 hour' });
  user = await app.login('expiry-s3@example.com');
});
afterAll(async () => {
  await stopFilesApp(app);
  await s3?.stop();
});

const sweep = () => app.deps.jobs.runNow('delete-expired-files');
const objectsOf = async (id: string) => (await listBucket(s3, PREFIX)).objects.filter((k) => k.startsWith(id));
const idOf = (url: string) => url.split('/').pop() as string;
const patch = (url: string, offset: number, body: Buffer) =>
  tusRaw(app, 'PATCH', url, {
    token: user.access,
    headers: { 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' },
    body,
  });
const expireUpload = (id: string) =>
  app.deps.db
    .updateTable('uploads')
    .set({ expires_at: new Date(Date.now() - 1000) })
    .where('id', '=', id)
    .execute();

describe('delete-expired-files on s3', () => {
  it('an abandoned upload loses every object: .info, the .part of its last chunk and the open multipart upload', async () => {
    const url = await createRawUpload(app, user.access, 20 * MiB, { filename: 'abandoned.bin' });
    expect((await patch(url, 0, bytes(6 * MiB))).status).toBe(204); // one part (multipart upload)
    expect((await patch(url, 6 * MiB, bytes(MiB))).status).toBe(204); // less than a part: `.part`
    const id = idOf(url);
    expect(await objectsOf(id)).toEqual([`${id}.info`, `${id}.part`]);
    expect((await listBucket(s3, PREFIX)).uploads).toContain(id);

    await expireUpload(id);
    await sweep();
    expect(await objectsOf(id)).toEqual([]);
    expect((await listBucket(s3, PREFIX)).uploads).not.toContain(id);
    expect((await tusRaw(app, 'HEAD', url, { token: user.access })).status).toBe(404);
  });

  it('a finished upload keeps its object until its file expires; its .info goes when the upload row does', async () => {
    const content = bytes(2 * MiB);
    const url = await createRawUpload(app, user.access, content.length, { filename: 'done.bin' });
    const done = await patch(url, 0, content);
    expect(done.status).toBe(204);
    const id = idOf(url);
    expect(await objectsOf(id)).toEqual([id, `${id}.info`]);

    await expireUpload(id);
    await sweep();
    expect(await objectsOf(id)).toEqual([id]);
    expect((await app.api('GET', `/api/files/${id}/`, { token: user.access })).status).toBe(200);

    await app.deps.db
      .updateTable('files')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', id)
      .execute();
    await sweep();
    expect(await objectsOf(id)).toEqual([]);
    expect((await app.api('GET', `/api/files/${id}/`, { token: user.access })).status).toBe(404);
  });

  it('objects and multipart uploads that no row owns are swept; those of files are not', async () => {
    const kept = await restUpload(app, user.access, bytes(1000), { filename: 'kept.bin' });
    expect(kept.status).toBe(201);
    const orphan = 'orphan-object-1';
    await app.deps.storage.put(orphan, Readable.from([Buffer.from('no row owns me')]));
    const client = await s3Client(s3);
    await client.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: `${PREFIX}orphan-upload-1` }));
    client.destroy();
    const before = await listBucket(s3, PREFIX);
    expect(before.objects).toContain(orphan);
    expect(before.uploads).toContain('orphan-upload-1');

    await sweep();
    const after = await listBucket(s3, PREFIX);
    expect(after.objects).not.toContain(orphan);
    expect(after.uploads).not.toContain('orphan-upload-1');
    expect(after.objects).toContain(kept.body.id);
  });

  it('lists the bucket page by page: 1,100 orphans around live files on two pages all go, every live object stays', async () => {
    // Live: REST files, a finished tus upload (its object and .info) and one on its way (.info, .part and an open
    // multipart upload).
    const restIds = await Promise.all(
      [1, 2, 3].map(async (i) => {
        const res = await restUpload(app, user.access, bytes(1000 + i), { filename: `live-${i}.bin` });
        expect(res.status).toBe(201);
        return res.body.id;
      }),
    );
    const finished = await createRawUpload(app, user.access, MiB, { filename: 'live-done.bin' });
    expect((await patch(finished, 0, bytes(MiB))).status).toBe(204);
    const open = await createRawUpload(app, user.access, 20 * MiB, { filename: 'live-open.bin' });
    expect((await patch(open, 0, bytes(6 * MiB))).status).toBe(204);
    expect((await patch(open, 6 * MiB, bytes(MiB))).status).toBe(204);
    const live = [...restIds, idOf(finished), idOf(open)].sort();
    await sweepExpired(app.deps); // whatever earlier tests left behind goes now: from here on, only live objects
    const before = await listBucket(s3, PREFIX);
    for (const id of restIds) expect(before.objects).toContain(id);
    expect(before.objects).toEqual(expect.arrayContaining([idOf(finished), `${idOf(finished)}.info`]));
    expect(before.objects).toEqual(expect.arrayContaining([`${idOf(open)}.info`, `${idOf(open)}.part`]));
    expect(before.uploads).toContain(idOf(open));

    // Orphans between the live ids (keys sort by bytes: '-' < digits < '_' < letters; the ids are UUIDs): 250
    // before the first, 250 after each of the next three, 50 after each of the last two. So live objects sit on
    // the first page and on the second one, and so do orphans.
    const gaps = [250, 250, 250, 250, 50, 50];
    const key = (head: string, n: number) => `${head}_orphan-${String(n).padStart(4, '0')}`;
    const orphans = gaps.flatMap((size, i) =>
      Array.from({ length: size }, (_, n) => key(i === 0 ? '-' : (live[i - 1] as string).slice(0, 8), n)),
    );
    expect(orphans).toHaveLength(1_100);
    const client = await s3Client(s3);
    // Objects outside S3_PREFIX, with keys the sweep would take for orphans: never touched.
    const foreign = orphans.slice(0, 5).map((k) => `expiry0/${k}`);
    try {
      const keys = [...orphans.map((k) => `${PREFIX}${k}`), ...foreign];
      for (let i = 0; i < keys.length; i += 25) {
        await Promise.all(
          keys
            .slice(i, i + 25)
            .map((Key) => client.send(new PutObjectCommand({ Bucket: s3.bucket, Key, Body: 'no row owns me' }))),
        );
      }
    } finally {
      client.destroy();
    }
    const listed = (await listBucket(s3, PREFIX)).objects;
    expect(listed).toHaveLength(before.objects.length + orphans.length);
    const pageOf = (k: string) => Math.floor(listed.indexOf(k) / 1_000);
    expect([...new Set(before.objects.map(pageOf))].sort()).toEqual([0, 1]);
    expect([...new Set(orphans.map(pageOf))].sort()).toEqual([0, 1]);

    // One sweep, watched: every key it deletes goes through the real storage.deleteMany, recorded on the way.
    const storage = app.deps.storage;
    const realDeleteMany = storage.deleteMany;
    const deleted: string[] = [];
    const failed: string[] = [];
    storage.deleteMany = async (keys) => {
      deleted.push(...keys);
      const answer = await realDeleteMany(keys);
      failed.push(...answer.failed);
      return answer;
    };
    const result = await sweepExpired(app.deps).finally(() => {
      storage.deleteMany = realDeleteMany;
    });
    // Every orphan of both pages was taken for one, once, and nothing else was.
    expect([...deleted].sort()).toEqual([...orphans].sort());
    expect(result.orphans).toBe(orphans.length - failed.length);
    // Read back through the S3 API: the orphans are gone and every live object is there. A delete that fails (the
    // store or Redis away) leaves exactly that orphan, and the next run removes it, as after a crash.
    let after = await listBucket(s3, PREFIX);
    expect(after.objects).toEqual([...before.objects, ...failed].sort());
    if (failed.length > 0) {
      await sweepExpired(app.deps);
      after = await listBucket(s3, PREFIX);
    }
    expect(after.objects).toEqual(before.objects);
    expect(after.uploads).toEqual(before.uploads);
    expect((await listBucket(s3, 'expiry0/')).objects).toEqual(foreign.map((k) => k.slice('expiry0/'.length)).sort());

    // And they still work: the files are there, the open upload continues where it was.
    for (const id of restIds)
      expect((await app.api('GET', `/api/files/${id}/`, { token: user.access })).status).toBe(200);
    const head = await tusRaw(app, 'HEAD', open, { token: user.access });
    expect(head.status).toBe(200);
    expect(head.headers.get('upload-offset')).toBe(String(7 * MiB));
  });
});
