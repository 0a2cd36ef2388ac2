/**
 * DOWNLOAD_REDIRECT=presigned on STORAGE_DRIVER=s3: the API authorizes, checks expiry and counts the click, then
 * answers 302 to a presigned GET of the object (valid 60 s) that the object store answers with the API's own
 * Content-Type and Content-Disposition (response overrides); expired files are 410 with no redirect.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  bytes,
  download,
  type FileObject,
  restUpload,
  type Session,
  sha256,
  startFilesApp,
  stopFilesApp,
  type TestApp,
} from './files-helpers.js';
import { type S3TestServer, s3Env, startS3Server } from './s3-helpers.js';

let s3: S3TestServer;
let app: TestApp;
let owner: Session;

beforeAll(async () => {
  s3 = await startS3Server();
  app = await startFilesApp({ ...s3Env(s3), DOWNLOAD_REDIRECT: 'presigned' });
  owner = await app.login('presigned@example.com');
});
afterAll(async () => {
  await stopFilesApp(app);
  await s3?.stop();
});

const noFollow = (url: string, headers: Record<string, string> = {}, method = 'GET') =>
  fetch(url, { method, headers, redirect: 'manual' });
const clicksOf = async (id: string) =>
  (await app.api<FileObject>('GET', `/api/files/${id}/`, { token: owner.access })).body.stats.clicks;

async function upload(content: Buffer, filename: string, fields: Record<string, string> = {}) {
  const res = await restUpload(app, owner.access, content, { filename, before: fields });
  expect(res.status).toBe(201);
  return res.body;
}

describe('DOWNLOAD_REDIRECT=presigned', () => {
  it('a GET is counted, then redirected to a 60 s presigned URL that serves the bytes with the API headers', async () => {
    const content = bytes(200_000);
    const file = await upload(content, 'naïve report.bin', { is_public: 'true' });
    const res = await noFollow(`${app.url}/f/${file.id}`);
    expect(res.status).toBe(302);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const location = new URL(res.headers.get('location') as string);
    expect(location.origin).toBe(s3.endpoint);
    expect(location.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(location.searchParams.get('X-Amz-Signature')).toBeTruthy();

    const fromStore = await download(location.toString());
    expect(fromStore.status).toBe(200);
    expect(sha256(fromStore.body)).toBe(sha256(content));
    expect(fromStore.headers.get('content-type')).toBe('application/octet-stream');
    expect(fromStore.headers.get('content-disposition')).toBe(
      `attachment; filename="na?ve report.bin"; filename*=UTF-8''na%C3%AFve%20report.bin`,
    );
    await expect.poll(() => clicksOf(file.id)).toBe(1);

    // Range: redirected as well (not a click when it starts later); the store answers the range.
    const ranged = await noFollow(`${app.url}/f/${file.id}`, { range: 'bytes=100-199' });
    expect(ranged.status).toBe(302);
    const part = await download(ranged.headers.get('location') as string, { range: 'bytes=100-199' });
    expect(part.status).toBe(206);
    expect(part.body.equals(content.subarray(100, 200))).toBe(true);

    // HEAD and conditional requests are answered by the API itself.
    const head = await noFollow(`${app.url}/f/${file.id}`, {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(content.length));
    expect((await noFollow(`${app.url}/f/${file.id}`, { 'if-none-match': `"${file.sha256}"` })).status).toBe(304);
    await new Promise((r) => setTimeout(r, 200));
    expect(await clicksOf(file.id)).toBe(2); // the GET and the 304 start at byte 0; HEAD and the later range do not
  });

  it('text and private links: the overrides carry the inline type; the owner and share links redirect too', async () => {
    const file = await upload(Buffer.from('hello from the bucket'), 'hello.txt');
    const viaOwner = await noFollow(file.download_url as string, bearer(owner.access));
    expect(viaOwner.status).toBe(302);
    const got = await download(viaOwner.headers.get('location') as string);
    expect(got.body.toString()).toBe('hello from the bucket');
    expect(got.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(got.headers.get('content-disposition')).toBe('inline; filename=hello.txt');

    const viaLink = await noFollow(file.share_url as string);
    expect(viaLink.status).toBe(302);
    expect((await download(viaLink.headers.get('location') as string)).body.toString()).toBe('hello from the bucket');
    expect((await noFollow(`${app.url}/f/${file.id}`)).status).toBe(404); // private: no redirect for strangers
  });

  it('a file with a download limit is streamed by the API: no presigned URL that could be fetched again', async () => {
    const content = bytes(50_000);
    const file = await upload(content, 'twice.bin', { is_public: 'true', max_downloads: '2' });
    for (let i = 0; i < 2; i++) {
      const res = await noFollow(`${app.url}/f/${file.id}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('location')).toBeNull();
      expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(content));
    }
    expect((await noFollow(`${app.url}/f/${file.id}`)).status).toBe(410);
    // Its owner (no limit applies) is still redirected.
    expect((await noFollow(`${app.url}/f/${file.id}`, bearer(owner.access))).status).toBe(302);
  });

  it('an expired file is 410 with no redirect and no click', async () => {
    const file = await upload(Buffer.from('soon gone'), 'soon.txt', { is_public: 'true' });
    await app.deps.db
      .updateTable('files')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', file.id)
      .execute();
    const res = await noFollow(`${app.url}/f/${file.id}`);
    expect(res.status).toBe(410);
    expect(res.headers.get('location')).toBeNull();
    expect(await clicksOf(file.id)).toBe(0);
  });
});
