/**
 * Expiry and the orphan sweep (delete-expired-files) on STORAGE_DRIVER=s3, read back by listing the bucket: an
 * abandoned tus upload loses its `.info`, its `.part` and its open multipart upload; a finished upload keeps its
 * object but loses `.info`; an expired file loses its object; objects and multipart uploads no row owns go.
 */
import { Readable } from 'node:stream';
import { CreateMultipartUploadCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { listBucket, type S3TestServer, s3Env, startS3Server } from './s3-helpers.js';

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
    const client = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
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
});
