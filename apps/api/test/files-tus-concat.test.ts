/**
 * tus concatenation and concatenation-unfinished over real HTTP, and tus-js-client's parallelUploads (which
 * uses them): partial uploads, final uploads assembled into one file (size the sum, sha256 of the whole,
 * type sniffed from the first bytes), a final created before its partials finish, HEAD's Upload-Concat, the
 * quota, expiry and clean-up of partials, and the bad inputs (someone else's partial, an unknown one, a
 * final named as a partial, a partial used twice, PATCH to a final upload).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  bytes,
  createRawUpload,
  download,
  type ErrorBody,
  encodeMetadata,
  fixture,
  runUpload,
  type Session,
  sha256,
  startFilesApp,
  stopFilesApp,
  type TestApp,
  trpc,
  tusRaw,
  tusUploadObject,
} from './files-helpers.js';

const OFFSET = 'application/offset+octet-stream';
const QUOTA = 2_000_000;
let app: TestApp;
let alice: Session;
let bob: Session;
let n = 0;

beforeAll(async () => {
  app = await startFilesApp({
    USER_QUOTA_BYTES: String(QUOTA),
    MAX_UPLOAD_BYTES: String(QUOTA),
    CORS_ORIGINS: 'https://client.example',
  });
  [alice, bob] = await Promise.all([app.login('concat-alice@example.com'), app.login('concat-bob@example.com')]);
});
afterAll(() => stopFilesApp(app));

const abs = (location: string) => new URL(location, app.url).toString();
const idOf = (url: string) => url.split('/').pop() as string;
const code = async (res: Response) => ((await res.json()) as ErrorBody).error.code;

/** POST Upload-Concat: partial (optionally with its bytes); returns the absolute URL. */
async function partial(user: Session, length: number, body?: Buffer): Promise<string> {
  const res = await tusRaw(app, 'POST', '/uploads/', {
    token: user.access,
    headers: {
      'upload-concat': 'partial',
      'upload-length': String(length),
      ...(body ? { 'content-type': OFFSET } : {}),
    },
    body,
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return abs(res.headers.get('location') as string);
}
const final = (user: Session, urls: string[], meta: Record<string, string> = { filename: `whole-${n++}.bin` }) =>
  tusRaw(app, 'POST', '/uploads/', {
    token: user.access,
    headers: { 'upload-concat': `final;${urls.join(' ')}`, 'upload-metadata': encodeMetadata(meta) },
  });
const patch = (user: Session, url: string, offset: number, body: Buffer) =>
  tusRaw(app, 'PATCH', url, {
    token: user.access,
    headers: { 'upload-offset': String(offset), 'content-type': OFFSET },
    body,
  });
const head = (user: Session, url: string) => tusRaw(app, 'HEAD', url, { token: user.access });
/** Whether the storage (local files or an S3 bucket) holds anything under this key (bytes, or an upload's parts). */
async function stored(key: string) {
  for await (const object of app.deps.storage.list()) if (object.key === key) return true;
  return false;
}
const rowsOf = (user: Session) =>
  app.deps.db.selectFrom('uploads').select(['id', 'concat']).where('owner_id', '=', user.user.id).execute();

describe('partial and final uploads', () => {
  it('a final upload of finished partials is one file: size the sum, sha256 of the whole, type from its bytes', async () => {
    const png = fixture('pixel.png');
    const tail = bytes(100_000);
    const a = await partial(alice, png.length, png);
    const b = await partial(alice, tail.length);
    expect((await patch(alice, b, 0, tail)).status).toBe(204);
    const partHead = await head(alice, a);
    expect(partHead.headers.get('upload-concat')).toBe('partial');
    expect(partHead.headers.get('upload-offset')).toBe(String(png.length));
    // Finished partials are not files.
    expect((await trpc(app, alice.access).files.list.query({})).results).toEqual([]);

    // One URL absolute, one relative: both name an upload.
    const res = await final(alice, [a, new URL(b).pathname], { filename: 'joined.png', hashtags: 'joined' });
    expect(res.status).toBe(201);
    expect(res.headers.get('tus-resumable')).toBe('1.0.0');
    const url = abs(res.headers.get('location') as string);
    const fileId = res.headers.get('tagdrop-file-id') as string;
    expect(fileId).toBe(idOf(url));
    const whole = Buffer.concat([png, tail]);
    const file = await trpc(app, alice.access).files.get.query({ id: fileId });
    expect(file).toMatchObject({
      name: 'joined.png',
      size: whole.length,
      sha256: sha256(whole),
      mime_type: 'image/png',
      hashtags: ['joined'],
    });
    const got = await download(`${app.url}/f/${fileId}`, bearer(alice.access));
    expect(got.body.equals(whole)).toBe(true);

    const finalHead = await head(alice, url);
    expect(finalHead.status).toBe(200);
    expect(finalHead.headers.get('upload-concat')).toBe(`final;${a} ${new URL(b).pathname}`);
    expect(finalHead.headers.get('upload-offset')).toBe(String(whole.length));
    expect(finalHead.headers.get('upload-length')).toBe(String(whole.length));
    // The partials' bytes are gone (the file holds them); a partial still answers HEAD as complete, so a client
    // retrying the whole upload goes on to this final upload instead of sending the part again.
    const consumed = await head(alice, a);
    expect(consumed.status).toBe(200);
    expect(consumed.headers.get('upload-offset')).toBe(String(png.length));
    expect(consumed.headers.get('upload-length')).toBe(String(png.length));
    expect(consumed.headers.get('upload-concat')).toBe('partial');
    expect(await stored(idOf(a))).toBe(false);
    expect(await stored(idOf(b))).toBe(false);
    expect((await patch(alice, b, 0, tail)).status).toBe(409);
    expect((await tusRaw(app, 'DELETE', a, { token: alice.access })).status).toBe(204);
    expect((await head(alice, a)).status).toBe(404);
    expect((await tusRaw(app, 'HEAD', b, { token: bob.access })).status).toBe(404);
    const list = await trpc(app, alice.access).files.list.query({});
    expect(list.results.map((f) => f.id)).toEqual([fileId]);
  });

  it('concatenation-unfinished: a final upload created first completes when its last partial does', async () => {
    const one = bytes(70_000);
    const two = bytes(50_000);
    const a = await partial(alice, one.length, one.subarray(0, 10_000));
    const b = await partial(alice, two.length);
    const res = await final(alice, [a, b], { filename: 'later.bin' });
    expect(res.status).toBe(201);
    expect(res.headers.get('tagdrop-file-id')).toBeNull();
    const url = abs(res.headers.get('location') as string);
    const pending = await head(alice, url);
    expect(pending.headers.get('upload-concat')).toBe(`final;${a} ${b}`);
    expect(pending.headers.get('upload-length')).toBe(String(one.length + two.length));
    expect(pending.headers.get('upload-offset')).toBeNull();
    expect(pending.headers.get('upload-expires')).toMatch(/ GMT$/);
    expect((await trpc(app, alice.access).files.list.query({})).results.map((f) => f.name)).not.toContain('later.bin');

    expect((await patch(alice, b, 0, two)).status).toBe(204);
    expect((await head(alice, url)).headers.get('upload-offset')).toBeNull();
    const last = await patch(alice, a, 10_000, one.subarray(10_000));
    expect(last.status).toBe(204);
    const done = await head(alice, url);
    expect(done.headers.get('upload-offset')).toBe(String(one.length + two.length));
    const file = await trpc(app, alice.access).files.get.query({ id: idOf(url) });
    expect(file.sha256).toBe(sha256(Buffer.concat([one, two])));
    expect(file.name).toBe('later.bin');
  });

  it('a browser on another origin can read the answer to a final POST (CORS as on every tus answer)', async () => {
    const a = await partial(alice, 2, Buffer.from('ok'));
    const res = await tusRaw(app, 'POST', '/uploads/', {
      token: alice.access,
      headers: { 'upload-concat': `final;${a}`, origin: 'https://client.example' },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://client.example');
    const exposed = (res.headers.get('access-control-expose-headers') ?? '').toLowerCase();
    for (const h of ['location', 'upload-offset', 'tagdrop-file-id']) expect(exposed).toContain(h);
  });

  it('PATCH to a final upload → 403 and nothing changes', async () => {
    const a = await partial(alice, 10);
    const url = abs((await final(alice, [a])).headers.get('location') as string);
    const res = await patch(alice, url, 0, Buffer.from('0123456789'));
    expect(res.status).toBe(403);
    expect(await code(res)).toBe('forbidden');
    expect((await head(alice, a)).headers.get('upload-offset')).toBe('0');
  });

  it('a partial that an unfinished final upload claims cannot be terminated (409, nothing changes)', async () => {
    const data = Buffer.from('claimed bytes');
    const a = await partial(alice, data.length);
    const free = await partial(alice, 4);
    const url = abs((await final(alice, [a])).headers.get('location') as string);
    const refused = await tusRaw(app, 'DELETE', a, { token: alice.access });
    expect(refused.status).toBe(409);
    expect(await code(refused)).toBe('conflict');
    // The partial still takes its bytes, and the final upload completes with them.
    expect((await head(alice, a)).headers.get('upload-offset')).toBe('0');
    expect((await patch(alice, a, 0, data)).status).toBe(204);
    expect((await head(alice, url)).headers.get('upload-offset')).toBe(String(data.length));
    expect((await trpc(app, alice.access).files.get.query({ id: idOf(url) })).sha256).toBe(sha256(data));
    // A partial no final upload claims terminates as any upload does.
    expect((await tusRaw(app, 'DELETE', free, { token: alice.access })).status).toBe(204);
    expect((await head(alice, free)).status).toBe(404);
  });

  it('a final upload expires no later than the first of its partials', async () => {
    const a = await partial(alice, 5);
    await new Promise((r) => setTimeout(r, 2_100));
    const b = await partial(alice, 5);
    const res = await final(alice, [b, a]);
    expect(res.status).toBe(201);
    const expiresOf = async (r: Response) => Date.parse(r.headers.get('upload-expires') as string);
    const first = await expiresOf(await head(alice, a));
    expect(Math.abs((await expiresOf(res)) - first)).toBeLessThanOrEqual(1_000);
    const url = abs(res.headers.get('location') as string);
    expect(Math.abs((await expiresOf(await head(alice, url))) - first)).toBeLessThanOrEqual(1_000);
  });

  it('terminating an unfinished final upload frees its partials for another final upload', async () => {
    const data = Buffer.from('reused bytes');
    const a = await partial(alice, data.length);
    const url = abs((await final(alice, [a])).headers.get('location') as string);
    expect((await tusRaw(app, 'DELETE', url, { token: alice.access })).status).toBe(204);
    expect((await head(alice, url)).status).toBe(404);
    const again = await final(alice, [a], { filename: 'reused.txt' });
    expect(again.status).toBe(201);
    expect((await patch(alice, a, 0, data)).status).toBe(204);
    const id = idOf(abs(again.headers.get('location') as string));
    expect((await trpc(app, alice.access).files.get.query({ id })).sha256).toBe(sha256(data));
  });
});

describe('bad inputs for a final upload (400 invalid_concat, nothing claimed)', () => {
  it("naming another user's partial upload is refused like an unknown one, and the partial stays theirs", async () => {
    const bobs = await partial(bob, 5, Buffer.from('bob!!'));
    const res = await final(alice, [bobs]);
    expect(res.status).toBe(400);
    expect(await code(res)).toBe('invalid_concat');
    const unknown = await final(alice, [`${app.url}/uploads/00000000-0000-4000-8000-000000000000`]);
    expect(unknown.status).toBe(400);
    expect(await code(unknown)).toBe('invalid_concat');
    // Bob can still use it.
    const his = await final(bob, [bobs], { filename: 'bob.txt' });
    expect(his.status).toBe(201);
    expect(his.headers.get('tagdrop-file-id')).toBeTruthy();
  });

  it('a final upload named as a partial, a plain upload, a partial used twice, the same URL twice → 400', async () => {
    const a = await partial(alice, 3, Buffer.from('abc'));
    const b = await partial(alice, 3, Buffer.from('def'));
    const finalUrl = abs((await final(alice, [a])).headers.get('location') as string);
    const plain = await createRawUpload(app, alice.access, 3);
    for (const [label, urls] of [
      ['a final upload', [finalUrl]],
      ['a plain upload', [plain]],
      ['a partial already used', [a, b]],
      ['the same partial twice', [b, b]],
      ['not an upload URL', [`${app.url}/api/files/`]],
    ] as const) {
      const res = await final(alice, [...urls]);
      expect(res.status, label).toBe(400);
      expect(await code(res), label).toBe('invalid_concat');
    }
    // b was never claimed by the refused requests.
    expect((await final(alice, [b])).status).toBe(201);
  });

  it('malformed Upload-Concat values, a final with Upload-Length or a body → 400', async () => {
    for (const value of ['final;', 'final', 'partially', 'final; ']) {
      const res = await tusRaw(app, 'POST', '/uploads/', {
        token: alice.access,
        headers: { 'upload-concat': value, 'upload-length': '1' },
      });
      expect(res.status, value).toBe(400);
    }
    const a = await partial(alice, 3);
    const withLength = await tusRaw(app, 'POST', '/uploads/', {
      token: alice.access,
      headers: { 'upload-concat': `final;${a}`, 'upload-length': '3' },
    });
    expect(withLength.status).toBe(400);
    expect((await final(alice, [a])).status).toBe(201); // a was not claimed by the refused one
  });

  it('a partial upload with a deferred length must declare it before it is concatenated', async () => {
    const res = await tusRaw(app, 'POST', '/uploads/', {
      token: alice.access,
      headers: { 'upload-concat': 'partial', 'upload-defer-length': '1' },
    });
    expect(res.status).toBe(201);
    const refused = await final(alice, [abs(res.headers.get('location') as string)]);
    expect(refused.status).toBe(400);
    expect(await code(refused)).toBe('invalid_concat');
  });
});

describe('partial uploads and the quota, expiry and listings', () => {
  it('partials count against the quota (finished or not); the assembled file counts once', async () => {
    const user = await app.login('concat-quota@example.com');
    const a = await partial(user, 900_000);
    const b = await partial(user, 900_000, Buffer.alloc(900_000, 1));
    const over = await tusRaw(app, 'POST', '/uploads/', {
      token: user.access,
      headers: { 'upload-concat': 'partial', 'upload-length': '300000' },
    });
    expect(over.status).toBe(413);
    expect(await code(over)).toBe('quota_exceeded');
    expect((await patch(user, a, 0, Buffer.alloc(900_000, 2))).status).toBe(204);
    const res = await final(user, [a, b]);
    expect(res.status).toBe(201);
    // 1 800 000 held as one file; 200 000 left.
    const fits = await tusRaw(app, 'POST', '/uploads/', {
      token: user.access,
      headers: { 'upload-length': '200000', 'upload-metadata': encodeMetadata({ filename: 'fits' }) },
    });
    expect(fits.status).toBe(201);
    const tooMuch = await tusRaw(app, 'POST', '/uploads/', {
      token: user.access,
      headers: { 'upload-length': '1', 'upload-metadata': encodeMetadata({ filename: 'no' }) },
    });
    expect(tooMuch.status).toBe(413);
  });

  it('a final upload is limited to MAX_UPLOAD_BYTES in total', async () => {
    const user = await app.login('concat-max@example.com');
    const a = await partial(user, 1_000_000);
    const b = await partial(user, 1_000_000);
    // As with a quota above MAX_UPLOAD_BYTES: partials within the limit each, their sum over it.
    await app.deps.db.updateTable('uploads').set({ size: 1_200_000 }).where('id', '=', idOf(b)).execute();
    const res = await final(user, [a, b]);
    expect(res.status).toBe(413);
    expect(await code(res)).toBe('payload_too_large');
  });

  it('an unfinished partial expires like any unfinished upload (row and bytes swept)', async () => {
    const user = await app.login('concat-expiry@example.com');
    const a = await partial(user, 100, Buffer.from('some'));
    expect(await stored(idOf(a))).toBe(true);
    await app.deps.db
      .updateTable('uploads')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', idOf(a))
      .execute();
    await app.deps.jobs.runNow('delete-expired-files');
    expect(await stored(idOf(a))).toBe(false);
    expect((await head(user, a)).status).toBe(404);
    const refused = await final(user, [a]);
    expect(refused.status).toBe(400);
  });
});

describe('partial uploads go with their final upload, whichever way it goes', () => {
  const expire = (ids: string[]) =>
    app.deps.db
      .updateTable('uploads')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', 'in', ids)
      .execute();
  /** Whether the whole quota is free again: an upload of all of it is accepted. */
  const quotaFree = async (user: Session) => {
    const res = await tusRaw(app, 'POST', '/uploads/', {
      token: user.access,
      headers: { 'upload-length': String(QUOTA), 'upload-metadata': encodeMetadata({ filename: 'all.bin' }) },
    });
    return res.status === 201;
  };

  it('a final upload swept at its expiry takes its partials (rows and bytes): nothing stranded, quota free', async () => {
    const user = await app.login('concat-final-expiry@example.com');
    const a = await partial(user, 900_000, Buffer.alloc(900_000, 1));
    const b = await partial(user, 900_000, Buffer.from('the start of b'));
    const res = await final(user, [a, b]);
    expect(res.status).toBe(201);
    const url = abs(res.headers.get('location') as string);
    expect(await stored(idOf(b))).toBe(true);
    // The final upload expires with its first partial; the other one would live on.
    await expire([idOf(url), idOf(a)]);
    await app.deps.jobs.runNow('delete-expired-files');
    expect((await head(user, url)).status).toBe(404);
    for (const p of [a, b]) {
      expect((await head(user, p)).status).toBe(404);
      expect((await tusRaw(app, 'DELETE', p, { token: user.access })).status).toBe(404);
      expect(await stored(idOf(p))).toBe(false);
    }
    expect(await rowsOf(user)).toEqual([]);
    expect(await quotaFree(user)).toBe(true);
  });

  it('deleting the file a final upload made removes its (consumed) partials with it', async () => {
    const user = await app.login('concat-file-deleted@example.com');
    const a = await partial(user, 3, Buffer.from('abc'));
    const b = await partial(user, 3, Buffer.from('def'));
    const res = await final(user, [a, b]);
    const fileId = res.headers.get('tagdrop-file-id') as string;
    expect(fileId).toBeTruthy();
    expect((await head(user, a)).status).toBe(200); // complete, for a client retrying the upload
    await trpc(app, user.access).files.delete.mutate({ id: fileId });
    for (const p of [a, b]) expect((await head(user, p)).status).toBe(404);
    expect(await rowsOf(user)).toEqual([]);
  });

  it('a final upload that goes with the file it was to replace takes its partials (enforced by the database)', async () => {
    const user = await app.login('concat-replaced-gone@example.com');
    const old = await plainFile(user, 'old content');
    const a = await partial(user, 1_000_000, Buffer.from('new content, the start'));
    const res = await final(user, [a], { filename: 'new.bin', file_id: old });
    expect(res.status).toBe(201);
    const url = abs(res.headers.get('location') as string);
    // The final upload's row goes by a cascade (uploads.replaces_file_id), a path no application code sees.
    await trpc(app, user.access).files.delete.mutate({ id: old });
    expect((await head(user, url)).status).toBe(404);
    expect((await head(user, a)).status).toBe(404);
    expect(await rowsOf(user)).toEqual([]);
    expect(await quotaFree(user)).toBe(true);
  });
});

/** A file of `user` made by a plain tus upload; returns its id. */
async function plainFile(user: Session, content: string): Promise<string> {
  const data = Buffer.from(content);
  const res = await tusRaw(app, 'POST', '/uploads/', {
    token: user.access,
    headers: {
      'upload-length': String(data.length),
      'upload-metadata': encodeMetadata({ filename: 'old.txt' }),
      'content-type': OFFSET,
    },
    body: data,
  });
  expect(res.status).toBe(201);
  return res.headers.get('tagdrop-file-id') as string;
}

describe('assembly and the database pool', () => {
  it('a final upload assembles with one free database connection (the rest busy with other requests)', async () => {
    const user = await app.login('concat-pool@example.com');
    const data = bytes(50_000);
    const a = await partial(user, data.length, data);
    // Every connection of the API's pool but one is held by "other requests" until the final upload answers.
    const { poolMax } = app.deps.database;
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const holders: Promise<void>[] = [];
    const acquired: Promise<void>[] = [];
    for (let i = 0; i < poolMax - 1; i++) {
      let held = () => {};
      acquired.push(
        new Promise<void>((resolve) => {
          held = resolve;
        }),
      );
      holders.push(
        app.deps.db.connection().execute(async () => {
          held();
          await gate;
        }),
      );
    }
    await Promise.all(acquired);
    try {
      const res = await final(user, [a], { filename: 'pool.bin' });
      expect(res.status, await res.clone().text()).toBe(201);
      expect(res.headers.get('tagdrop-file-id')).toBe(idOf(abs(res.headers.get('location') as string)));
    } finally {
      release();
      await Promise.all(holders);
    }
    const list = await trpc(app, user.access).files.list.query({});
    expect(list.results.map((f) => [f.name, f.sha256])).toEqual([['pool.bin', sha256(data)]]);
  });
});

describe('tus-js-client parallelUploads (concatenation under the hood)', () => {
  it('uploads one file in 4 parallel parts: one file, the whole sha256, no partial left', async () => {
    const user = await app.login('concat-parallel@example.com');
    const data = bytes(1_500_000);
    const progress: number[] = [];
    const { fileId } = await runUpload(
      tusUploadObject(
        app,
        data,
        { filename: 'parallel.bin' },
        { token: user.access, parallelUploads: 4, onProgress: (sent) => progress.push(sent) },
      ),
    );
    const file = await trpc(app, user.access).files.get.query({ id: fileId });
    expect(file).toMatchObject({ name: 'parallel.bin', size: data.length, sha256: sha256(data) });
    expect(progress.at(-1)).toBe(data.length);
    const list = await trpc(app, user.access).files.list.query({});
    expect(list.results.map((f) => f.id)).toEqual([fileId]);
    // No partial left with bytes of its own: each is consumed by the file.
    const partials = await app.deps.db
      .selectFrom('uploads')
      .select('consumed_at')
      .where('owner_id', '=', user.user.id)
      .where('concat', '=', 'partial')
      .execute();
    expect(partials.length).toBe(4);
    expect(partials.every((p) => p.consumed_at !== null)).toBe(true);
    for (const p of await rowsOf(user)) if (p.concat === 'partial') expect(await stored(p.id)).toBe(false);
  });

  it('a parallel upload stopped half-way resumes from its stored partial URLs', async () => {
    const user = await app.login('concat-resume@example.com');
    const data = bytes(1_200_000);
    const storage = new Map<string, unknown>();
    const urlStorage = {
      findAllUploads: async () => [...storage.values()],
      findUploadsByFingerprint: async (fp: string) =>
        [...storage.entries()]
          .filter(([k]) => k.startsWith(fp))
          .map(([k, v]) => ({ ...(v as object), urlStorageKey: k })),
      removeUpload: async (key: string) => {
        storage.delete(key);
      },
      addUpload: async (fp: string, upload: unknown) => {
        const key = `${fp}::${storage.size}`;
        storage.set(key, upload);
        return key;
      },
    };
    const options = {
      token: user.access,
      parallelUploads: 3,
      chunkSize: 100_000,
      // A chunk the aborted run had already sent may land after the resumed run asked HEAD: the 409 that
      // follows is retried (HEAD again) as tus-js-client does by default.
      retryDelays: [0, 50, 100],
      urlStorage: urlStorage as never,
      fingerprint: async () => 'resume-me',
    };
    const first = tusUploadObject(app, data, { filename: 'resumed.bin' }, options);
    let acked = 0;
    await new Promise<void>((resolve, reject) => {
      first.options.onChunkComplete = (_size, _accepted) => {
        acked += 1;
        if (acked === 4) first.abort().then(resolve, reject);
      };
      first.options.onError = reject;
      first.options.onSuccess = () => reject(new Error('finished before the abort'));
      first.start();
    });
    expect(storage.size).toBe(1);
    const second = tusUploadObject(app, data, { filename: 'resumed.bin' }, options);
    const previous = await second.findPreviousUploads();
    expect(previous.length).toBe(1);
    second.resumeFromPreviousUpload(previous[0] as never);
    const sent: string[] = [];
    second.options.onBeforeRequest = (req) => {
      sent.push(`${req.getMethod()} ${req.getHeader('Upload-Offset') ?? ''}`);
      req.setHeader('Authorization', `Bearer ${user.access}`);
    };
    const { fileId } = await runUpload(second);
    // Each partial asks where it stands, and only what was not acknowledged is sent again.
    expect(sent.filter((s) => s.startsWith('HEAD')).length).toBeGreaterThanOrEqual(3);
    expect(sent.filter((s) => s.startsWith('PATCH')).length).toBeLessThanOrEqual(12 - 4 + 3);
    const file = await trpc(app, user.access).files.get.query({ id: fileId });
    expect(file.sha256).toBe(sha256(data));
  });
});
