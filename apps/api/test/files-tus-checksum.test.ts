/**
 * tus checksum and checksum-trailer extensions over real HTTP: Upload-Checksum on PATCH and on a
 * creation-with-upload POST (sha1, md5, sha256), 460 on a mismatch with the chunk discarded (the offset does
 * not move), 400 for an unknown algorithm or a malformed value, the checksum as an HTTP trailer of a chunked
 * PATCH, and the same rules for a storage driver that cannot cut an upload back (chunks spooled and verified
 * before they are written).
 */
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  bytes,
  createRawUpload,
  download,
  type ErrorBody,
  encodeMetadata,
  responseText,
  type Session,
  sha256,
  startFilesApp,
  stopFilesApp,
  type TestApp,
  trpc,
  tusRaw,
} from './files-helpers.js';

const OFFSET = 'application/offset+octet-stream';
let app: TestApp;
let alice: Session;

beforeAll(async () => {
  app = await startFilesApp();
  alice = await app.login('checksum-alice@example.com');
});
afterAll(() => stopFilesApp(app));

const digest = (algorithm: string, data: Buffer) => createHash(algorithm).update(data).digest('base64');
const patch = (url: string, offset: number, body: Buffer, headers: Record<string, string> = {}) =>
  tusRaw(app, 'PATCH', url, {
    token: alice.access,
    headers: { 'upload-offset': String(offset), 'content-type': OFFSET, ...headers },
    body,
  });
const offsetOf = async (url: string) =>
  (await tusRaw(app, 'HEAD', url, { token: alice.access })).headers.get('upload-offset');
const errorCode = async (res: Response) => ((await res.json()) as ErrorBody).error.code;

/** A chunked PATCH (no Content-Length) whose body is `chunks`, with HTTP trailers. */
function chunkedPatch(
  url: string,
  offset: number,
  chunks: Buffer[],
  trailers: Record<string, string>,
  announce = 'Upload-Checksum',
  extra: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'PATCH',
        headers: {
          'tus-resumable': '1.0.0',
          'content-type': OFFSET,
          'upload-offset': String(offset),
          'transfer-encoding': 'chunked',
          trailer: announce,
          ...bearer(alice.access),
          ...extra,
        },
      },
      (res) => {
        responseText(res).then(resolve, reject);
      },
    );
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.addTrailers(trailers);
    req.end();
  });
}

/** An upload whose length is deferred (Upload-Defer-Length: 1); returns its URL. */
async function deferredUpload(): Promise<string> {
  const res = await tusRaw(app, 'POST', '/uploads/', {
    token: alice.access,
    headers: { 'upload-defer-length': '1', 'upload-metadata': encodeMetadata({ filename: 'deferred.bin' }) },
  });
  expect(res.status).toBe(201);
  return new URL(res.headers.get('location') as string, app.url).toString();
}

/**
 * A PATCH that declares the length with a chunk that fails its checksum (as a header, then as a trailer) is
 * refused and changes nothing: the length stays deferred (HEAD, the row), the offset where it was; the same
 * declaration with the right chunk then works.
 */
async function refusedDeclarationChangesNothing() {
  const data = Buffer.from('0123456789');
  const url = await deferredUpload();
  const id = url.split('/').pop() as string;
  expect((await patch(url, 0, data.subarray(0, 4))).status).toBe(204);
  const rest = data.subarray(4);
  const unchanged = async () => {
    const state = await tusRaw(app, 'HEAD', url, { token: alice.access });
    expect(state.status).toBe(200);
    expect(state.headers.get('upload-defer-length')).toBe('1');
    expect(state.headers.get('upload-length')).toBeNull();
    expect(state.headers.get('upload-offset')).toBe('4');
    const row = await app.deps.db.selectFrom('uploads').select('size').where('id', '=', id).executeTakeFirst();
    expect(row?.size).toBeNull();
  };
  const bad = await patch(url, 4, rest, {
    'upload-length': '10',
    'upload-checksum': `sha1 ${digest('sha1', Buffer.from('other'))}`,
  });
  expect(bad.status).toBe(460);
  await unchanged();
  const trailer = await chunkedPatch(
    url,
    4,
    [rest],
    { 'Upload-Checksum': `md5 ${digest('md5', Buffer.from('other'))}` },
    undefined,
    { 'upload-length': '10' },
  );
  expect(trailer.status).toBe(460);
  await unchanged();
  const good = await patch(url, 4, rest, { 'upload-length': '10', 'upload-checksum': `sha1 ${digest('sha1', rest)}` });
  expect(good.status).toBe(204);
  expect(good.headers.get('upload-offset')).toBe('10');
  expect((await trpc(app, alice.access).files.get.query({ id })).sha256).toBe(sha256(data));
}

describe('Upload-Checksum on PATCH', () => {
  for (const algorithm of ['sha1', 'md5', 'sha256']) {
    it(`a chunk with its ${algorithm} digest is accepted and the file is whole`, async () => {
      const data = bytes(300_000);
      const url = await createRawUpload(app, alice.access, data.length);
      const first = data.subarray(0, 100_000);
      const rest = data.subarray(100_000);
      const a = await patch(url, 0, first, { 'upload-checksum': `${algorithm} ${digest(algorithm, first)}` });
      expect(a.status).toBe(204);
      expect(a.headers.get('upload-offset')).toBe('100000');
      const b = await patch(url, 100_000, rest, { 'upload-checksum': `${algorithm} ${digest(algorithm, rest)}` });
      expect(b.status).toBe(204);
      const id = url.split('/').pop() as string;
      expect((await trpc(app, alice.access).files.get.query({ id })).sha256).toBe(sha256(data));
    });
  }

  it('a mismatch → 460 checksum_mismatch; the chunk is discarded and the offset does not move', async () => {
    const data = bytes(200_000);
    const url = await createRawUpload(app, alice.access, data.length);
    const first = data.subarray(0, 50_000);
    expect((await patch(url, 0, first, { 'upload-checksum': `sha1 ${digest('sha1', first)}` })).status).toBe(204);
    const rest = data.subarray(50_000);
    const corrupted = Buffer.from(rest);
    corrupted[1234] = (corrupted[1234] as number) ^ 0xff;
    const bad = await patch(url, 50_000, corrupted, { 'upload-checksum': `sha256 ${digest('sha256', rest)}` });
    expect(bad.status).toBe(460);
    expect(bad.headers.get('tus-resumable')).toBe('1.0.0');
    expect(await errorCode(bad)).toBe('checksum_mismatch');
    expect(await offsetOf(url)).toBe('50000');
    // The same bytes sent again, right this time: the file is exactly the original.
    const good = await patch(url, 50_000, rest, { 'upload-checksum': `sha256 ${digest('sha256', rest)}` });
    expect(good.status).toBe(204);
    const id = url.split('/').pop() as string;
    const file = await trpc(app, alice.access).files.get.query({ id });
    expect(file.sha256).toBe(sha256(data));
    const got = await download(`${app.url}/f/${id}`, bearer(alice.access));
    expect(got.body.equals(data)).toBe(true);
  });

  it('a mismatch on the last chunk does not finish the upload', async () => {
    const data = Buffer.from('the whole thing');
    const url = await createRawUpload(app, alice.access, data.length);
    const res = await patch(url, 0, data, { 'upload-checksum': `md5 ${digest('md5', Buffer.from('other'))}` });
    expect(res.status).toBe(460);
    expect(await offsetOf(url)).toBe('0');
    const id = url.split('/').pop() as string;
    expect(await app.deps.db.selectFrom('files').select('id').where('id', '=', id).execute()).toEqual([]);
  });

  it('a length declared with a chunk that fails its checksum is not declared (still deferred)', async () => {
    await refusedDeclarationChangesNothing();
  });

  it('an unknown algorithm → 400 invalid_checksum and nothing is stored', async () => {
    const data = Buffer.from('abc');
    const url = await createRawUpload(app, alice.access, 10);
    for (const value of [
      `crc32 ${digest('sha1', data)}`,
      `sha512 ${createHash('sha512').update(data).digest('base64')}`,
    ]) {
      const res = await patch(url, 0, data, { 'upload-checksum': value });
      expect(res.status, value).toBe(400);
      expect(await errorCode(res), value).toBe('invalid_checksum');
    }
    expect(await offsetOf(url)).toBe('0');
  });

  it('a malformed Upload-Checksum → 400 invalid_checksum', async () => {
    const data = Buffer.from('abc');
    const url = await createRawUpload(app, alice.access, 10);
    for (const value of ['sha1', `sha1 ${digest('md5', data)}`, 'sha1 not*base64', `sha1  ${digest('sha1', data)} x`]) {
      const res = await patch(url, 0, data, { 'upload-checksum': value });
      expect(res.status, value).toBe(400);
      expect(await errorCode(res), value).toBe('invalid_checksum');
    }
    expect(await offsetOf(url)).toBe('0');
  });
});

describe('Upload-Checksum on a creation-with-upload POST (verified like a PATCH)', () => {
  const post = (body: Buffer, length: number, checksum: string) =>
    tusRaw(app, 'POST', '/uploads/', {
      token: alice.access,
      headers: {
        'upload-length': String(length),
        'content-type': OFFSET,
        'upload-checksum': checksum,
        'upload-metadata': encodeMetadata({ filename: 'cwu-checksum.bin' }),
      },
      body,
    });

  it('a matching checksum → 201 with the offset; a whole file is ready', async () => {
    const data = bytes(20_000);
    const res = await post(data, data.length, `sha1 ${digest('sha1', data)}`);
    expect(res.status).toBe(201);
    expect(res.headers.get('upload-offset')).toBe(String(data.length));
    const id = res.headers.get('tagdrop-file-id') as string;
    expect((await trpc(app, alice.access).files.get.query({ id })).sha256).toBe(sha256(data));
  });

  it('a mismatch → 460 and no upload is left behind (no row, no reservation)', async () => {
    const before = await app.deps.db.selectFrom('uploads').select('id').execute();
    const data = bytes(5_000);
    const res = await post(data, 10_000, `sha256 ${digest('sha256', Buffer.from('nope'))}`);
    expect(res.status).toBe(460);
    expect(await errorCode(res)).toBe('checksum_mismatch');
    expect(res.headers.get('location')).toBeNull();
    expect(await app.deps.db.selectFrom('uploads').select('id').execute()).toEqual(before);
  });

  it('an unknown algorithm → 400 before anything is created', async () => {
    const before = await app.deps.db.selectFrom('uploads').select('id').execute();
    const res = await post(Buffer.from('x'), 1, 'whirlpool AAAA');
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe('invalid_checksum');
    expect(await app.deps.db.selectFrom('uploads').select('id').execute()).toEqual(before);
  });
});

describe('checksum-trailer: Upload-Checksum as a trailer of a chunked PATCH', () => {
  it('a right trailer → 204; the bytes count', async () => {
    const data = bytes(150_000);
    const url = await createRawUpload(app, alice.access, data.length);
    const res = await chunkedPatch(url, 0, [data.subarray(0, 70_000), data.subarray(70_000)], {
      'Upload-Checksum': `sha256 ${digest('sha256', data)}`,
    });
    expect(res.status).toBe(204);
    expect(res.headers['upload-offset']).toBe(String(data.length));
    const id = url.split('/').pop() as string;
    expect((await trpc(app, alice.access).files.get.query({ id })).sha256).toBe(sha256(data));
  });

  it('a trailer with a wrong checksum → 460 and the offset does not move', async () => {
    const data = bytes(90_000);
    const url = await createRawUpload(app, alice.access, 100_000);
    const res = await chunkedPatch(url, 0, [data], { 'Upload-Checksum': `sha1 ${digest('sha1', bytes(10))}` });
    expect(res.status).toBe(460);
    expect((JSON.parse(res.body) as ErrorBody).error.code).toBe('checksum_mismatch');
    expect(await offsetOf(url)).toBe('0');
  });

  it('an announced trailer that never comes → 400 invalid_checksum and the offset does not move', async () => {
    const url = await createRawUpload(app, alice.access, 100);
    const res = await chunkedPatch(url, 0, [Buffer.from('abc')], {});
    expect(res.status).toBe(400);
    expect((JSON.parse(res.body) as ErrorBody).error.code).toBe('invalid_checksum');
    expect(await offsetOf(url)).toBe('0');
  });

  it('a checksum both as a header and announced as a trailer → 400 invalid_checksum (which one counts?)', async () => {
    const data = bytes(1000);
    const url = await createRawUpload(app, alice.access, data.length);
    const res = await chunkedPatch(
      url,
      0,
      [data],
      { 'Upload-Checksum': `sha1 ${digest('sha1', bytes(10))}` },
      undefined,
      {
        'upload-checksum': `sha1 ${digest('sha1', data)}`,
      },
    );
    expect(res.status).toBe(400);
    expect((JSON.parse(res.body) as ErrorBody).error.code).toBe('invalid_checksum');
    expect(await offsetOf(url)).toBe('0');
  });

  it('a trailer naming an unknown algorithm → 400 invalid_checksum', async () => {
    const url = await createRawUpload(app, alice.access, 100);
    const res = await chunkedPatch(url, 0, [Buffer.from('abc')], { 'Upload-Checksum': 'crc32 AAAAAA==' });
    expect(res.status).toBe(400);
    expect(await offsetOf(url)).toBe('0');
  });
});

describe('a storage driver that cannot cut an upload back (chunks spooled, verified, then written)', () => {
  let truncate: typeof app.deps.storage.truncateUpload;
  beforeAll(() => {
    truncate = app.deps.storage.truncateUpload;
    app.deps.storage.truncateUpload = undefined;
  });
  afterAll(() => {
    app.deps.storage.truncateUpload = truncate;
  });

  it('a mismatch → 460 and the store never saw the chunk; a right one is written', async () => {
    const data = bytes(120_000);
    const url = await createRawUpload(app, alice.access, data.length);
    const bad = await patch(url, 0, data, { 'upload-checksum': `sha1 ${digest('sha1', bytes(5))}` });
    expect(bad.status).toBe(460);
    expect(await offsetOf(url)).toBe('0');
    const trailer = await chunkedPatch(url, 0, [data.subarray(0, 20_000)], {
      'Upload-Checksum': `md5 ${digest('md5', Buffer.from('wrong'))}`,
    });
    expect(trailer.status).toBe(460);
    expect(await offsetOf(url)).toBe('0');
    const good = await patch(url, 0, data, { 'upload-checksum': `sha256 ${digest('sha256', data)}` });
    expect(good.status).toBe(204);
    const id = url.split('/').pop() as string;
    expect((await trpc(app, alice.access).files.get.query({ id })).sha256).toBe(sha256(data));
  });

  it('a length declared with a chunk that fails its checksum is not declared (still deferred)', async () => {
    await refusedDeclarationChangesNothing();
  });
});
