/**
 * DOWNLOAD_ACCEL=nginx behind Debian's nginx running the committed deploy/nginx.conf (its own prefix, config and
 * free port, stopped by PID): the API authorizes, checks expiry and link limits, counts the click and answers
 * conditional requests; nginx sends the bytes with Range from its internal location. What a client of nginx sees
 * is what a client of the API sees without the offload (a second app, same bytes, same name).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  bytes,
  createFile,
  download,
  type ErrorBody,
  type FileObject,
  type Session,
  sha256,
  startFilesApp,
  stopFilesApp,
  type TestApp,
} from './files-helpers.js';
import { type Nginx, startEdge } from './nginx-helpers.js';
import { eventually, solidImage } from './thumbnail-helpers.js';

let app: TestApp;
let plain: TestApp;
let nginx: Nginx;
let alice: Session;
let data: Buffer;
let pub: FileObject;

beforeAll(async () => {
  [app, plain] = await Promise.all([startFilesApp({ DOWNLOAD_ACCEL: 'nginx' }), startFilesApp()]);
  nginx = await startEdge({ apiUrl: app.url, storageDir: app.config.storageDir });
  alice = await app.login('edge-alice@example.com');
  data = bytes(300_000);
  pub = await createFile(app, alice.access, data, { is_public: 'true' }, 'report 2026.bin');
});
afterAll(async () => {
  await nginx?.stop();
  await Promise.all([stopFilesApp(app), stopFilesApp(plain)]);
});

const edge = (p: string) => `${nginx.url}${p}`;
const viaEdge = (u: string) => u.replace(app.url, nginx.url);
const storageKey = async (id: string) =>
  (await app.deps.db.selectFrom('files').select('storage_key').where('id', '=', id).executeTakeFirstOrThrow())
    .storage_key;
const statsOf = async (id: string) =>
  (await app.api<FileObject>('GET', `/api/files/${id}/`, { token: alice.access })).body.stats;

/** Clicks are counted after the answer: wait until the count reaches `expected`, then a little more. */
async function settledClicks(id: string, expected: number) {
  for (let i = 0; i < 100 && (await statsOf(id)).clicks < expected; i++) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 200));
  return (await statsOf(id)).clicks;
}

/** Headers that belong to the connection or the moment, not to the content. */
const TRANSPORT = new Set(['date', 'connection', 'keep-alive', 'server', 'last-modified']);
const contentHeaders = (h: Headers) =>
  Object.fromEntries([...h.entries()].filter(([name]) => !TRANSPORT.has(name)).sort(([a], [b]) => a.localeCompare(b)));

describe('bytes from nginx, decisions from the API', () => {
  it('GET /f/{id}: the bytes, and exactly the headers the API sends without the offload', async () => {
    const bob = await plain.login('edge-bob@example.com');
    const same = await createFile(plain, bob.access, data, { is_public: 'true' }, 'report 2026.bin');
    for (const headers of [{}, { range: 'bytes=1000-1999' }] as Record<string, string>[]) {
      const [viaNginx, direct] = await Promise.all([
        download(edge(`/f/${pub.id}`), headers),
        download(`${plain.url}/f/${same.id}`, headers),
      ]);
      expect(viaNginx.status).toBe(direct.status);
      expect(viaNginx.body.equals(direct.body)).toBe(true);
      expect(contentHeaders(viaNginx.headers)).toEqual(contentHeaders(direct.headers));
      expect(viaNginx.headers.get('last-modified')).toBeTruthy();
      expect(viaNginx.headers.get('x-accel-redirect')).toBeNull();
    }
    const get = await download(edge(`/f/${pub.id}`));
    expect(sha256(get.body)).toBe(pub.sha256);
    expect(get.headers.get('etag')).toBe(`"${pub.sha256}"`);
    expect(get.headers.get('content-disposition')).toBe(`attachment; filename="report 2026.bin"`);
    expect(get.headers.get('content-security-policy')).toBe("sandbox; frame-ancestors 'none'");
    expect(get.headers.get('x-content-type-options')).toBe('nosniff');
    expect(get.headers.get('accept-ranges')).toBe('bytes');
  });

  it('Range: 206 with Content-Range and the slice, suffix ranges too; 416 for a range outside the file', async () => {
    const part = await download(edge(`/f/${pub.id}`), { range: 'bytes=100-199' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${data.length}`);
    expect(part.headers.get('accept-ranges')).toBe('bytes');
    expect(part.body.equals(data.subarray(100, 200))).toBe(true);
    const tail = await download(edge(`/f/${pub.id}`), { range: 'bytes=-10' });
    expect(tail.status).toBe(206);
    expect(tail.body.equals(data.subarray(data.length - 10))).toBe(true);
    const outside = await download(edge(`/f/${pub.id}`), { range: `bytes=${data.length}-` });
    expect(outside.status).toBe(416);
    expect(outside.headers.get('content-range')).toBe(`bytes */${data.length}`);
    expect((JSON.parse(outside.body.toString()) as ErrorBody).error.code).toBe('range_not_satisfiable');
  });

  it('HEAD: the headers and the length, no body', async () => {
    const head = await download(edge(`/f/${pub.id}`), {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(data.length));
    expect(head.headers.get('etag')).toBe(`"${pub.sha256}"`);
    expect(head.body.length).toBe(0);
  });

  it("304 on the file's ETag; nginx never answers 304 on its own (the file's mtime)", async () => {
    const cached = await download(edge(`/f/${pub.id}`), { 'if-none-match': `"${pub.sha256}"` });
    expect(cached.status).toBe(304);
    expect(cached.body.length).toBe(0);
    const future = new Date(Date.now() + 3600_000).toUTCString();
    const dated = await download(edge(`/f/${pub.id}`), { 'if-modified-since': future });
    expect(dated.status).toBe(200);
    expect(dated.body.equals(data)).toBe(true);
  });

  it('404 for unknown ids and for private files without their owner; the owner gets them with a Bearer', async () => {
    expect((await download(edge('/f/00000000-0000-4000-8000-000000000000'))).status).toBe(404);
    expect((await download(edge('/s/not-a-token'))).status).toBe(404);
    const secret = await createFile(app, alice.access, 'only mine', {}, 'mine.txt');
    expect((await download(edge(`/f/${secret.id}`))).status).toBe(404);
    const own = await download(edge(`/f/${secret.id}`), bearer(alice.access));
    expect(own.status).toBe(200);
    expect(own.body.toString()).toBe('only mine');
    expect(own.headers.get('content-type')).toBe('text/plain; charset=utf-8');
  });

  it('410 for an expired file, even before the sweeper removed it', async () => {
    const file = await createFile(app, alice.access, 'soon gone', { is_public: 'true' }, 'soon.txt');
    await app.deps.db
      .updateTable('files')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', file.id)
      .execute();
    const gone = await download(edge(`/f/${file.id}`));
    expect(gone.status).toBe(410);
    expect((JSON.parse(gone.body.toString()) as ErrorBody).error.code).toBe('gone');
  });

  it('the internal location cannot be reached from outside, by any path or method', async () => {
    const key = await storageKey(pub.id);
    for (const p of [`/_protected/${key}`, `/_protected/${key}.json`, `/_protected/`, `/x/../_protected/${key}`]) {
      for (const method of ['GET', 'HEAD']) {
        const res = await download(edge(p), {}, method);
        expect(res.status, `${method} ${p}`).toBe(404);
        expect(res.body.includes(data.subarray(0, 64))).toBe(false);
      }
    }
    // A client that sends its own X-Accel-Redirect gets nothing out of it either.
    const forged = await download(edge('/api/hashtags/'), { 'x-accel-redirect': `/_protected/${key}` });
    expect(forged.body.includes(data.subarray(0, 64))).toBe(false);
  });
});

describe('clicks and link controls', () => {
  it('counts every download through nginx that starts at byte 0; later ranges and HEAD are not clicks', async () => {
    const file = await createFile(app, alice.access, bytes(5000), { is_public: 'true' }, 'count.bin');
    for (let i = 0; i < 5; i++) expect((await download(edge(`/f/${file.id}`))).status).toBe(200);
    expect((await download(edge(`/f/${file.id}`), { range: 'bytes=0-99' })).status).toBe(206);
    expect((await download(edge(`/f/${file.id}`), { range: 'bytes=100-199' })).status).toBe(206);
    expect((await download(edge(`/f/${file.id}`), {}, 'HEAD')).status).toBe(200);
    expect(await settledClicks(file.id, 6)).toBe(6);
  });

  it('a 304 counts as an opening (the API answers it); a 416 and a refused request do not; deleted is 404', async () => {
    const file = await createFile(app, alice.access, 'cached bytes', {}, 'cached.txt');
    const link = viaEdge(file.share_url as string);
    const first = await download(link);
    expect(first.status).toBe(200);
    expect(first.headers.get('etag')).toBe(`"${file.sha256}"`);
    const again = await download(link, { 'if-none-match': `"${file.sha256}"` });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(`"${file.sha256}"`);
    expect(again.body.length).toBe(0);
    expect((await download(link, { range: 'bytes=500-' })).status).toBe(416);
    expect((await download(edge(`/f/${file.id}`))).status).toBe(404);
    expect(await settledClicks(file.id, 2)).toBe(2);

    expect((await app.api('DELETE', `/api/files/${file.id}/`, { token: alice.access })).status).toBe(204);
    for (const url of [link, edge(`/f/${file.id}`)]) {
      const gone = await download(url, bearer(alice.access));
      expect(gone.status, url).toBe(404);
      expect(gone.body.toString()).not.toContain('cached bytes');
    }
  });

  it('/s/{token}: a private link through nginx, counted; a password answers 401 until unlocked', async () => {
    const file = await createFile(app, alice.access, 'shared bytes', {}, 'shared.txt');
    const link = viaEdge(file.share_url as string);
    const res = await download(link);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('shared bytes');
    expect(res.headers.get('content-disposition')).toBe('inline; filename=shared.txt');
    expect(await settledClicks(file.id, 1)).toBe(1);

    await app.api('PATCH', `/api/files/${file.id}/`, { token: alice.access, body: { link_password: 'open sesame' } });
    const locked = await download(link);
    expect(locked.status).toBe(401);
    expect((JSON.parse(locked.body.toString()) as ErrorBody).error.code).toBe('password_required');
    const token = new URL(link).pathname.split('/')[2] as string;
    const unlocked = await fetch(edge(`/api/share/${token}/unlock/`), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password: 'open sesame' }),
    });
    expect(unlocked.status).toBe(200);
    const { download_url } = (await unlocked.json()) as { download_url: string };
    const opened = await download(viaEdge(download_url));
    expect(opened.status).toBe(200);
    expect(opened.body.toString()).toBe('shared bytes');
  });

  it('max_downloads: sent whole by the API (nginx would answer ranges), the next one is 410 (ranges too)', async () => {
    const file = await createFile(app, alice.access, 'twice', { is_public: 'true', max_downloads: '2' }, 'two.txt');
    expect((await download(edge(`/f/${file.id}`))).status).toBe(200);
    const ranged = await download(edge(`/f/${file.id}`), { range: 'bytes=2-' });
    expect(ranged.status).toBe(200);
    expect(ranged.body.toString()).toBe('twice');
    expect(ranged.headers.get('accept-ranges')).toBeNull();
    const out = await download(edge(`/f/${file.id}`));
    expect(out.status).toBe(410);
    expect(out.body.toString()).not.toContain('twice');
    expect((await download(edge(`/f/${file.id}`), { range: 'bytes=2-3' })).status).toBe(410);
  });

  it('previews: a PDF on /f/{id}/view framable by the site, and the thumbnail from nginx, not counted', async () => {
    const pdfBytes = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
    const pdf = await createFile(app, alice.access, pdfBytes, { is_public: 'true' }, 'doc.pdf');
    const view = await download(edge(`/f/${pdf.id}/view`));
    expect(view.status).toBe(200);
    expect(view.headers.get('content-type')).toBe('application/pdf');
    expect(view.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(view.headers.get('content-security-policy')).toContain("frame-ancestors 'self'");
    expect(view.body.equals(pdfBytes)).toBe(true);

    const image = await createFile(app, alice.access, await solidImage('png'), { is_public: 'true' }, 'red.png');
    const thumbUrl = await eventually(
      async () =>
        (await app.api<FileObject>('GET', `/api/files/${image.id}/`, { token: alice.access })).body.thumbnail_url,
    );
    const thumb = await download(viaEdge(thumbUrl));
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toMatch(/^image\//);
    expect(thumb.headers.get('vary')).toBe('Authorization');
    expect(thumb.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    const row = await app.deps.db
      .selectFrom('files')
      .select('thumbnail_key')
      .where('id', '=', image.id)
      .executeTakeFirstOrThrow();
    const stored = await readFile(path.join(app.config.storageDir, row.thumbnail_key as string));
    expect(thumb.body.equals(stored)).toBe(true);
    expect(await settledClicks(image.id, 0)).toBe(0);
  });
});

describe('configuration', () => {
  it('DOWNLOAD_ACCEL takes nginx or off; the prefix must be a path between slashes', async () => {
    const { loadConfig } = await import('../src/env.js');
    expect(loadConfig({}).DOWNLOAD_ACCEL).toBeUndefined();
    expect(loadConfig({}).DOWNLOAD_ACCEL_PREFIX).toBe('/_protected/');
    expect(loadConfig({ DOWNLOAD_ACCEL: 'nginx' }).DOWNLOAD_ACCEL).toBe('nginx');
    expect(() => loadConfig({ DOWNLOAD_ACCEL: 'apache' })).toThrow(/DOWNLOAD_ACCEL/);
    expect(() => loadConfig({ DOWNLOAD_ACCEL_PREFIX: '/files' })).toThrow(/DOWNLOAD_ACCEL_PREFIX/);
  });
});
