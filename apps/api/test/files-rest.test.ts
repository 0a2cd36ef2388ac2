/**
 * The REST surface of DESIGN.md for files: multipart upload like `curl -F file=@x` (fields before and after the
 * file part), the file object's shape, GET/PATCH/PUT/DELETE /api/files/{id}/ with and without a trailing slash,
 * filters (?hashtag=, ?search=), cursor pagination, public files and hashtag counts.
 */
import { fileSchema } from '@tagdrop/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  bytes,
  createFile,
  download,
  type ErrorBody,
  type FileObject,
  restUpload,
  type Session,
  sha256,
  sharePath,
  startFilesApp,
  stopFilesApp,
  type TestApp,
} from './files-helpers.js';

let app: TestApp;
let alice: Session;
let bob: Session;

beforeAll(async () => {
  app = await startFilesApp({ MAX_UPLOAD_BYTES: '200000' });
  [alice, bob] = await Promise.all([app.login('rest-alice@example.com'), app.login('rest-bob@example.com')]);
});
afterAll(() => stopFilesApp(app));

const FILE_KEYS = [
  'id',
  'name',
  'size',
  'mime_type',
  'sha256',
  'description',
  'hashtags',
  'is_public',
  'expires_at',
  'created_at',
  'updated_at',
  'download_url',
  'share_url',
  'thumbnail_url',
  'has_link_password',
  'max_downloads',
  'downloads_left',
  'stats',
].sort();

describe('POST /api/files/ (multipart)', () => {
  it('fields before and after the file part → 201 and the full file object', async () => {
    const content = Buffer.from('multipart content\n');
    const expires = new Date(Date.now() + 3 * 24 * 3600 * 1000).toISOString();
    const res = await restUpload(app, alice.access, content, {
      filename: 'notes.txt',
      before: { description: 'Notes about #Kittens', hashtags: 'alpha, #Beta' },
      after: { is_public: 'true', expires_at: expires },
    });
    expect(res.status).toBe(201);
    const f = res.body;
    expect(Object.keys(f).sort()).toEqual(FILE_KEYS);
    expect(fileSchema.safeParse(f).success).toBe(true);
    expect(f).toMatchObject({
      name: 'notes.txt',
      size: content.length,
      mime_type: 'text/plain',
      sha256: sha256(content),
      description: 'Notes about #Kittens',
      is_public: true,
      share_url: null,
      download_url: `${app.url}/f/${f.id}`,
    });
    expect([...f.hashtags].sort()).toEqual(['alpha', 'beta', 'kittens']);
    expect(new Date(f.expires_at as string).toISOString()).toBe(expires);
    expect(Date.parse(f.created_at)).not.toBeNaN();
    expect(Date.parse(f.updated_at)).not.toBeNaN();
    expect(f.stats).toEqual({ clicks: 0, unique_visitors: 0, last_click_at: null, daily: expect.any(Array) });
    const got = await download(f.download_url);
    expect(got.status).toBe(200);
    expect(got.body.equals(content)).toBe(true);
  });

  it('a private upload gets a share_url that serves it without login', async () => {
    const f = await createFile(app, alice.access, 'secret stuff', {}, 'secret.txt');
    expect(f.is_public).toBe(false);
    expect(f.share_url).toMatch(new RegExp(`^${app.url}/s/[A-Za-z0-9_-]{22,}$`));
    const got = await download(f.share_url as string);
    expect(got.status).toBe(200);
    expect(got.body.toString()).toBe('secret stuff');
  });

  it('a name field overrides the uploaded filename; a path in the filename is dropped', async () => {
    const a = await createFile(app, alice.access, 'x', { name: 'Display name.txt' }, 'orig.txt');
    expect(a.name).toBe('Display name.txt');
    const b = await createFile(app, alice.access, 'x', {}, 'dir/sub/leaf.txt');
    expect(b.name).toBe('leaf.txt');
  });

  it('missing file part → 400 validation_error', async () => {
    const res = await restUpload(app, alice.access, '', { fileField: null, before: { description: 'no file' } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_error');
    expect(res.body.error.fields).toHaveProperty('file');
  });

  it('the file in another field → 400', async () => {
    const res = await restUpload(app, alice.access, 'x', { fileField: 'upload' });
    expect(res.status).toBe(400);
  });

  it('JSON to POST /api/files/ → 415', async () => {
    const res = await app.api<ErrorBody>('POST', '/api/files/', { token: alice.access, body: { file: 'abc' } });
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
  });

  it('too large → 413 payload_too_large', async () => {
    const res = await restUpload(app, alice.access, bytes(200_001));
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  it('no token → 401', async () => {
    const res = await restUpload(app, undefined, 'x');
    expect(res.status).toBe(401);
  });

  it('bad metadata fields → 400, before or after the file part, and no file is left behind', async () => {
    const before = await app.api<{ results: FileObject[] }>('GET', '/api/files/?limit=100', { token: bob.access });
    const early = await restUpload(app, bob.access, 'x', { before: { is_public: 'maybe' } });
    expect(early.status).toBe(400);
    const late = await restUpload(app, bob.access, 'x', { after: { expires_at: '2000-01-01T00:00:00Z' } });
    expect(late.status).toBe(400);
    const tooMany = await restUpload(app, bob.access, 'x', {
      after: { hashtags: Array.from({ length: 21 }, (_, i) => `t${i}`).join(',') },
    });
    expect(tooMany.status).toBe(400);
    const after = await app.api<{ results: FileObject[] }>('GET', '/api/files/?limit=100', { token: bob.access });
    expect(after.body.results.length).toBe(before.body.results.length);
  });
});

describe('/api/files/{id}/', () => {
  it('GET, with and without the trailing slash', async () => {
    const f = await createFile(app, alice.access, 'get me');
    for (const path of [`/api/files/${f.id}/`, `/api/files/${f.id}`]) {
      const res = await app.api<FileObject>('GET', path, { token: alice.access });
      expect(res.status, path).toBe(200);
      expect(res.body.id).toBe(f.id);
      expect(res.body.sha256).toBe(f.sha256);
    }
    expect((await app.api('GET', '/api/files/not-a-uuid/', { token: alice.access })).status).toBe(400);
    expect(
      (await app.api('GET', '/api/files/00000000-0000-4000-8000-000000000000/', { token: alice.access })).status,
    ).toBe(404);
  });

  it('PATCH JSON metadata (with and without slash); the values are normalized', async () => {
    const f = await createFile(app, alice.access, 'patch me', {}, 'p.txt');
    const res = await app.api<FileObject>('PATCH', `/api/files/${f.id}/`, {
      token: alice.access,
      body: { name: 'renamed.txt', description: 'now with #Tags', hashtags: ['#One', 'two'], is_public: true },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'renamed.txt', description: 'now with #Tags', is_public: true });
    expect([...res.body.hashtags].sort()).toEqual(['one', 'tags', 'two']);
    expect(res.body.share_url).toBeNull();
    const expires = new Date(Date.now() + 3600_000).toISOString();
    const res2 = await app.api<FileObject>('PATCH', `/api/files/${f.id}`, {
      token: alice.access,
      body: { expires_at: expires },
    });
    expect(res2.status).toBe(200);
    expect(res2.body.expires_at).toBe(expires);
    expect(res2.body.name).toBe('renamed.txt');
    const cleared = await app.api<FileObject>('PATCH', `/api/files/${f.id}/`, {
      token: alice.access,
      body: { expires_at: null },
    });
    expect(cleared.body.expires_at).toBeNull();
  });

  it('PATCH with invalid values → 400 and nothing changes', async () => {
    const f = await createFile(app, alice.access, 'keep', {}, 'keep.txt');
    for (const body of [
      { expires_at: '2000-01-01T00:00:00Z' },
      { is_public: 'maybe' },
      { name: '' },
      { hashtags: Array.from({ length: 21 }, (_, i) => `h${i}`) },
      { hashtags: ['x'.repeat(51)] },
    ]) {
      const res = await app.api<ErrorBody>('PATCH', `/api/files/${f.id}/`, { token: alice.access, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('validation_error');
    }
    const now = await app.api<FileObject>('GET', `/api/files/${f.id}/`, { token: alice.access });
    expect(now.body).toMatchObject({ name: 'keep.txt', is_public: false, expires_at: null, hashtags: [] });
  });

  it('PUT JSON changes metadata', async () => {
    const f = await createFile(app, alice.access, 'put json', {}, 'pj.txt');
    const res = await app.api<FileObject>('PUT', `/api/files/${f.id}`, {
      token: alice.access,
      body: { description: 'via put', hashtags: 'putjson' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ description: 'via put', hashtags: ['putjson'], sha256: f.sha256 });
  });

  it('PUT multipart replaces the content: same id, same share link, new sha256; fields applied', async () => {
    const f = await createFile(app, alice.access, 'old content', { hashtags: 'replaceme' }, 'r.txt');
    // A click before the replacement, to see statistics survive.
    expect((await download(f.share_url as string)).status).toBe(200);
    const fresh = bytes(5000);
    for (const path of [`/api/files/${f.id}/`, `/api/files/${f.id}`]) {
      const res = await restUpload(app, alice.access, fresh, {
        method: 'PUT',
        path,
        filename: 'r2.bin',
        after: { description: 'replaced' },
      });
      expect(res.status, path).toBe(200);
      expect(res.body).toMatchObject({
        id: f.id,
        share_url: f.share_url,
        sha256: sha256(fresh),
        size: 5000,
        description: 'replaced',
        hashtags: ['replaceme'],
      });
    }
    const got = await download(f.share_url as string);
    expect(sha256(got.body)).toBe(sha256(fresh));
    const listed = await app.api<{ results: FileObject[] }>('GET', '/api/files/?hashtag=replaceme', {
      token: alice.access,
    });
    expect(listed.body.results.map((x) => x.id)).toEqual([f.id]);
  });

  it('PUT multipart over the limit → 413 and the old content stays', async () => {
    const f = await createFile(app, alice.access, 'stays', {}, 'stays.txt');
    const res = await restUpload(app, alice.access, bytes(200_001), { method: 'PUT', path: `/api/files/${f.id}/` });
    expect(res.status).toBe(413);
    const got = await download(`${app.url}/f/${f.id}`, bearer(alice.access));
    expect(got.body.toString()).toBe('stays');
  });

  it('DELETE, with and without the slash → 204, then 404 everywhere', async () => {
    for (const slash of ['/', '']) {
      const f = await createFile(app, alice.access, 'bye', { is_public: 'true' });
      const res = await app.api('DELETE', `/api/files/${f.id}${slash}`, { token: alice.access });
      expect(res.status).toBe(204);
      expect((await app.api('GET', `/api/files/${f.id}/`, { token: alice.access })).status).toBe(404);
      expect((await fetch(`${app.url}/f/${f.id}`)).status).toBe(404);
      expect((await app.api('DELETE', `/api/files/${f.id}/`, { token: alice.access })).status).toBe(404);
    }
  });
});

describe('listing', () => {
  let carol: Session;
  const created: FileObject[] = [];

  beforeAll(async () => {
    carol = await app.login('rest-carol@example.com');
    for (let i = 0; i < 5; i++) {
      created.push(
        await createFile(
          app,
          carol.access,
          `page ${i}`,
          { description: i % 2 ? 'odd #Odd' : 'even', hashtags: i < 3 ? 'early' : '' },
          `page-${i}.txt`,
        ),
      );
    }
  });

  it('cursor pagination: limit 2, follow next until null, no duplicates, newest first', async () => {
    const seen: FileObject[] = [];
    let next: string | null = null;
    let pages = 0;
    do {
      const q: string = next ? `&cursor=${encodeURIComponent(next)}` : '';
      const res = await app.api<{ results: FileObject[]; next: string | null }>('GET', `/api/files/?limit=2${q}`, {
        token: carol.access,
      });
      expect(res.status).toBe(200);
      expect(res.body.results.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.results);
      next = res.body.next;
      pages++;
    } while (next && pages < 10);
    expect(pages).toBe(3);
    expect(seen.map((f) => f.id)).toEqual(created.map((f) => f.id).reverse());
    expect(new Set(seen.map((f) => f.id)).size).toBe(5);
    for (let i = 1; i < seen.length; i++) {
      expect(Date.parse((seen[i - 1] as FileObject).created_at)).toBeGreaterThanOrEqual(
        Date.parse((seen[i] as FileObject).created_at),
      );
    }
  });

  it('a forged cursor → 400', async () => {
    const res = await app.api('GET', '/api/files/?cursor=garbage', { token: carol.access });
    expect(res.status).toBe(400);
  });

  it('?hashtag= filters (with or without #, any case) and ?search= matches name and description', async () => {
    const byTag = await app.api<{ results: FileObject[] }>('GET', '/api/files/?hashtag=EARLY', { token: carol.access });
    expect(byTag.body.results.map((f) => f.name).sort()).toEqual(['page-0.txt', 'page-1.txt', 'page-2.txt']);
    const byHash = await app.api<{ results: FileObject[] }>(
      'GET',
      `/api/files/?hashtag=${encodeURIComponent('#odd')}`,
      {
        token: carol.access,
      },
    );
    expect(byHash.body.results.map((f) => f.name).sort()).toEqual(['page-1.txt', 'page-3.txt']);
    const byName = await app.api<{ results: FileObject[] }>('GET', '/api/files/?search=page-4', {
      token: carol.access,
    });
    expect(byName.body.results.map((f) => f.name)).toEqual(['page-4.txt']);
    const byDesc = await app.api<{ results: FileObject[] }>('GET', '/api/files/?search=EVEN', { token: carol.access });
    expect(byDesc.body.results.length).toBe(3);
    const wildcard = await app.api<{ results: FileObject[] }>('GET', '/api/files/?search=%25', { token: carol.access });
    expect(wildcard.body.results).toEqual([]);
    const none = await app.api<{ results: FileObject[] }>('GET', '/api/files/?hashtag=nothing', {
      token: carol.access,
    });
    expect(none.body.results).toEqual([]);
  });

  it('GET /api/files/ shows only my own files, and needs a token', async () => {
    const mine = await app.api<{ results: FileObject[] }>('GET', '/api/files/?limit=100', { token: carol.access });
    expect(mine.body.results.length).toBe(5);
    expect((await app.api('GET', '/api/files/')).status).toBe(401);
  });

  it('GET /api/public/files/ (no auth) lists public files of everyone, filters, no share_url', async () => {
    const pub = await createFile(app, carol.access, 'pub', { is_public: 'true', hashtags: 'publictag' }, 'pub.txt');
    const res = await app.api<{ results: FileObject[]; next: string | null }>(
      'GET',
      '/api/public/files/?hashtag=publictag',
    );
    expect(res.status).toBe(200);
    expect(res.body.results.map((f) => f.id)).toEqual([pub.id]);
    expect(res.body.results[0]?.share_url).toBeNull();
    const all = await app.api<{ results: FileObject[] }>('GET', '/api/public/files?limit=100');
    expect(all.body.results.every((f) => f.is_public)).toBe(true);
    expect(all.body.results.map((f) => f.id)).not.toContain(created[0]?.id);
    const search = await app.api<{ results: FileObject[] }>('GET', '/api/public/files/?search=pub.txt');
    expect(search.body.results.map((f) => f.id)).toEqual([pub.id]);
  });

  it('GET /api/hashtags/ counts the files the caller may see', async () => {
    const dave = await app.login('rest-dave@example.com');
    await createFile(app, dave.access, 'a', { hashtags: 'countme', is_public: 'true' });
    await createFile(app, dave.access, 'b', { hashtags: 'countme' });
    await createFile(app, dave.access, 'c', { hashtags: 'countme,daveonly' });
    const count = (list: { name: string; count: number }[], name: string) =>
      list.find((t) => t.name === name)?.count ?? 0;
    const anon = await app.api<{ results: { name: string; count: number }[] }>('GET', '/api/hashtags/');
    expect(anon.status).toBe(200);
    expect(count(anon.body.results, 'countme')).toBe(1);
    expect(count(anon.body.results, 'daveonly')).toBe(0);
    const owner = await app.api<{ results: { name: string; count: number }[] }>('GET', '/api/hashtags', {
      token: dave.access,
    });
    expect(count(owner.body.results, 'countme')).toBe(3);
    expect(count(owner.body.results, 'daveonly')).toBe(1);
    const other = await app.api<{ results: { name: string; count: number }[] }>('GET', '/api/hashtags/', {
      token: bob.access,
    });
    expect(count(other.body.results, 'countme')).toBe(1);
    expect(other.body.results.map((t) => t.name)).not.toContain('daveonly');
  });
});

describe('share links through REST', () => {
  it('POST /api/files/{id}/rotate-link/ kills the old link at once', async () => {
    const f = await createFile(app, alice.access, 'rotate', {}, 'rot.txt');
    const res = await app.api<FileObject>('POST', `/api/files/${f.id}/rotate-link/`, { token: alice.access });
    expect(res.status).toBe(200);
    expect(res.body.share_url).not.toBe(f.share_url);
    expect((await fetch(`${app.url}${sharePath(f.share_url as string)}`)).status).toBe(404);
    expect((await fetch(res.body.share_url as string)).status).toBe(200);
  });
});
