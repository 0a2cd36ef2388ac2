/**
 * MAX_UPLOAD_BYTES and USER_QUOTA_BYTES, over tus (at creation, and while bytes arrive with a deferred length)
 * and over REST multipart: 413 with a JSON error code, nothing stored, and the quota counted right.
 */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bytes,
  type ErrorBody,
  encodeMetadata,
  restUpload,
  type Session,
  sha256,
  startFilesApp,
  stopFilesApp,
  storedObjects,
  type TestApp,
  TusFailure,
  trpc,
  tusRaw,
  tusUpload,
} from './files-helpers.js';

const MAX = 100_000;
const QUOTA = 250_000;
let app: TestApp;
let n = 0;
const newUser = () => app.login(`limits-${n++}@example.com`);

beforeAll(async () => {
  app = await startFilesApp({ MAX_UPLOAD_BYTES: String(MAX), USER_QUOTA_BYTES: String(QUOTA) });
});
afterAll(() => stopFilesApp(app));

async function failure(p: Promise<unknown>): Promise<TusFailure> {
  const err = await p.then(
    () => {
      throw new Error('the upload succeeded, a failure was expected');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TusFailure);
  return err as TusFailure;
}

/** Uses up `used` bytes of the user's quota with finished files. */
async function fill(user: Session, used: number) {
  for (let left = used; left > 0; left -= MAX) {
    await tusUpload(app, user.access, bytes(Math.min(MAX, left)), { filename: 'filler.bin' });
  }
}

const deferred = (data: Buffer) => Readable.from([data]);

describe('size limit (MAX_UPLOAD_BYTES)', () => {
  it('exactly the limit is accepted', async () => {
    const user = await newUser();
    const data = bytes(MAX);
    const { fileId } = await tusUpload(app, user.access, data);
    expect((await trpc(app, user.access).files.get.query({ id: fileId })).sha256).toBe(sha256(data));
  });

  it('one byte over at creation → 413 payload_too_large (tus-js-client and raw)', async () => {
    const user = await newUser();
    const err = await failure(tusUpload(app, user.access, bytes(MAX + 1)));
    expect(err.status).toBe(413);
    expect(err.json()?.error.code).toBe('payload_too_large');
    const raw = await tusRaw(app, 'POST', '/uploads/', {
      token: user.access,
      headers: { 'upload-length': String(MAX + 1), 'upload-metadata': encodeMetadata({ filename: 'x' }) },
    });
    expect(raw.status).toBe(413);
    expect(raw.headers.get('tus-resumable')).toBe('1.0.0');
    expect(((await raw.json()) as ErrorBody).error.code).toBe('payload_too_large');
    expect(await app.deps.db.selectFrom('uploads').where('owner_id', '=', user.user.id).selectAll().execute()).toEqual(
      [],
    );
  });

  it('with a deferred length, bytes beyond the limit → 413 payload_too_large, no file', async () => {
    const user = await newUser();
    const err = await failure(
      tusUpload(
        app,
        user.access,
        deferred(bytes(MAX + 30_000)),
        { filename: 'deferred.bin' },
        {
          uploadLengthDeferred: true,
          chunkSize: 40_000,
        },
      ),
    );
    expect(err.status).toBe(413);
    expect(err.json()?.error.code).toBe('payload_too_large');
    const list = await trpc(app, user.access).files.list.query({});
    expect(list.results).toEqual([]);
  });

  it('with a deferred length under the limit, the upload succeeds', async () => {
    const user = await newUser();
    const data = bytes(MAX - 10);
    const { fileId } = await tusUpload(
      app,
      user.access,
      deferred(data),
      {},
      {
        uploadLengthDeferred: true,
        chunkSize: 30_000,
      },
    );
    expect((await trpc(app, user.access).files.get.query({ id: fileId })).size).toBe(data.length);
  });

  it('REST multipart over the limit → 413 payload_too_large and nothing stored', async () => {
    const user = await newUser();
    const before = await storedObjects(app);
    const res = await restUpload(app, user.access, bytes(MAX + 1));
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
    // Local: no file (nor `.part`) in STORAGE_DIR; s3: no object and no open multipart upload under S3_PREFIX.
    await expect.poll(() => storedObjects(app), { timeout: 5_000 }).toEqual(before);
    expect((await trpc(app, user.access).files.list.query({})).results).toEqual([]);
  });
});

describe('quota (USER_QUOTA_BYTES)', () => {
  it('at creation, an upload over the remaining quota → 413 quota_exceeded', async () => {
    const user = await newUser();
    await fill(user, 200_000); // 50 000 left
    const err = await failure(tusUpload(app, user.access, bytes(60_000)));
    expect(err.status).toBe(413);
    expect.soft(err.json()?.error.code).toBe('quota_exceeded');
    // What is left still fits.
    await tusUpload(app, user.access, bytes(50_000));
  });

  it('while bytes arrive (deferred length), going over the quota → 413 quota_exceeded', async () => {
    const user = await newUser();
    await fill(user, 200_000); // 50 000 left
    const err = await failure(
      tusUpload(app, user.access, deferred(bytes(80_000)), {}, { uploadLengthDeferred: true, chunkSize: 20_000 }),
    );
    expect(err.status).toBe(413);
    expect(err.json()?.error.code).toBe('quota_exceeded');
  });

  it('REST multipart over the quota → 413 quota_exceeded', async () => {
    const user = await newUser();
    await fill(user, 200_000);
    const res = await restUpload(app, user.access, bytes(60_000));
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('quota_exceeded');
  });

  it('uploads in progress count against the quota (413 quota_exceeded); terminating one frees it', async () => {
    const user = await newUser();
    const make = (len: number) =>
      tusRaw(app, 'POST', '/uploads/', {
        token: user.access,
        headers: { 'upload-length': String(len), 'upload-metadata': encodeMetadata({ filename: 'p.bin' }) },
      });
    const a = await make(MAX);
    const b = await make(MAX);
    expect([a.status, b.status]).toEqual([201, 201]);
    const c = await make(MAX);
    expect(c.status).toBe(413);
    expect.soft(((await c.json()) as ErrorBody).error.code).toBe('quota_exceeded');
    const del = await tusRaw(app, 'DELETE', new URL(a.headers.get('location') as string, app.url).toString(), {
      token: user.access,
    });
    expect(del.status).toBe(204);
    // The row is dropped asynchronously after termination; allow it a moment.
    let again = 0;
    for (let i = 0; i < 20 && again !== 201; i++) {
      again = (await make(MAX)).status;
      if (again !== 201) await new Promise((r) => setTimeout(r, 50));
    }
    expect(again).toBe(201);
  });

  it('deleting files frees the quota', async () => {
    const user = await newUser();
    await fill(user, QUOTA);
    const err = await failure(tusUpload(app, user.access, bytes(10)));
    expect(err.status).toBe(413);
    const files = await trpc(app, user.access).files.list.query({});
    await trpc(app, user.access).files.delete.mutate({ id: files.results[0]?.id as string });
    await tusUpload(app, user.access, bytes(10));
  });
});
