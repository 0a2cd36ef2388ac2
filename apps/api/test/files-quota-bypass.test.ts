/**
 * The storage quota cannot be bypassed over tus (issue 8, item 2): a rejected request changes nothing, the
 * declared Upload-Length is fixed once set (a deferred length is declared once), and the size limit and the
 * quota are checked again on every PATCH against what the upload really declares.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ErrorBody,
  encodeMetadata,
  type Session,
  startFilesApp,
  stopFilesApp,
  type TestApp,
  trpc,
  tusRaw,
} from './files-helpers.js';

const QUOTA = 1_000_000;
const OFFSET = 'application/offset+octet-stream';
let app: TestApp;
let n = 0;
const newUser = (): Promise<Session> => app.login(`bypass-${n++}@example.com`);

beforeAll(async () => {
  app = await startFilesApp({ USER_QUOTA_BYTES: String(QUOTA), MAX_UPLOAD_BYTES: String(QUOTA) });
});
afterAll(() => stopFilesApp(app));

const create = (user: Session, headers: Record<string, string>) =>
  tusRaw(app, 'POST', '/uploads/', {
    token: user.access,
    headers: { 'upload-metadata': encodeMetadata({ filename: 'x.bin' }), ...headers },
  });
const urlOf = (res: Response) => new URL(res.headers.get('location') as string, app.url).toString();
const patch = (user: Session, url: string, headers: Record<string, string>, body = Buffer.alloc(0)) =>
  tusRaw(app, 'PATCH', url, { token: user.access, headers: { 'content-type': OFFSET, ...headers }, body });
const head = (user: Session, url: string) => tusRaw(app, 'HEAD', url, { token: user.access });
const reserved = async (user: Session) =>
  (await app.deps.db.selectFrom('uploads').select(['id', 'size']).where('owner_id', '=', user.user.id).execute()).map(
    (r) => (r.size === null ? null : Number(r.size)),
  );

describe('the Upload-Length: 0 PATCH trick (5 × 900 000 against a 1 000 000 quota)', () => {
  it('holds at most the quota: the trick is a 400 that changes nothing, later reservations get 413', async () => {
    const user = await newUser();
    const urls: string[] = [];
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await create(user, { 'upload-length': '900000' });
      statuses.push(res.status);
      if (res.status !== 201) {
        expect(((await res.json()) as ErrorBody).error.code).toBe('quota_exceeded');
        continue;
      }
      const url = urlOf(res);
      urls.push(url);
      const trick = await patch(user, url, { 'upload-offset': '0', 'upload-length': '0' });
      expect(trick.status).toBe(400);
      // The rejected request changed nothing: the upload still declares its 900 000 bytes.
      expect((await head(user, url)).headers.get('upload-length')).toBe('900000');
    }
    expect(statuses).toEqual([201, 413, 413, 413, 413]);
    expect(await reserved(user)).toEqual([900_000]);
    // The real bytes go to the one upload that exists.
    for (const url of urls) {
      const res = await patch(user, url, { 'upload-offset': '0' }, Buffer.alloc(900_000, 7));
      expect(res.status).toBe(204);
    }
    const files = await trpc(app, user.access).files.list.query({});
    expect(files.results.length).toBe(1);
    expect(files.results.reduce((sum, f) => sum + f.size, 0)).toBeLessThanOrEqual(QUOTA);
  });

  it('an Upload-Length on a PATCH of an upload whose length is known is refused unless it is the same', async () => {
    const user = await newUser();
    const url = urlOf(await create(user, { 'upload-length': '10' }));
    for (const value of ['0', '11', '5', '9999999']) {
      const res = await patch(user, url, { 'upload-offset': '0', 'upload-length': value }, Buffer.from('abc'));
      expect(res.status, value).toBe(400);
      expect(((await res.json()) as ErrorBody).error.code, value).toBe('validation_error');
    }
    const after = await head(user, url);
    expect(after.headers.get('upload-length')).toBe('10');
    expect(after.headers.get('upload-offset')).toBe('0');
    expect(await reserved(user)).toEqual([10]);
    // Repeating the length it has is no change (a client retrying its last PATCH).
    const same = await patch(user, url, { 'upload-offset': '0', 'upload-length': '10' }, Buffer.from('abc'));
    expect(same.status).toBe(204);
    expect(same.headers.get('upload-offset')).toBe('3');
  });
});

describe('deferred length: declared once, within the limits, under the quota lock', () => {
  it('a deferred length is declared once; a second, different declaration is refused and changes nothing', async () => {
    const user = await newUser();
    const res = await create(user, { 'upload-defer-length': '1' });
    expect(res.status).toBe(201);
    const url = urlOf(res);
    expect(await reserved(user)).toEqual([null]);
    const first = await patch(user, url, { 'upload-offset': '0', 'upload-length': '8' }, Buffer.from('abcd'));
    expect(first.status).toBe(204);
    expect(await reserved(user)).toEqual([8]);
    const again = await patch(user, url, { 'upload-offset': '4', 'upload-length': '4' }, Buffer.from('efgh'));
    expect(again.status).toBe(400);
    const state = await head(user, url);
    expect(state.headers.get('upload-length')).toBe('8');
    expect(state.headers.get('upload-offset')).toBe('4');
    expect(await reserved(user)).toEqual([8]);
  });

  it('declaring more than the quota left → 413 quota_exceeded, and the upload stays deferred', async () => {
    const user = await newUser();
    const big = await create(user, { 'upload-length': '700000' });
    expect(big.status).toBe(201);
    const deferred = urlOf(await create(user, { 'upload-defer-length': '1' }));
    const res = await patch(user, deferred, { 'upload-offset': '0', 'upload-length': '400000' }, Buffer.from('ab'));
    expect(res.status).toBe(413);
    expect(((await res.json()) as ErrorBody).error.code).toBe('quota_exceeded');
    const state = await head(user, deferred);
    expect(state.headers.get('upload-defer-length')).toBe('1');
    expect(state.headers.get('upload-offset')).toBe('0');
    // What fits is still accepted.
    const ok = await patch(user, deferred, { 'upload-offset': '0', 'upload-length': '300000' }, Buffer.from('ab'));
    expect(ok.status).toBe(204);
    expect((await reserved(user)).sort()).toEqual([300_000, 700_000]);
  });

  it('a declared length smaller than the bytes already received is refused and changes nothing', async () => {
    const user = await newUser();
    const url = urlOf(await create(user, { 'upload-defer-length': '1' }));
    expect((await patch(user, url, { 'upload-offset': '0' }, Buffer.from('abcdef'))).status).toBe(204);
    const res = await patch(user, url, { 'upload-offset': '6', 'upload-length': '3' });
    expect(res.status).toBe(400);
    expect((await head(user, url)).headers.get('upload-defer-length')).toBe('1');
    expect(await reserved(user)).toEqual([null]);
  });

  it('a PATCH whose body overruns the length it declares is refused before anything is declared', async () => {
    const user = await newUser();
    const url = urlOf(await create(user, { 'upload-defer-length': '1' }));
    const res = await patch(user, url, { 'upload-offset': '0', 'upload-length': '3' }, Buffer.from('abcdef'));
    expect(res.status).toBe(413);
    const state = await head(user, url);
    expect(state.headers.get('upload-defer-length')).toBe('1');
    expect(state.headers.get('upload-offset')).toBe('0');
    expect(await reserved(user)).toEqual([null]);
  });
});

describe('every PATCH is checked against what the upload declares', () => {
  it('an upload whose reservation was lowered behind its back cannot take more than the quota', async () => {
    const user = await newUser();
    const first = urlOf(await create(user, { 'upload-length': '900000' }));
    // A reservation that no longer matches the upload (as the old trick left it): the PATCH re-checks the
    // upload's own declared length against the quota, under the owner's lock.
    await app.deps.db.updateTable('uploads').set({ size: 0 }).where('owner_id', '=', user.user.id).execute();
    const second = urlOf(await create(user, { 'upload-length': '900000' }));
    const a = await patch(user, first, { 'upload-offset': '0' }, Buffer.alloc(1000));
    const b = await patch(user, second, { 'upload-offset': '0' }, Buffer.alloc(1000));
    expect([a.status, b.status].sort()).toEqual([204, 413]);
  });
});
