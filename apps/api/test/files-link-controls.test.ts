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

  it('every GET that sends content takes one: the file is sent whole (no Range); HEAD and the owner are free', async () => {
    const file = (await createFile(app, alice.access, '0123456789', {}, 'c.txt')) as LinkFile;
    await patch(file.id, { max_downloads: 3 });
    const link = file.share_url as string;
    const leftNow = async () =>
      (await app.api<LinkFile>('GET', `/api/files/${file.id}/`, { token: alice.access })).body.downloads_left;
    const head = await download(link, {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('accept-ranges')).toBeNull();
    expect(head.headers.get('content-length')).toBe('10');
    expect((await download(`${app.url}/f/${file.id}`, bearer(alice.access))).status).toBe(200);
    // The owner still gets ranges (their downloads are not limited).
    const own = await download(`${app.url}/f/${file.id}`, { ...bearer(alice.access), range: 'bytes=5-' });
    expect(own.status).toBe(206);
    expect(await leftNow()).toBe(3);
    // A range that does not start at byte 0 is no way around the limit: the whole file, counted.
    const late = await download(link, { range: 'bytes=5-' });
    expect(late.status).toBe(200);
    expect(late.body.toString()).toBe('0123456789');
    expect(late.headers.get('accept-ranges')).toBeNull();
    expect(late.headers.get('content-range')).toBeNull();
    expect(await leftNow()).toBe(2);
    const first = await download(link, { range: 'bytes=0-3' });
    expect(first.status).toBe(200);
    expect(first.body.toString()).toBe('0123456789');
    // An unsatisfiable range too: the whole file, counted (never a free 416).
    expect((await download(link, { range: 'bytes=50-' })).status).toBe(200);
    expect(await leftNow()).toBe(0);
    expect((await download(link)).status).toBe(410);
    expect((await download(link, { range: 'bytes=9-' })).status).toBe(410);
    expect((await download(link, {}, 'HEAD')).status).toBe(410);
    expect(await trpcError(trpc(app).public.byToken.query({ token: tokenOf(file) }))).toEqual({
      status: 410,
      code: 'gone',
    });
    // A new limit starts a fresh count; null removes it, and ranges work again.
    expect((await patch(file.id, { max_downloads: 1 })).body.downloads_left).toBe(1);
    expect((await download(link)).status).toBe(200);
    expect((await patch(file.id, { max_downloads: null })).body.downloads_left).toBeNull();
    const free = await download(link, { range: 'bytes=5-' });
    expect(free.status).toBe(206);
    expect(free.body.toString()).toBe('56789');
    expect(free.headers.get('accept-ranges')).toBe('bytes');
  });

  it('HEAD on /f and /s of a limited file takes no download and counts no click', async () => {
    const pub = (await createFile(
      app,
      alice.access,
      'public',
      { is_public: 'true', max_downloads: '2' },
      'h.txt',
    )) as LinkFile;
    const priv = (await createFile(app, alice.access, 'private', { max_downloads: '2' }, 'h.txt')) as LinkFile;
    for (let i = 0; i < 4; i++) {
      expect((await download(`${app.url}/f/${pub.id}`, {}, 'HEAD')).status).toBe(200);
      expect((await download(priv.share_url as string, {}, 'HEAD')).status).toBe(200);
    }
    await new Promise((r) => setTimeout(r, 300));
    for (const f of [pub, priv]) {
      const after = await app.api<LinkFile>('GET', `/api/files/${f.id}/`, { token: alice.access });
      expect(after.body.downloads_left).toBe(2);
      expect(after.body.stats.clicks).toBe(0);
    }
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

describe('a password protects the private link only', () => {
  const error = (body: unknown) => (body as ErrorBody).error;

  it('REST: a password on a public file, or making a file with one public, is 400 and changes nothing', async () => {
    const pub = (await createFile(app, alice.access, 'pub', { is_public: 'true' }, 'pub.txt')) as LinkFile;
    const set = await patch(pub.id, { link_password: 'nope' });
    expect(set.status).toBe(400);
    expect(error(set.body)).toMatchObject({
      code: 'link_password_requires_private',
      fields: { link_password: [expect.any(String)] },
    });
    const both = await patch(pub.id, { is_public: false, link_password: 'ok' });
    expect(both.status).toBe(200);
    expect(both.body).toMatchObject({ is_public: false, has_link_password: true });

    const made = await patch(pub.id, { is_public: true });
    expect(made.status).toBe(400);
    expect(error(made.body).code).toBe('link_password_requires_private');
    const still = await app.api<LinkFile>('GET', `/api/files/${pub.id}/`, { token: alice.access });
    expect(still.body).toMatchObject({ is_public: false, has_link_password: true });
    // Clearing it explicitly in the same request makes it public.
    const cleared = await patch(pub.id, { is_public: true, link_password: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body).toMatchObject({ is_public: true, has_link_password: false });

    // PUT (JSON and multipart) and a multipart upload follow the same rule.
    const put = await app.api<ErrorBody>('PUT', `/api/files/${pub.id}/`, {
      token: alice.access,
      body: { link_password: 'x' },
    });
    expect(put.status).toBe(400);
    const replaced = await restUpload(app, alice.access, 'new content', {
      method: 'PUT',
      path: `/api/files/${pub.id}/`,
      filename: 'pub.txt',
      before: { link_password: 'x' },
    });
    expect(replaced.status).toBe(400);
    expect(error(replaced.body).code).toBe('link_password_requires_private');
    const unchanged = await download(`${app.url}/f/${pub.id}`);
    expect(unchanged.body.toString()).toBe('pub');
    const upload = await restUpload(app, alice.access, 'x', {
      filename: 'x.txt',
      before: { is_public: 'true', link_password: 'x' },
    });
    expect(upload.status).toBe(400);
    expect(error(upload.body).code).toBe('link_password_requires_private');
  });

  it('bulk make_public of a selection with a password-protected file: 400, nothing changes', async () => {
    const plain = (await createFile(app, alice.access, 'a', {}, 'a.txt')) as LinkFile;
    const locked = (await createFile(app, alice.access, 'b', {}, 'b.txt')) as LinkFile;
    await patch(locked.id, { link_password: 'pw' });
    const res = await app.api<ErrorBody>('POST', '/api/files/bulk/', {
      token: alice.access,
      body: { ids: [plain.id, locked.id], action: 'make_public' },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('link_password_requires_private');
    for (const id of [plain.id, locked.id]) {
      const after = await app.api<LinkFile>('GET', `/api/files/${id}/`, { token: alice.access });
      expect(after.body.is_public).toBe(false);
    }
    expect(
      await trpcError(trpc(app, alice.access).files.bulk.mutate({ ids: [plain.id, locked.id], action: 'make_public' })),
    ).toEqual({ status: 400, code: 'link_password_requires_private' });
    // Without the protected file it goes through.
    const ok = await trpc(app, alice.access).files.bulk.mutate({ ids: [plain.id], action: 'make_public' });
    expect(ok.updated).toBe(1);
  });

  it('tRPC: files.update follows the same rule', async () => {
    const client = trpc(app, alice.access);
    const pub = (await createFile(app, alice.access, 'p', { is_public: 'true' }, 'p.txt')) as LinkFile;
    expect(await trpcError(client.files.update.mutate({ id: pub.id, link_password: 'x' }))).toEqual({
      status: 400,
      code: 'link_password_requires_private',
    });
    const priv = await client.files.update.mutate({ id: pub.id, is_public: false, link_password: 'x' });
    expect(priv.has_link_password).toBe(true);
    expect(await trpcError(client.files.update.mutate({ id: pub.id, is_public: true }))).toEqual({
      status: 400,
      code: 'link_password_requires_private',
    });
    expect((await client.files.get.query({ id: pub.id })).is_public).toBe(false);
    const made = await client.files.update.mutate({ id: pub.id, is_public: true, link_password: null });
    expect(made).toMatchObject({ is_public: true, has_link_password: false });
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
