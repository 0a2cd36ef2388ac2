/**
 * Issue 11 "Control the link": a password on a private link (argon2id, unlock grants, rate limits) and a download
 * limit that holds exactly under concurrency, over real HTTP and tRPC.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepExpired } from '../src/jobs/delete-expired-files.job.js';
import {
  bearer,
  createFile,
  download,
  type ErrorBody,
  type FileObject,
  restUpload,
  type Session,
  sharePath,
  startFilesApp,
  stopFilesApp,
  type TestApp,
  trpc,
  trpcError,
} from './files-helpers.js';

type LinkFile = FileObject & {
  has_link_password: boolean;
  max_downloads: number | null;
  downloads_left: number | null;
};

let app: TestApp;
let alice: Session;

beforeAll(async () => {
  app = await startFilesApp();
  alice = await app.login('alice-links@example.com');
});
afterAll(async () => {
  await stopFilesApp(app);
});

const patch = (id: string, body: Record<string, unknown>) =>
  app.api<LinkFile & ErrorBody>('PATCH', `/api/files/${id}/`, { token: alice.access, body });
const unlock = (token: string, password: string, headers: Record<string, string> = {}) =>
  app.api<{ download_url: string; unlock: string; expires_at: string } & ErrorBody>(
    'POST',
    `/api/share/${token}/unlock/`,
    { body: { password }, headers },
  );
const tokenOf = (file: FileObject) =>
  sharePath(file.share_url as string)
    .split('/')
    .pop() as string;

describe('a password on the private link', () => {
  let file: LinkFile;
  let token: string;

  beforeAll(async () => {
    file = (await createFile(app, alice.access, 'secret bytes', {}, 'secret.txt')) as LinkFile;
    token = tokenOf(file);
    const set = await patch(file.id, { link_password: 'correct horse' });
    expect(set.status).toBe(200);
    expect(set.body.has_link_password).toBe(true);
    expect(JSON.stringify(set.body)).not.toContain('correct horse');
    const row = await app.deps.db
      .selectFrom('files')
      .select('link_password_hash')
      .where('id', '=', file.id)
      .executeTakeFirstOrThrow();
    expect(row.link_password_hash).toMatch(/^\$argon2id\$/);
  });

  it('GET and HEAD /s/{token}, /s/{token}/thumb and public.byToken answer 401 password_required, no bytes', async () => {
    for (const method of ['GET', 'HEAD']) {
      const res = await download(`${app.url}/s/${token}`, {}, method);
      expect(res.status).toBe(401);
      expect(res.body.toString()).not.toContain('secret bytes');
    }
    const get = await download(`${app.url}/s/${token}`);
    expect((JSON.parse(get.body.toString()) as ErrorBody).error.code).toBe('password_required');
    expect((await download(`${app.url}/s/${token}/thumb`)).status).toBe(401);
    expect(await trpcError(trpc(app).public.byToken.query({ token }))).toEqual({
      status: 401,
      code: 'password_required',
    });
  });

  it('a wrong password is 400 invalid_password; the right one gives a download_url that works', async () => {
    const wrong = await unlock(token, 'battery staple');
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.code).toBe('invalid_password');
    const right = await unlock(token, 'correct horse');
    expect(right.status).toBe(200);
    expect(right.body.download_url).toMatch(new RegExp(`^${app.url}/s/${token}\\?unlock=`));
    const bytes = await download(right.body.download_url);
    expect(bytes.status).toBe(200);
    expect(bytes.body.toString()).toBe('secret bytes');
    // The same grant opens the thumbnail route (a placeholder for text) and the share page's data.
    expect((await download(`${app.url}/s/${token}/thumb?unlock=${right.body.unlock}`)).status).toBe(200);
    const shared = await trpc(app).public.byToken.query({ token, unlock: right.body.unlock });
    expect(shared.name).toBe('secret.txt');
    expect(shared.has_link_password).toBe(true);
  });

  it('a forged, expired or old grant opens nothing; changing the password or rotating the link kills grants', async () => {
    expect((await download(`${app.url}/s/${token}?unlock=9999999999.${'A'.repeat(43)}`)).status).toBe(401);
    const { body } = await unlock(token, 'correct horse');
    const past = `1.${body.unlock.split('.')[1]}`;
    expect((await download(`${app.url}/s/${token}?unlock=${past}`)).status).toBe(401);
    await patch(file.id, { link_password: 'new password' });
    expect((await download(body.download_url)).status).toBe(401);
    const fresh = await unlock(token, 'new password');
    expect((await download(fresh.body.download_url)).status).toBe(200);
    const rotated = await app.api<LinkFile>('POST', `/api/files/${file.id}/rotate-link/`, { token: alice.access });
    const newToken = tokenOf(rotated.body);
    expect((await download(`${app.url}/s/${newToken}?unlock=${fresh.body.unlock}`)).status).toBe(401);
    token = newToken;
  });

  it('the owner keeps reaching the file at /f/{id}, whatever strangers try', async () => {
    for (let i = 0; i < 12; i++) await unlock(token, `guess ${i}`, { 'x-test': String(i) });
    const own = await download(`${app.url}/f/${file.id}`, bearer(alice.access));
    expect(own.status).toBe(200);
    expect(own.body.toString()).toBe('secret bytes');
  });

  it('wrong passwords are limited per link and IP: 429 with Retry-After, even for the right password', async () => {
    const other = (await createFile(app, alice.access, 'x', {}, 'limited.txt')) as LinkFile;
    await patch(other.id, { link_password: 'open sesame' });
    const t = tokenOf(other);
    const answers: number[] = [];
    for (let i = 0; i < 11; i++) answers.push((await unlock(t, `nope ${i}`)).status);
    expect(answers.slice(0, 10)).toEqual(Array(10).fill(400));
    expect(answers[10]).toBe(429);
    const blocked = await unlock(t, 'open sesame');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another link of the same visitor is not affected.
    const third = (await createFile(app, alice.access, 'y', {}, 'third.txt')) as LinkFile;
    await patch(third.id, { link_password: 'third' });
    expect((await unlock(tokenOf(third), 'third')).status).toBe(200);
  });

  it('null removes the password; the link opens again; tus metadata may not carry one', async () => {
    const removed = await patch(file.id, { link_password: null });
    expect(removed.body.has_link_password).toBe(false);
    expect((await download(`${app.url}/s/${token}`)).status).toBe(200);
    const tus = await fetch(`${app.url}/uploads/`, {
      method: 'POST',
      headers: {
        ...bearer(alice.access),
        'tus-resumable': '1.0.0',
        'upload-length': '1',
        'upload-metadata': `filename ${Buffer.from('a.txt').toString('base64')},link_password ${Buffer.from('pw').toString('base64')}`,
      },
    });
    expect(tus.status).toBe(400);
    expect(((await tus.json()) as ErrorBody).error.code).toBe('invalid_metadata');
  });

  it('a multipart upload may set the password and the limit; the tRPC update too', async () => {
    const res = await restUpload(app, alice.access, 'multi', {
      filename: 'multi.txt',
      before: { link_password: 'pw from form', max_downloads: '3' },
    });
    expect(res.status).toBe(201);
    const created = res.body as unknown as LinkFile;
    expect(created.has_link_password).toBe(true);
    expect(created.max_downloads).toBe(3);
    expect(created.downloads_left).toBe(3);
    expect((await unlock(tokenOf(created), 'pw from form')).status).toBe(200);
    const updated = await trpc(app, alice.access).files.update.mutate({ id: created.id, link_password: null });
    expect(updated.has_link_password).toBe(false);
    const bad = await patch(created.id, { max_downloads: 0 });
    expect(bad.status).toBe(400);
  });
});

describe('a download limit', () => {
  it('200 parallel downloads of a file limited to 50: exactly 50 × 200 and 150 × 410', async () => {
    const file = (await createFile(app, alice.access, 'limited content', { is_public: 'true' }, 'l.txt')) as LinkFile;
    const set = await patch(file.id, { max_downloads: 50 });
    expect(set.body.downloads_left).toBe(50);
    const statuses = await Promise.all(
      Array.from({ length: 200 }, () =>
        fetch(`${app.url}/f/${file.id}`).then(async (r) => {
          await r.arrayBuffer();
          return r.status;
        }),
      ),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(50);
    expect(statuses.filter((s) => s === 410)).toHaveLength(150);
    const after = await app.api<LinkFile>('GET', `/api/files/${file.id}/`, { token: alice.access });
    expect(after.body.downloads_left).toBe(0);
    const gone = await download(`${app.url}/f/${file.id}`);
    expect((JSON.parse(gone.body.toString()) as ErrorBody).error.code).toBe('gone');
    // After the limit nothing more goes out, ranges included; the owner still gets the bytes.
    expect((await download(`${app.url}/f/${file.id}`, { range: 'bytes=3-' })).status).toBe(410);
    expect((await download(`${app.url}/f/${file.id}`, bearer(alice.access))).status).toBe(200);
  });

  it('counts what a click counts: a GET from byte 0 by a visitor; HEAD, later ranges and the owner are free', async () => {
    const file = (await createFile(app, alice.access, '0123456789', {}, 'c.txt')) as LinkFile;
    await patch(file.id, { max_downloads: 2 });
    const link = file.share_url as string;
    expect((await download(link, {}, 'HEAD')).status).toBe(200);
    expect((await download(link, { range: 'bytes=5-' })).status).toBe(206);
    expect((await download(`${app.url}/f/${file.id}`, bearer(alice.access))).status).toBe(200);
    let left = (await app.api<LinkFile>('GET', `/api/files/${file.id}/`, { token: alice.access })).body.downloads_left;
    expect(left).toBe(2);
    expect((await download(link, { range: 'bytes=0-3' })).status).toBe(206);
    expect((await download(link)).status).toBe(200);
    left = (await app.api<LinkFile>('GET', `/api/files/${file.id}/`, { token: alice.access })).body.downloads_left;
    expect(left).toBe(0);
    expect((await download(link)).status).toBe(410);
    expect((await download(link, {}, 'HEAD')).status).toBe(410);
    expect(await trpcError(trpc(app).public.byToken.query({ token: tokenOf(file) }))).toEqual({
      status: 410,
      code: 'gone',
    });
    // A new limit starts a fresh count; null removes it.
    expect((await patch(file.id, { max_downloads: 1 })).body.downloads_left).toBe(1);
    expect((await download(link)).status).toBe(200);
    expect((await patch(file.id, { max_downloads: null })).body.downloads_left).toBeNull();
    expect((await download(link)).status).toBe(200);
  });

  it('a conditional GET answered 304 (the visitor has the bytes) takes no download', async () => {
    const file = (await createFile(app, alice.access, 'cached once', {}, 'etag.txt')) as LinkFile;
    await patch(file.id, { max_downloads: 2 });
    const link = file.share_url as string;
    const first = await download(link);
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag') as string;
    expect(etag).toBeTruthy();
    for (let i = 0; i < 3; i++) expect((await download(link, { 'if-none-match': etag })).status).toBe(304);
    const left = await app.api<LinkFile>('GET', `/api/files/${file.id}/`, { token: alice.access });
    expect(left.body.downloads_left).toBe(1);
    expect((await download(link)).status).toBe(200);
    expect((await download(link, { 'if-none-match': etag })).status).toBe(410);
  });

  it('the sweeper removes a file out of downloads like an expired one', async () => {
    const file = (await createFile(app, alice.access, 'once', { max_downloads: '1' }, 'once.txt')) as LinkFile;
    expect(file.max_downloads).toBe(1);
    const keep = (await createFile(app, alice.access, 'keep', { max_downloads: '5' }, 'keep.txt')) as LinkFile;
    expect((await download(file.share_url as string)).status).toBe(200);
    await sweepExpired(app.deps);
    const ids = (await app.deps.db.selectFrom('files').select('id').execute()).map((r) => r.id);
    expect(ids).not.toContain(file.id);
    expect(ids).toContain(keep.id);
    expect((await download(`${app.url}/f/${file.id}`, bearer(alice.access))).status).toBe(404);
  });
});

describe('OpenAPI', () => {
  it('describes the unlock route and the new fields', async () => {
    const doc = (
      await app.api<{ paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } }>(
        'GET',
        '/api/openapi.json',
      )
    ).body;
    expect(Object.keys(doc.paths)).toContain('/api/share/{token}/unlock/');
    const file = JSON.stringify(doc.components.schemas.File);
    for (const field of ['has_link_password', 'max_downloads', 'downloads_left']) expect(file).toContain(field);
  });
});
