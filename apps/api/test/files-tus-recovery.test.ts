/**
 * A tus upload survives a server restart at the worst moment, and a client that retries gets its one file: never
 * lost, never counted twice. The moment: the last bytes reached storage, then the process died before it acted on
 * them (made the file, marked a partial complete, assembled a final upload), or a final upload's creation was
 * answered to nobody. The crash is reproduced by its traces (the bytes on disk that the server never heard of),
 * then the server restarts with nothing in memory, and the client does what tus-js-client does on resume: HEAD
 * each upload, then create the final upload (again).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  bytes,
  createFile,
  createRawUpload,
  download,
  type ErrorBody,
  encodeMetadata,
  type Session,
  sha256,
  startFilesApp,
  stopFilesApp,
  type TestApp,
  trpc,
  tusRaw,
} from './files-helpers.js';

const OFFSET = 'application/offset+octet-stream';
const QUOTA = 3_000_000;
let app: TestApp;
let n = 0;
const newUser = (): Promise<Session> => app.login(`recovery-${n++}@example.com`);

beforeAll(async () => {
  app = await startFilesApp({ USER_QUOTA_BYTES: String(QUOTA), MAX_UPLOAD_BYTES: String(QUOTA) });
});
afterAll(() => stopFilesApp(app));

const abs = (location: string) => new URL(location, app.url).toString();
const idOf = (url: string) => url.split('/').pop() as string;
const patch = (user: Session, url: string, offset: number, body: Buffer) =>
  tusRaw(app, 'PATCH', url, {
    token: user.access,
    headers: { 'upload-offset': String(offset), 'content-type': OFFSET },
    body,
  });
const head = (user: Session, url: string) => tusRaw(app, 'HEAD', url, { token: user.access });
async function partial(user: Session, length: number): Promise<string> {
  const res = await tusRaw(app, 'POST', '/uploads/', {
    token: user.access,
    headers: { 'upload-concat': 'partial', 'upload-length': String(length) },
  });
  expect(res.status).toBe(201);
  return abs(res.headers.get('location') as string);
}
const final = (user: Session, urls: string[], filename: string) =>
  tusRaw(app, 'POST', '/uploads/', {
    token: user.access,
    headers: { 'upload-concat': `final;${urls.join(' ')}`, 'upload-metadata': encodeMetadata({ filename }) },
  });

/** The crash: the last bytes of an upload reach the disk, and the process dies before it hears of them. */
const bytesLandUnnoticed = (url: string, data: Buffer) =>
  fs.appendFile(path.join(app.config.storageDir, idOf(url)), data);

/** Whether an upload of `size` bytes would fit the quota right now (asked the way a client would: POST, then DELETE). */
async function fits(user: Session, size: number): Promise<boolean> {
  const res = await tusRaw(app, 'POST', '/uploads/', {
    token: user.access,
    headers: { 'upload-length': String(size), 'upload-metadata': encodeMetadata({ filename: 'probe' }) },
  });
  if (res.status === 201) {
    expect(
      (await tusRaw(app, 'DELETE', abs(res.headers.get('location') as string), { token: user.access })).status,
    ).toBe(204);
    return true;
  }
  expect(((await res.json()) as ErrorBody).error.code).toBe('quota_exceeded');
  return false;
}
/** The owner holds exactly `bytes` against the quota. */
async function expectHeld(user: Session, held: number) {
  expect(await fits(user, QUOTA - held)).toBe(true);
  expect(await fits(user, QUOTA - held + 1)).toBe(false);
}

describe('restart between the last bytes and what follows them', () => {
  it('a plain upload: the next HEAD makes it its file (sha256 of every byte), counted once', async () => {
    const alice = await newUser();
    const data = bytes(300_000);
    const url = await createRawUpload(app, alice.access, data.length, { filename: 'survivor.bin' });
    expect((await patch(alice, url, 0, data.subarray(0, 200_000))).status).toBe(204);
    await bytesLandUnnoticed(url, data.subarray(200_000));
    await app.restart();

    const res = await head(alice, url);
    expect(res.status).toBe(200);
    expect(res.headers.get('upload-offset')).toBe(String(data.length));
    const file = await trpc(app, alice.access).files.get.query({ id: idOf(url) });
    expect(file).toMatchObject({ name: 'survivor.bin', size: data.length, sha256: sha256(data) });
    expect((await download(`${app.url}/f/${file.id}`, bearer(alice.access))).body.equals(data)).toBe(true);
    await expectHeld(alice, data.length);
  });

  it('parallel parts (tus-js-client): HEAD finds the last part complete, the final upload then assembles it', async () => {
    const alice = await newUser();
    const one = bytes(400_000);
    const two = bytes(250_000);
    const [a, b] = [await partial(alice, one.length), await partial(alice, two.length)];
    expect((await patch(alice, b, 0, two)).status).toBe(204);
    expect((await patch(alice, a, 0, one.subarray(0, 100_000))).status).toBe(204);
    await bytesLandUnnoticed(a, one.subarray(100_000));
    await app.restart();

    for (const url of [a, b]) {
      const res = await head(alice, url);
      expect(res.headers.get('upload-offset')).toBe(res.headers.get('upload-length'));
    }
    const res = await final(alice, [a, b], 'parallel.bin');
    expect(res.status).toBe(201);
    const fileId = res.headers.get('tagdrop-file-id') as string;
    expect(fileId).toBeTruthy();
    const whole = Buffer.concat([one, two]);
    const file = await trpc(app, alice.access).files.get.query({ id: fileId });
    expect(file).toMatchObject({ name: 'parallel.bin', size: whole.length, sha256: sha256(whole) });
    expect((await download(`${app.url}/f/${fileId}`, bearer(alice.access))).body.equals(whole)).toBe(true);
    await expectHeld(alice, whole.length);
  });

  it('a final upload created first completes when the HEAD of its last part finds that part whole', async () => {
    const alice = await newUser();
    const one = bytes(200_000);
    const two = bytes(100_000);
    const [a, b] = [await partial(alice, one.length), await partial(alice, two.length)];
    expect((await patch(alice, b, 0, two)).status).toBe(204);
    const created = await final(alice, [a, b], 'unfinished-first.bin');
    expect(created.status).toBe(201);
    const url = abs(created.headers.get('location') as string);
    await bytesLandUnnoticed(a, one);
    await app.restart();

    expect((await head(alice, a)).headers.get('upload-offset')).toBe(String(one.length));
    const done = await head(alice, url);
    expect(done.headers.get('upload-offset')).toBe(String(one.length + two.length));
    const file = await trpc(app, alice.access).files.get.query({ id: idOf(url) });
    expect(file.sha256).toBe(sha256(Buffer.concat([one, two])));
    await expectHeld(alice, one.length + two.length);
  });

  it('a final upload whose creation was answered to nobody (and half assembled): the same POST again gets it', async () => {
    const alice = await newUser();
    const one = bytes(300_000);
    const two = bytes(200_000);
    const [a, b] = [await partial(alice, one.length), await partial(alice, two.length)];
    expect((await patch(alice, b, 0, two)).status).toBe(204);
    // The client sends the final upload; the answer never reaches it.
    const lost = await final(alice, [a, b], 'retried.bin');
    expect(lost.status).toBe(201);
    const lostUrl = abs(lost.headers.get('location') as string);
    // Its last part's bytes land, the assembly starts writing, and the server dies.
    await bytesLandUnnoticed(a, one);
    await fs.writeFile(path.join(app.config.storageDir, `${idOf(lostUrl)}.part`), one.subarray(0, 1000));
    await app.restart();

    // tus-js-client on resume: HEAD each part, then create the final upload again.
    for (const url of [a, b]) expect((await head(alice, url)).status).toBe(200);
    const again = await final(alice, [a, b], 'retried.bin');
    expect(again.status).toBe(201);
    expect(abs(again.headers.get('location') as string)).toBe(lostUrl);
    expect(again.headers.get('tagdrop-file-id')).toBe(idOf(lostUrl));
    const whole = Buffer.concat([one, two]);
    const list = await trpc(app, alice.access).files.list.query({});
    expect(list.results.map((f) => [f.name, f.size, f.sha256])).toEqual([['retried.bin', whole.length, sha256(whole)]]);
    expect((await download(`${app.url}/f/${idOf(lostUrl)}`, bearer(alice.access))).body.equals(whole)).toBe(true);
    // Once more after it is complete: still that one file.
    const third = await final(alice, [a, b], 'retried.bin');
    expect(third.status).toBe(201);
    expect(third.headers.get('tagdrop-file-id')).toBe(idOf(lostUrl));
    expect((await trpc(app, alice.access).files.list.query({})).results.length).toBe(1);
    await expectHeld(alice, whole.length);
  });

  it('replacing content: HEADs and empty PATCHes racing to finish it make the new content once, bytes intact', async () => {
    const alice = await newUser();
    const old = await createFile(app, alice.access, 'old content', {}, 'doc.txt');
    const data = bytes(150_000);
    const url = await createRawUpload(app, alice.access, data.length, { filename: 'doc.txt', file_id: old.id });
    expect((await patch(alice, url, 0, data.subarray(0, 50_000))).status).toBe(204);
    await bytesLandUnnoticed(url, data.subarray(50_000));
    await app.restart();

    const answers = await Promise.all([
      ...[0, 1, 2].map(() => head(alice, url)),
      ...[0, 1, 2].map(() => patch(alice, url, data.length, Buffer.alloc(0))),
    ]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 200, 200, 204, 204, 204]);
    const file = await trpc(app, alice.access).files.get.query({ id: old.id });
    expect(file).toMatchObject({ size: data.length, sha256: sha256(data) });
    const got = await download(`${app.url}/f/${old.id}`, bearer(alice.access));
    expect(got.status).toBe(200);
    expect(got.body.equals(data)).toBe(true);
    expect((await trpc(app, alice.access).files.list.query({})).results.length).toBe(1);
    await expectHeld(alice, data.length);
  });
});
