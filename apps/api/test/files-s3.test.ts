/**
 * STORAGE_DRIVER=s3 against an S3-compatible server started here (s3rver behind test/s3-helpers.ts): uploads over
 * REST and tus land in the bucket under S3_PREFIX, survive a server restart and an interrupted PATCH (HEAD gives
 * the stored offset, the file's sha256 is the sha256 of what was sent), downloads stream with Range and 304, and
 * termination, deletion and replacement leave no object behind. The whole file suite also runs on s3 (project
 * `s3` in vitest.config.ts); this file holds what only an object store has.
 */
import { once } from 'node:events';
import { request } from 'node:http';
import { DeleteObjectsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/env.js';
import { bytesUsed } from '../src/modules/files/files.queries.js';
import {
  bearer,
  bytes,
  createRawUpload,
  download,
  type FileObject,
  restUpload,
  type Session,
  sha256,
  startFilesApp,
  stopFilesApp,
  type TestApp,
  tusRaw,
} from './files-helpers.js';
import { listBucket, type S3TestServer, s3Client, s3Env, startS3Server } from './s3-helpers.js';

const OFFSET = 'application/offset+octet-stream';
const MiB = 1024 * 1024;
let s3: S3TestServer;
let app: TestApp;
let user: Session;
let n = 0;
/** The requests the S3 server received (method, path and query, headers), in order. */
const seen: { method: string; url: string; headers: Record<string, string | string[] | undefined> }[] = [];

beforeAll(async () => {
  s3 = await startS3Server({
    onRequest: (req) => seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers }),
  });
  app = await startFilesApp(s3Env(s3, 'files-s3/'));
  user = await app.login(`s3-${n++}@example.com`);
});
afterAll(async () => {
  await stopFilesApp(app);
  await s3?.stop();
});

const bucket = () => listBucket(s3, 'files-s3/');
const idOf = (url: string) => url.split('/').pop() as string;
const patch = (url: string, offset: number, body: Buffer) =>
  tusRaw(app, 'PATCH', url, {
    token: user.access,
    headers: { 'upload-offset': String(offset), 'content-type': OFFSET },
    body,
  });
const offsetOf = async (url: string) => {
  const res = await tusRaw(app, 'HEAD', url, { token: user.access });
  expect(res.status).toBe(200);
  return Number(res.headers.get('upload-offset'));
};

/** Sends `body` as a PATCH body and aborts the request once about `cutAfter` bytes are out. */
async function interruptedPatch(url: string, offset: number, body: Buffer, cutAfter: number) {
  const controller = new AbortController();
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      if (sent >= cutAfter) {
        controller.abort();
        return;
      }
      const piece = body.subarray(sent, sent + 256 * 1024);
      sent += piece.length;
      ctrl.enqueue(new Uint8Array(piece));
      await new Promise((r) => setTimeout(r, 5));
    },
  });
  await fetch(url, {
    method: 'PATCH',
    headers: {
      'tus-resumable': '1.0.0',
      authorization: `Bearer ${user.access}`,
      'upload-offset': String(offset),
      'content-type': OFFSET,
      'content-length': String(body.length),
    },
    body: stream,
    duplex: 'half',
    signal: controller.signal,
  } as RequestInit).catch(() => undefined);
}

/**
 * A REST multipart upload of `total` file bytes whose client goes away after about `cutAfter` of them: the request
 * is destroyed once the server has opened the S3 multipart upload (a part of 8 MiB reached the store's uploader).
 */
async function cutRestUpload(token: string, total: number, cutAfter: number) {
  const before = new Set((await bucket()).uploads);
  const boundary = 'x-tagdrop-cut';
  const head = Buffer.from(
    `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="cut.bin"\r\n` +
      'content-type: application/octet-stream\r\n\r\n',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const req = request(`${app.url}/api/files/`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': String(head.length + total + tail.length),
    },
  });
  let answered: number | undefined;
  req.on('response', (res) => {
    answered = res.statusCode;
    res.resume();
  });
  req.on('error', () => {});
  req.write(head);
  const piece = bytes(MiB);
  for (let sent = 0; sent < cutAfter; sent += piece.length) {
    if (!req.write(piece)) await once(req, 'drain');
  }
  await expect
    .poll(async () => (await bucket()).uploads.filter((k) => !before.has(k)).length, { timeout: 15_000 })
    .toBe(1);
  req.destroy();
  expect(answered).toBeUndefined(); // cut mid-body, not refused
}

describe('STORAGE_DRIVER=s3', () => {
  it('stores a REST upload under S3_PREFIX and serves it with the same headers, Range and 304', async () => {
    const content = bytes(300_000);
    const res = await restUpload(app, user.access, content, { filename: 'notes.bin' });
    expect(res.status).toBe(201);
    const file: FileObject = res.body;
    expect(file.sha256).toBe(sha256(content));
    expect((await bucket()).objects).toContain(file.id);

    const whole = await download(file.download_url as string, bearer(user.access));
    expect(whole.status).toBe(200);
    expect(sha256(whole.body)).toBe(file.sha256);
    expect(whole.headers.get('content-disposition')).toBe('attachment; filename=notes.bin');
    expect(whole.headers.get('x-content-type-options')).toBe('nosniff');
    expect(whole.headers.get('etag')).toBe(`"${file.sha256}"`);

    const part = await download(file.download_url as string, { ...bearer(user.access), range: 'bytes=1000-1999' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 1000-1999/${content.length}`);
    expect(part.body.equals(content.subarray(1000, 2000))).toBe(true);

    const again = await download(file.download_url as string, {
      ...bearer(user.access),
      'if-none-match': `"${file.sha256}"`,
    });
    expect(again.status).toBe(304);
  });

  it('resumes a tus upload after a restart and an interrupted PATCH: HEAD gives the stored offset, sha256 matches', async () => {
    const content = bytes(13 * MiB);
    const url = await createRawUpload(app, user.access, content.length, { filename: 'big.bin' });
    // 1 MiB: less than a part, kept as the `.part` object.
    expect((await patch(url, 0, content.subarray(0, MiB))).status).toBe(204);
    expect((await bucket()).objects).toContain(`${idOf(url)}.part`);

    await app.restart(); // nothing in memory survives: no running digest, no metadata cache
    expect(await offsetOf(url)).toBe(MiB);

    await interruptedPatch(url, MiB, content.subarray(MiB), 7 * MiB);
    const offset = await offsetOf(url);
    expect(offset).toBeGreaterThanOrEqual(MiB);
    expect(offset).toBeLessThan(content.length);

    const last = await patch(url, offset, content.subarray(offset));
    expect(last.status).toBe(204);
    const fileId = last.headers.get('tagdrop-file-id') as string;
    const file = await app.api<FileObject>('GET', `/api/files/${fileId}/`, { token: user.access });
    expect(file.body.size).toBe(content.length);
    expect(file.body.sha256).toBe(sha256(content));
    const got = await download(file.body.download_url as string, bearer(user.access));
    expect(sha256(got.body)).toBe(sha256(content));
    expect((await bucket()).uploads).not.toContain(idOf(url));
  });

  it('termination of an unfinished upload removes every object of it, its .part and multipart upload too', async () => {
    const url = await createRawUpload(app, user.access, 10 * MiB, { filename: 'gone.bin' });
    expect((await patch(url, 0, bytes(MiB))).status).toBe(204);
    const id = idOf(url);
    const before = await bucket();
    expect(before.objects).toEqual(expect.arrayContaining([`${id}.info`, `${id}.part`]));
    expect(before.uploads).toContain(id);

    expect((await tusRaw(app, 'DELETE', url, { token: user.access })).status).toBe(204);
    const after = await bucket();
    expect(after.objects.filter((k) => k.startsWith(id))).toEqual([]);
    expect(after.uploads).not.toContain(id);
  });

  it('replacing content keeps the id and removes the old object; deleting the file removes the new one', async () => {
    const first = await restUpload(app, user.access, 'first version', { filename: 'doc.txt' });
    const id = first.body.id;
    const replaced = await restUpload(app, user.access, 'second version', {
      method: 'PUT',
      path: `/api/files/${id}/`,
      filename: 'doc.txt',
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body.id).toBe(id);
    expect(replaced.body.sha256).toBe(sha256(Buffer.from('second version')));
    const got = await download(replaced.body.download_url as string, bearer(user.access));
    expect(got.body.toString()).toBe('second version');
    const keys = (await bucket()).objects;
    expect(keys).not.toContain(id); // the first content's key was the id; the new content has a key of its own

    expect((await app.api('DELETE', `/api/files/${id}/`, { token: user.access })).status).toBe(204);
    const left = (await bucket()).objects;
    expect(left.filter((k) => !keys.includes(k))).toEqual([]);
    expect(left.length).toBeLessThan(keys.length);
  });
});

describe('REST uploads of several parts (lib-storage, 8 MiB parts)', () => {
  const partsOf = (key: string) =>
    seen.filter((r) => r.method === 'PUT' && r.url.includes(`/files-s3/${key}?`) && /[?&]partNumber=/.test(r.url))
      .length;

  it('a 20 MiB upload and a 20 MiB replace keeping the id: sha256 of the bytes, the same bytes back', async () => {
    const content = bytes(20 * MiB);
    const res = await restUpload(app, user.access, content, { filename: 'large.bin' });
    expect(res.status).toBe(201);
    const id = res.body.id;
    expect(res.body.size).toBe(content.length);
    expect(res.body.sha256).toBe(sha256(content));
    expect(partsOf(id)).toBe(3);
    const got = await download(res.body.download_url as string, bearer(user.access));
    expect(got.body.length).toBe(content.length);
    expect(sha256(got.body)).toBe(sha256(content));

    const next = bytes(20 * MiB + 12_345);
    const replaced = await restUpload(app, user.access, next, {
      method: 'PUT',
      path: `/api/files/${id}/`,
      filename: 'large.bin',
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body.id).toBe(id);
    expect(replaced.body.size).toBe(next.length);
    expect(replaced.body.sha256).toBe(sha256(next));
    const row = await app.deps.db
      .selectFrom('files')
      .select('storage_key')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.storage_key).not.toBe(id);
    expect(partsOf(row.storage_key)).toBe(3);
    const again = await download(replaced.body.download_url as string, bearer(user.access));
    expect(sha256(again.body)).toBe(sha256(next));
    const state = await bucket();
    expect(state.objects).toContain(row.storage_key);
    expect(state.objects).not.toContain(id); // the first content is gone
    expect(state.uploads.filter((k) => k === id || k === row.storage_key)).toEqual([]);
  });

  it('a client gone mid-body (after 10 of 20 MiB) leaves no object, no open multipart upload, no quota used', async () => {
    const quitter = await app.login(`s3-cut-${n++}@example.com`);
    const before = await bucket();
    await cutRestUpload(quitter.access, 20 * MiB, 10 * MiB);
    await expect.poll(async () => bucket(), { timeout: 15_000 }).toEqual(before);
    await expect
      .poll(
        async () =>
          (await app.deps.db.selectFrom('uploads').select('id').where('owner_id', '=', quitter.user.id).execute())
            .length,
        { timeout: 5_000 },
      )
      .toBe(0);
    expect(await bytesUsed(app.deps.db, quitter.user.id, app.config.MAX_UPLOAD_BYTES)).toBe(0);
    const list = await app.api<{ results: unknown[] }>('GET', '/api/files/', { token: quitter.access });
    expect(list.body.results).toEqual([]);
  });
});

describe('DeleteObjects with S3_REQUEST_CHECKSUM=when_required (stores that want Content-MD5)', () => {
  it('the SDK alone sends a CRC32, which the server refuses; Tagdrop sends Content-MD5 and no CRC headers', async () => {
    const client = await s3Client(s3);
    try {
      const plain = await client
        .send(new DeleteObjectsCommand({ Bucket: s3.bucket, Delete: { Objects: [{ Key: 'files-s3/none' }] } }))
        .then(
          () => null,
          (err: Error) => err,
        );
      expect(plain?.name).toBe('InvalidRequest');
    } finally {
      client.destroy();
    }
    const sdk = seen.filter((r) => r.method === 'POST' && r.url.includes('?delete')).at(-1);
    expect(sdk?.headers['x-amz-checksum-crc32']).toBeTruthy();
    expect(sdk?.headers['content-md5']).toBeUndefined();

    const from = seen.length;
    const file = await restUpload(app, user.access, 'deleted soon', { filename: 'gone.txt' });
    expect((await app.api('DELETE', `/api/files/${file.body.id}/`, { token: user.access })).status).toBe(204);
    expect((await bucket()).objects).not.toContain(file.body.id);
    const deletes = seen.slice(from).filter((r) => r.method === 'POST' && r.url.includes('?delete'));
    expect(deletes.length).toBeGreaterThan(0);
    for (const r of deletes) {
      expect(r.headers['content-md5']).toMatch(/^[A-Za-z0-9+/]{22}==$/);
      expect(
        Object.keys(r.headers).filter((h) => h.startsWith('x-amz-checksum-') || h === 'x-amz-sdk-checksum-algorithm'),
      ).toEqual([]);
    }
  });
});

describe('S3 configuration', () => {
  const base = { STORAGE_DRIVER: 's3', S3_BUCKET: 'files', S3_REGION: 'eu-central-1' };
  const problem = (env: Record<string, string>) => {
    try {
      loadConfig(env);
      return '';
    } catch (err) {
      return (err as Error).message;
    }
  };

  it('names what is missing or wrong at start-up', () => {
    expect(problem({ STORAGE_DRIVER: 's3' })).toMatch(/S3_BUCKET: required when STORAGE_DRIVER=s3/);
    expect(problem({ STORAGE_DRIVER: 's3', S3_BUCKET: 'files' })).toMatch(/S3_REGION: required/);
    expect(problem({ ...base, S3_ACCESS_KEY_ID: 'AKIA' })).toMatch(/set both, or neither/);
    expect(problem({ ...base, S3_ENDPOINT: 'minio:9000' })).toMatch(/S3_ENDPOINT: must be an http\(s\) URL/);
    expect(problem({ ...base, S3_REQUEST_CHECKSUM: 'never' })).toMatch(/S3_REQUEST_CHECKSUM/);
    expect(problem({ ...base, DOWNLOAD_ACCEL: 'nginx' })).toMatch(/DOWNLOAD_ACCEL: nginx serves local files only/);
    expect(problem({ DOWNLOAD_REDIRECT: 'presigned' })).toMatch(/DOWNLOAD_REDIRECT: presigned needs STORAGE_DRIVER=s3/);
  });

  it('defaults to local storage, and normalises S3_PREFIX', () => {
    expect(loadConfig({}).STORAGE_DRIVER).toBe('local');
    const config = loadConfig({ ...base, S3_PREFIX: '/tagdrop', S3_ENDPOINT: 'http://127.0.0.1:9000' });
    expect(config.S3_PREFIX).toBe('tagdrop/');
    expect(config.S3_REQUEST_CHECKSUM).toBe('when_supported');
  });
});
