/**
 * Resumable uploads with the official tus-js-client over real HTTP: small and multi-chunk uploads, resume after
 * a dropped connection, termination, bad metadata, ownership of uploads, unfinished uploads never listed,
 * content type sniffed from the bytes, and replacing a file's content through `file_id`.
 */
import { Readable } from 'node:stream';
import * as tusClient from 'tus-js-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  bytes,
  createRawUpload,
  download,
  type FileObject,
  fixture,
  runUpload,
  type Session,
  sha256,
  sharePath,
  startFilesApp,
  stopFilesApp,
  type TestApp,
  TusFailure,
  trpc,
  tusRaw,
  tusUpload,
  tusUploadObject,
} from './files-helpers.js';

let app: TestApp;
let alice: Session;
let bob: Session;

beforeAll(async () => {
  app = await startFilesApp({ MAX_UPLOAD_BYTES: String(16 * 1024 * 1024) });
  [alice, bob] = await Promise.all([app.login('tus-alice@example.com'), app.login('tus-bob@example.com')]);
});
afterAll(() => stopFilesApp(app));

const getFile = (token: string, id: string) => trpc(app, token).files.get.query({ id }) as Promise<FileObject>;

async function expectTusFailure(p: Promise<unknown>): Promise<TusFailure> {
  const err = await p.then(
    () => {
      throw new Error('the upload succeeded, a failure was expected');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TusFailure);
  return err as TusFailure;
}

describe('uploads with tus-js-client', () => {
  it('uploads a small file; metadata lands on the file object; owner downloads the same bytes', async () => {
    const data = Buffer.from('hello tus\n');
    const { fileId, url } = await tusUpload(app, alice.access, data, {
      filename: 'hello.txt',
      filetype: 'text/plain',
      description: 'a #Greeting for you',
      hashtags: 'first,#Second',
      is_public: 'false',
    });
    expect(url.endsWith(`/uploads/${fileId}`)).toBe(true);
    const file = await getFile(alice.access, fileId);
    expect(file).toMatchObject({
      id: fileId,
      name: 'hello.txt',
      size: data.length,
      sha256: sha256(data),
      mime_type: 'text/plain',
      description: 'a #Greeting for you',
      is_public: false,
    });
    expect([...file.hashtags].sort()).toEqual(['first', 'greeting', 'second']);
    expect(file.share_url).toMatch(/\/s\/[A-Za-z0-9_-]{22,}$/);
    const got = await download(`${app.url}/f/${fileId}`, bearer(alice.access));
    expect(got.status).toBe(200);
    expect(got.body.equals(data)).toBe(true);
  });

  it('uploads 3 MB in 256 KB chunks and the downloaded bytes match', async () => {
    const data = bytes(3 * 1024 * 1024 + 123);
    const chunks: number[] = [];
    const { fileId } = await tusUpload(
      app,
      alice.access,
      data,
      { filename: 'big.bin' },
      { chunkSize: 256 * 1024, onChunkComplete: (size) => chunks.push(size) },
    );
    expect(chunks.length).toBe(13);
    const file = await getFile(alice.access, fileId);
    expect(file.size).toBe(data.length);
    expect(file.sha256).toBe(sha256(data));
    const got = await download(`${app.url}/f/${fileId}`, bearer(alice.access));
    expect(got.status).toBe(200);
    expect(sha256(got.body)).toBe(sha256(data));
    expect(got.headers.get('etag')).toBe(`"${sha256(data)}"`);
  });

  it('uploads an empty (0-byte) file', async () => {
    const { fileId } = await tusUpload(app, alice.access, Buffer.alloc(0), { filename: 'empty.txt' });
    const file = await getFile(alice.access, fileId);
    expect(file.size).toBe(0);
    expect(file.sha256).toBe(sha256(Buffer.alloc(0)));
    const got = await download(`${app.url}/f/${fileId}`, bearer(alice.access));
    expect(got.status).toBe(200);
    expect(got.body.length).toBe(0);
  });

  it('uploads a small file in the creation request (uploadDataDuringCreation)', async () => {
    const data = Buffer.from('sent with the POST');
    const { fileId } = await tusUpload(
      app,
      alice.access,
      data,
      { filename: 'cwu.txt' },
      { uploadDataDuringCreation: true },
    );
    expect((await getFile(alice.access, fileId)).sha256).toBe(sha256(data));
  });

  it('uploads from a Node stream', async () => {
    const data = bytes(700_000);
    const { fileId } = await tusUpload(
      app,
      alice.access,
      Readable.from([data.subarray(0, 300_000), data.subarray(300_000)]),
      { filename: 'stream.bin' },
      { chunkSize: 128 * 1024, uploadSize: data.length },
    );
    expect((await getFile(alice.access, fileId)).sha256).toBe(sha256(data));
  });

  it('resumes after the connection drops half-way and the final bytes match', async () => {
    const data = bytes(4 * 1024 * 1024);
    const first = tusUploadObject(
      app,
      data,
      { filename: 'resumed.bin' },
      { token: alice.access, chunkSize: 256 * 1024 },
    );
    const aborted = new Promise<void>((resolve, reject) => {
      first.options.onChunkComplete = (_size, accepted) => {
        if (accepted >= 1024 * 1024) first.abort().then(resolve, reject);
      };
      first.options.onError = reject;
      first.options.onSuccess = () => reject(new Error('finished before the abort'));
    });
    first.start();
    await aborted;
    const url = first.url;
    expect(url).toBeTruthy();

    const head = await tusRaw(app, 'HEAD', url as string, { token: alice.access });
    expect(head.status).toBe(200);
    const offset = Number(head.headers.get('upload-offset'));
    expect(offset).toBeGreaterThan(0);
    expect(offset).toBeLessThan(data.length);
    expect(head.headers.get('upload-length')).toBe(String(data.length));
    // Not a file yet.
    const listed = await trpc(app, alice.access).files.list.query({ search: 'resumed' });
    expect(listed.results).toEqual([]);

    let startedAt: number | undefined;
    const second = tusUploadObject(
      app,
      data,
      { filename: 'resumed.bin' },
      {
        token: alice.access,
        chunkSize: 256 * 1024,
        uploadUrl: url as string,
        onProgress: (sent) => {
          startedAt ??= sent;
        },
      },
    );
    const { fileId } = await runUpload(second);
    expect(url?.endsWith(fileId)).toBe(true);
    // The second client continued where the server stood, it did not start over.
    expect(startedAt).toBeGreaterThanOrEqual(offset);
    const got = await download(`${app.url}/f/${fileId}`, bearer(alice.access));
    expect(got.body.length).toBe(data.length);
    expect(sha256(got.body)).toBe(sha256(data));
  });

  it('resumes through findPreviousUploads/resumeFromPreviousUpload (url storage)', async () => {
    const data = bytes(1024 * 1024);
    const stored = new Map<string, tusClient.PreviousUpload & { urlStorageKey: string }>();
    let n = 0;
    const urlStorage = {
      findAllUploads: async () => [...stored.values()],
      findUploadsByFingerprint: async (fp: string) =>
        [...stored.values()].filter((u) => u.urlStorageKey.startsWith(fp)),
      removeUpload: async (key: string) => void stored.delete(key),
      addUpload: async (fp: string, upload: tusClient.PreviousUpload) => {
        const key = `${fp}::${n++}`;
        stored.set(key, { ...upload, urlStorageKey: key });
        return key;
      },
    };
    const opts = {
      token: alice.access,
      chunkSize: 128 * 1024,
      urlStorage,
      fingerprint: async () => 'fp-resume-test',
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
    };
    const first = tusUploadObject(app, data, { filename: 'fp.bin' }, opts);
    await new Promise<void>((resolve, reject) => {
      first.options.onChunkComplete = (_s, accepted) => {
        if (accepted >= 256 * 1024) first.abort().then(resolve, reject);
      };
      first.options.onError = reject;
      first.start();
    });
    const second = tusUploadObject(app, data, { filename: 'fp.bin' }, opts);
    const previous = await second.findPreviousUploads();
    expect(previous.length).toBe(1);
    second.resumeFromPreviousUpload(previous[0] as tusClient.PreviousUpload);
    const { fileId } = await runUpload(second);
    expect(first.url?.endsWith(fileId)).toBe(true);
    expect((await getFile(alice.access, fileId)).sha256).toBe(sha256(data));
    expect(stored.size).toBe(0);
  });

  it('terminates an upload: DELETE, then HEAD 404 and nothing listed', async () => {
    const data = bytes(1024 * 1024);
    const upload = tusUploadObject(
      app,
      data,
      { filename: 'terminated.bin' },
      { token: alice.access, chunkSize: 256 * 1024 },
    );
    await new Promise<void>((resolve, reject) => {
      upload.options.onChunkComplete = (_s, accepted) => {
        if (accepted >= 256 * 1024) upload.abort().then(resolve, reject);
      };
      upload.options.onError = reject;
      upload.start();
    });
    const url = upload.url as string;
    const id = url.split('/').pop() as string;
    await tusClient.Upload.terminate(url, { headers: bearer(alice.access), retryDelays: null as never });
    const head = await tusRaw(app, 'HEAD', url, { token: alice.access });
    expect(head.status).toBe(404);
    const patch = await tusRaw(app, 'PATCH', url, {
      token: alice.access,
      headers: { 'upload-offset': '262144', 'content-type': 'application/offset+octet-stream' },
      body: Buffer.alloc(10),
    });
    expect(patch.status).toBe(404);
    // The bookkeeping row goes too (today it is dropped by an event handler after the 204 is sent, so poll).
    let rows = [{}];
    for (let i = 0; i < 50 && rows.length > 0; i++) {
      rows = await app.deps.db.selectFrom('uploads').select('id').where('id', '=', id).execute();
      if (rows.length > 0) await new Promise((r) => setTimeout(r, 20));
    }
    expect(rows).toEqual([]);
    const listed = await trpc(app, alice.access).files.list.query({ search: 'terminated' });
    expect(listed.results).toEqual([]);
    expect((await app.api('GET', `/api/files/${id}/`, { token: alice.access })).status).toBe(404);
  });

  it("terminating a finished upload deletes its file, as the file's own DELETE does", async () => {
    const { fileId, url } = await tusUpload(app, alice.access, Buffer.from('done'), { filename: 'done.txt' });
    expect((await tusRaw(app, 'DELETE', url, { token: bob.access })).status).toBe(404);
    expect((await getFile(alice.access, fileId)).id).toBe(fileId);
    const del = await tusRaw(app, 'DELETE', url, { token: alice.access });
    expect(del.status).toBe(204);
    expect(del.headers.get('tus-resumable')).toBe('1.0.0');
    expect((await download(`${app.url}/f/${fileId}`, bearer(alice.access))).status).toBe(404);
    expect((await trpc(app, alice.access).files.list.query({})).results.map((f) => f.id)).not.toContain(fileId);
    expect((await tusRaw(app, 'HEAD', url, { token: alice.access })).status).toBe(404);
    expect((await tusRaw(app, 'DELETE', url, { token: alice.access })).status).toBe(404);
  });
});

describe('bad metadata', () => {
  const cases: [string, Record<string, string>, string][] = [
    ['expires_at in the past', { expires_at: '2001-01-01T00:00:00Z' }, 'expires_at'],
    ['expires_at not a date', { expires_at: 'tomorrow-ish' }, 'expires_at'],
    ['is_public=maybe', { is_public: 'maybe' }, 'is_public'],
    ['21 hashtags', { hashtags: Array.from({ length: 21 }, (_, i) => `tag${i}`).join(',') }, 'hashtags'],
    ['a 51-character hashtag', { hashtags: `ok,${'a'.repeat(51)}` }, 'hashtags'],
    ['a description over 5000 characters', { description: 'x'.repeat(5001) }, 'description'],
  ];
  for (const [label, meta, field] of cases) {
    it(`${label} → 400 invalid_metadata, nothing created`, async () => {
      const before = await app.deps.db.selectFrom('uploads').select('id').execute();
      const err = await expectTusFailure(
        tusUpload(app, alice.access, Buffer.from('meta'), { filename: `bad-${field}.txt`, ...meta }),
      );
      expect(err.status).toBe(400);
      expect(err.json()?.error.code).toBe('invalid_metadata');
      expect(Object.keys(err.json()?.error.fields ?? {})).toContain(field);
      const after = await app.deps.db.selectFrom('uploads').select('id').execute();
      expect(after.length).toBe(before.length);
    });
  }

  it('file_id of a file that is not mine → 400 invalid_metadata', async () => {
    const { fileId } = await tusUpload(app, bob.access, Buffer.from('bob'), { filename: 'bob.txt' });
    const err = await expectTusFailure(
      tusUpload(app, alice.access, Buffer.from('steal'), { filename: 'x.txt', file_id: fileId }),
    );
    expect(err.status).toBe(400);
    expect(err.json()?.error.code).toBe('invalid_metadata');
    const bobs = await getFile(bob.access, fileId);
    expect(bobs.sha256).toBe(sha256(Buffer.from('bob')));
  });

  it('exactly 20 hashtags of 50 characters are accepted', async () => {
    const tags = Array.from({ length: 20 }, (_, i) => `${String(i).padStart(2, '0')}${'t'.repeat(48)}`);
    const { fileId } = await tusUpload(app, alice.access, Buffer.from('tags'), {
      filename: 'tags.txt',
      hashtags: tags.join(','),
    });
    expect((await getFile(alice.access, fileId)).hashtags.length).toBe(20);
  });
});

describe('who may touch an upload', () => {
  it('no token → 401 on POST, HEAD, PATCH and DELETE', async () => {
    const url = await createRawUpload(app, alice.access, 10);
    const post = await tusRaw(app, 'POST', '/uploads/', { headers: { 'upload-length': '10' } });
    expect(post.status).toBe(401);
    expect(((await post.json()) as { error: { code: string } }).error.code).toMatch(/unauthorized|invalid_token/);
    expect((await tusRaw(app, 'HEAD', url)).status).toBe(401);
    const patch = await tusRaw(app, 'PATCH', url, {
      headers: { 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
      body: Buffer.alloc(10),
    });
    expect(patch.status).toBe(401);
    expect((await tusRaw(app, 'DELETE', url)).status).toBe(401);
    expect(
      (await tusRaw(app, 'POST', '/uploads/', { token: 'not-a-jwt', headers: { 'upload-length': '1' } })).status,
    ).toBe(401);
    // Nothing was written by those attempts.
    const head = await tusRaw(app, 'HEAD', url, { token: alice.access });
    expect(head.headers.get('upload-offset')).toBe('0');
  });

  it('another user cannot HEAD, PATCH or DELETE my upload (404), and it stays intact', async () => {
    const url = await createRawUpload(app, alice.access, 10);
    const patchMine = await tusRaw(app, 'PATCH', url, {
      token: alice.access,
      headers: { 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
      body: Buffer.from('abcd'),
    });
    expect(patchMine.status).toBe(204);
    expect((await tusRaw(app, 'HEAD', url, { token: bob.access })).status).toBe(404);
    const patch = await tusRaw(app, 'PATCH', url, {
      token: bob.access,
      headers: { 'upload-offset': '4', 'content-type': 'application/offset+octet-stream' },
      body: Buffer.from('EVIL!!'),
    });
    expect(patch.status).toBe(404);
    expect((await tusRaw(app, 'DELETE', url, { token: bob.access })).status).toBe(404);
    const head = await tusRaw(app, 'HEAD', url, { token: alice.access });
    expect(head.status).toBe(200);
    expect(head.headers.get('upload-offset')).toBe('4');
    // Alice finishes it; the content is hers.
    const done = await tusRaw(app, 'PATCH', url, {
      token: alice.access,
      headers: { 'upload-offset': '4', 'content-type': 'application/offset+octet-stream' },
      body: Buffer.from('efghij'),
    });
    expect(done.status).toBe(204);
    const id = url.split('/').pop() as string;
    expect((await getFile(alice.access, id)).sha256).toBe(sha256(Buffer.from('abcdefghij')));
  });

  it("a URL naming my upload in its path and another's in its query string reaches only mine", async () => {
    // @tus/server reads the id from the last segment of the whole URL, query string included: the route must
    // hand it the upload it authorized, not let it pick another one.
    const theirs = await createRawUpload(app, alice.access, 10, { filename: 'secret-plan.txt' });
    const theirFinished = await tusUpload(app, alice.access, Buffer.from('alice file'));
    const mine = await createRawUpload(app, bob.access, 10);
    const spoof = (target: string) => `${mine}?x=/${target.split('/').pop()}`;
    const write = await tusRaw(app, 'PATCH', spoof(theirs), {
      token: bob.access,
      headers: { 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
      body: Buffer.from('EVIL!'),
    });
    expect(write.status).toBe(204);
    const peek = await tusRaw(app, 'HEAD', spoof(theirs), { token: bob.access });
    expect(peek.headers.get('upload-metadata') ?? '').not.toContain(Buffer.from('secret-plan.txt').toString('base64'));
    expect(peek.headers.get('upload-offset')).toBe('5'); // bob's own upload, where his bytes went
    expect((await tusRaw(app, 'DELETE', spoof(theirFinished.url), { token: bob.access })).status).toBe(204);
    // Alice's upload got no byte, her finished file is whole; bob terminated only his own upload.
    expect((await tusRaw(app, 'HEAD', theirs, { token: alice.access })).headers.get('upload-offset')).toBe('0');
    const file = await download(`${app.url}/f/${theirFinished.fileId}`, bearer(alice.access));
    expect(file.status).toBe(200);
    expect(file.body.toString()).toBe('alice file');
    expect((await tusRaw(app, 'HEAD', mine, { token: bob.access })).status).toBe(404);
  });

  it('unfinished uploads are not listed anywhere (files.list, public.list, REST, hashtags)', async () => {
    const url = await createRawUpload(app, alice.access, 100, {
      filename: 'unfinished-zzz.txt',
      is_public: 'true',
      hashtags: 'unfinishedtag',
    });
    const id = url.split('/').pop() as string;
    await tusRaw(app, 'PATCH', url, {
      token: alice.access,
      headers: { 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
      body: Buffer.alloc(50, 0x61),
    });
    const own = await trpc(app, alice.access).files.list.query({ limit: 100 });
    expect(own.results.map((f) => f.id)).not.toContain(id);
    const pub = await trpc(app).public.list.query({ limit: 100 });
    expect(pub.results.map((f) => f.id)).not.toContain(id);
    const rest = await app.api<{ results: FileObject[] }>('GET', '/api/files/?search=unfinished-zzz', {
      token: alice.access,
    });
    expect(rest.status).toBe(200);
    expect(rest.body.results).toEqual([]);
    const restPublic = await app.api<{ results: FileObject[] }>('GET', '/api/public/files/?limit=100');
    expect(restPublic.body.results.map((f) => f.id)).not.toContain(id);
    expect((await app.api('GET', `/api/files/${id}/`, { token: alice.access })).status).toBe(404);
    expect((await fetch(`${app.url}/f/${id}`, { headers: bearer(alice.access) })).status).toBe(404);
    const tags = await trpc(app, alice.access).hashtags.list.query();
    expect(tags.results.map((t) => t.name)).not.toContain('unfinishedtag');
  });
});

describe('content type from the bytes, not from the client', () => {
  it('a PNG announced as text/html is image/png and served inline', async () => {
    const png = fixture('pixel.png');
    const { fileId } = await tusUpload(app, alice.access, png, { filename: 'pixel.html', filetype: 'text/html' });
    const file = await getFile(alice.access, fileId);
    expect(file.mime_type).toBe('image/png');
    const got = await download(`${app.url}/f/${fileId}`, bearer(alice.access));
    expect(got.headers.get('content-type')).toBe('image/png');
    expect(got.headers.get('content-disposition')).toMatch(/^inline/);
  });

  it('an HTML document announced as image/png is text/html, served as an attachment', async () => {
    const html = fixture('page.html');
    const { fileId } = await tusUpload(app, alice.access, html, { filename: 'page.png', filetype: 'image/png' });
    const got = await download(`${app.url}/f/${fileId}`, bearer(alice.access));
    expect(got.headers.get('content-disposition')).toMatch(/^attachment/);
    expect(got.headers.get('x-content-type-options')).toBe('nosniff');
    expect(got.headers.get('content-security-policy')).toBe("sandbox; frame-ancestors 'none'");
    expect((await getFile(alice.access, fileId)).mime_type).toBe('text/html');
  });
});

describe('replacing content through metadata file_id', () => {
  it('keeps the id, the share link and statistics; changes sha256 and the bytes', async () => {
    const v1 = Buffer.from('version one');
    const { fileId } = await tusUpload(app, alice.access, v1, { filename: 'doc.txt', hashtags: 'keepme' });
    const before = await getFile(alice.access, fileId);
    const s = await download(`${app.url}${sharePath(before.share_url as string)}`);
    expect(s.body.equals(v1)).toBe(true);

    const v2 = bytes(300_000);
    const replaced = await tusUpload(
      app,
      alice.access,
      v2,
      { filename: 'doc-v2.bin', file_id: fileId },
      { chunkSize: 100_000 },
    );
    expect(replaced.fileId).toBe(fileId);
    const after = await getFile(alice.access, fileId);
    expect(after.id).toBe(fileId);
    expect(after.share_url).toBe(before.share_url);
    expect(after.sha256).toBe(sha256(v2));
    expect(after.sha256).not.toBe(before.sha256);
    expect(after.size).toBe(v2.length);
    expect(after.hashtags).toEqual(['keepme']);
    expect(after.created_at).toBe(before.created_at);
    const got = await download(`${app.url}${sharePath(after.share_url as string)}`);
    expect(sha256(got.body)).toBe(sha256(v2));
    // Only one file, not two.
    const listed = await trpc(app, alice.access).files.list.query({ hashtag: 'keepme' });
    expect(listed.results.map((f) => f.id)).toEqual([fileId]);
    // The upload id of the replacement is not a file of its own.
    const uploadId = replaced.url.split('/').pop() as string;
    expect(uploadId).not.toBe(fileId);
    expect((await app.api('GET', `/api/files/${uploadId}/`, { token: alice.access })).status).toBe(404);
  });
});
