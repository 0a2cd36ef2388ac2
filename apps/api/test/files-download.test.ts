/**
 * Downloads at /f/{id} and /s/{token}: GET and HEAD, single Range requests (206/416), ETag and If-None-Match,
 * the safety headers on user content, RFC 6266 Content-Disposition, expiry (410 at once, gone from listings),
 * unknown ids, and path traversal through filenames and ids.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  bytes,
  createFile,
  download,
  type FileObject,
  fixture,
  type Session,
  sha256,
  sharePath,
  startFilesApp,
  stopFilesApp,
  type TestApp,
  trpc,
  trpcError,
  tusRaw,
  tusUpload,
} from './files-helpers.js';

let app: TestApp;
let alice: Session;
let data: Buffer;
let pub: FileObject;
let priv: FileObject;

beforeAll(async () => {
  app = await startFilesApp();
  alice = await app.login('dl-alice@example.com');
  data = bytes(1000);
  pub = await createFile(app, alice.access, data, { is_public: 'true' }, 'data.bin');
  priv = await createFile(app, alice.access, data, {}, 'data.bin');
});
afterAll(() => stopFilesApp(app));

const urls = () => [
  ['/f', `${app.url}/f/${pub.id}`],
  ['/s', priv.share_url as string],
];

describe('GET and HEAD', () => {
  for (const [label, index] of [
    ['/f', 0],
    ['/s', 1],
  ] as const) {
    it(`${label}: GET gives the bytes and the headers, HEAD the same headers without a body`, async () => {
      const url = (urls()[index] as string[])[1] as string;
      const get = await download(url);
      expect(get.status).toBe(200);
      expect(get.body.equals(data)).toBe(true);
      expect(get.headers.get('content-length')).toBe('1000');
      expect(get.headers.get('etag')).toBe(`"${sha256(data)}"`);
      expect(get.headers.get('accept-ranges')).toBe('bytes');
      expect(get.headers.get('x-content-type-options')).toBe('nosniff');
      expect(get.headers.get('content-security-policy')).toBe("sandbox; frame-ancestors 'none'");
      expect(get.headers.get('content-type')).toBe('application/octet-stream');
      // RFC 6266: a token or a quoted string.
      expect(get.headers.get('content-disposition')).toMatch(/^attachment; filename=("data\.bin"|data\.bin)$/);
      const head = await download(url, {}, 'HEAD');
      expect(head.status).toBe(200);
      expect(head.body.length).toBe(0);
      for (const h of ['content-length', 'etag', 'content-type', 'content-disposition', 'content-security-policy']) {
        expect(head.headers.get(h), h).toBe(get.headers.get(h));
      }
    });
  }
});

describe('Range', () => {
  const cases: [string, number, number][] = [
    ['bytes=0-9', 0, 9],
    ['bytes=-5', 995, 999],
    ['bytes=10-', 10, 999],
    ['bytes=990-5000', 990, 999],
    ['bytes=999-999', 999, 999],
  ];
  for (const [range, start, end] of cases) {
    it(`${range} → 206 bytes ${start}-${end}/1000 with the exact bytes (on /f and /s)`, async () => {
      for (const [, url] of urls()) {
        const res = await download(url as string, { range });
        expect(res.status).toBe(206);
        expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/1000`);
        expect(res.headers.get('content-length')).toBe(String(end - start + 1));
        expect(res.body.equals(data.subarray(start, end + 1))).toBe(true);
      }
    });
  }

  for (const range of ['bytes=999999-', 'bytes=1000-', 'bytes=-0', 'bytes=5-2']) {
    it(`${range} → 416 with Content-Range: bytes */1000`, async () => {
      const res = await download(`${app.url}/f/${pub.id}`, { range });
      expect(res.status).toBe(416);
      expect(res.headers.get('content-range')).toBe('bytes */1000');
    });
  }

  it('a HEAD with Range answers 206 with the range headers and no body', async () => {
    const res = await download(`${app.url}/f/${pub.id}`, { range: 'bytes=0-9' }, 'HEAD');
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('bytes 0-9/1000');
    expect(res.body.length).toBe(0);
  });

  it('a multi-range or non-bytes Range is ignored (200, whole file)', async () => {
    for (const range of ['bytes=0-1,5-6', 'items=0-1']) {
      const res = await download(`${app.url}/f/${pub.id}`, { range });
      expect(res.status, range).toBe(200);
      expect(res.body.equals(data)).toBe(true);
    }
  });
});

describe('ETag', () => {
  it('If-None-Match with the ETag → 304 without a body; another ETag → 200', async () => {
    for (const [, url] of urls()) {
      const res = await download(url as string, { 'if-none-match': `"${sha256(data)}"` });
      expect(res.status).toBe(304);
      expect(res.body.length).toBe(0);
      expect(res.headers.get('etag')).toBe(`"${sha256(data)}"`);
      const other = await download(url as string, { 'if-none-match': '"nope"' });
      expect(other.status).toBe(200);
    }
  });
});

describe('If-None-Match as RFC 9110 defines it', () => {
  it('a list of tags, a weak tag, or * → 304 when one matches (weak comparison)', async () => {
    const tag = `"${sha256(data)}"`;
    for (const value of [`"other", ${tag}`, `W/${tag}`, '*']) {
      const res = await download(`${app.url}/f/${pub.id}`, { 'if-none-match': value });
      expect(res.status, value).toBe(304);
    }
  });
});

describe('Content-Disposition and types', () => {
  it('a non-ASCII name gets an RFC 6266 filename*=UTF-8 parameter and an ASCII fallback', async () => {
    const f = await createFile(app, alice.access, 'résumé', { is_public: 'true' }, 'Résumé – 日本.txt');
    expect(f.name).toBe('Résumé – 日本.txt');
    const res = await download(`${app.url}/f/${f.id}`);
    const cd = res.headers.get('content-disposition') ?? '';
    expect(cd).toMatch(/^inline; /);
    expect(cd).toContain(`filename*=UTF-8''${encodeURIComponent('Résumé – 日本.txt').replace(/'/g, '%27')}`);
    const fallback = /filename="([^"]*)"/.exec(cd)?.[1];
    expect(fallback).toBeDefined();
    expect(/^[\x20-\x7e]*$/.test(fallback as string)).toBe(true);
  });

  it('a name with quotes and backslashes is escaped, never breaks the header', async () => {
    const f = await createFile(app, alice.access, 'q', { is_public: 'true', name: 'a"b;c.txt' });
    const res = await download(`${app.url}/f/${f.id}`);
    expect(res.headers.get('content-disposition')).toBe('inline; filename="a\\"b;c.txt"');
  });

  const types: [string, string, string, 'inline' | 'attachment'][] = [
    ['pixel.png', 'png', 'image/png', 'inline'],
    ['text', 'txt', 'text/plain', 'inline'],
    ['page.html', 'html', 'text/html', 'attachment'],
    ['drawing.svg', 'svg', 'image/svg+xml', 'attachment'],
  ];
  for (const [source, ext, mime, disposition] of types) {
    it(`${mime} → mime_type ${mime}, ${disposition}, nosniff and sandbox CSP`, async () => {
      const content = source === 'text' ? Buffer.from('just some text\n') : fixture(source);
      const f = await createFile(app, alice.access, content, { is_public: 'true' }, `x.${ext}`);
      const res = await download(`${app.url}/f/${f.id}`);
      expect(res.headers.get('content-disposition')).toMatch(new RegExp(`^${disposition}(;|$)`));
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-security-policy')).toBe("sandbox; frame-ancestors 'none'");
      expect(f.mime_type).toBe(mime);
      expect(res.headers.get('content-type')?.split(';')[0]).toBe(mime);
    });
  }
});

describe('expiry', () => {
  it('an expired file → 410 on /f and /s at once; gone from public.list, files.list and hashtag counts', async () => {
    const pubX = await createFile(app, alice.access, 'exp', { is_public: 'true', hashtags: 'expiring' }, 'e1.txt');
    const privX = await createFile(app, alice.access, 'exp', { hashtags: 'expiring' }, 'e2.txt');
    const before = await trpc(app, alice.access).hashtags.list.query();
    expect(before.results.find((t) => t.name === 'expiring')?.count).toBe(2);
    await app.deps.db
      .updateTable('files')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', 'in', [pubX.id, privX.id])
      .execute();
    expect((await download(`${app.url}/f/${pubX.id}`)).status).toBe(410);
    expect((await download(`${app.url}/f/${pubX.id}`, {}, 'HEAD')).status).toBe(410);
    expect((await download(`${app.url}/f/${privX.id}`, bearer(alice.access))).status).toBe(410);
    expect((await download(privX.share_url as string)).status).toBe(410);
    expect((await download(privX.share_url as string, { range: 'bytes=0-1' })).status).toBe(410);
    const pl = await trpc(app).public.list.query({ limit: 100 });
    expect(pl.results.map((f) => f.id)).not.toContain(pubX.id);
    const own = await trpc(app, alice.access).files.list.query({ limit: 100 });
    expect(own.results.map((f) => f.id)).not.toContain(pubX.id);
    expect(own.results.map((f) => f.id)).not.toContain(privX.id);
    const restOwn = await app.api<{ results: FileObject[] }>('GET', '/api/files/?hashtag=expiring', {
      token: alice.access,
    });
    expect(restOwn.body.results).toEqual([]);
    const tags = await trpc(app, alice.access).hashtags.list.query();
    expect(tags.results.find((t) => t.name === 'expiring')?.count ?? 0).toBe(0);
    const anonTags = await app.api<{ results: { name: string }[] }>('GET', '/api/hashtags/');
    expect(anonTags.body.results.map((t) => t.name)).not.toContain('expiring');
    expect((await trpcError(trpc(app).public.get.query({ id: pubX.id }))).status).toBe(410);
  });

  it('a file with an expiry in the future is served', async () => {
    const f = await createFile(app, alice.access, 'later', {
      is_public: 'true',
      expires_at: new Date(Date.now() + 3600_000).toISOString(),
    });
    expect((await download(`${app.url}/f/${f.id}`)).status).toBe(200);
  });
});

describe('unknown and malformed', () => {
  it('unknown id or token → 404 with a JSON error', async () => {
    for (const url of [
      '/f/00000000-0000-4000-8000-000000000000',
      '/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      '/s/short',
      '/f/not-a-uuid',
    ]) {
      const res = await fetch(`${app.url}${url}`);
      expect(res.status, url).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
    }
  });

  it('the share token of a public file → 404', async () => {
    const f = await createFile(app, alice.access, 'was private', {}, 'wp.txt');
    await trpc(app, alice.access).files.update.mutate({ id: f.id, is_public: true });
    expect((await fetch(`${app.url}${sharePath(f.share_url as string)}`)).status).toBe(404);
  });
});

describe('path traversal', () => {
  it('filenames with ../ and ..\\ are stored as plain names; bytes are stored under generated keys', async () => {
    const storage = path.resolve(app.config.storageDir);
    const cases = ['../../etc/passwd', '..\\..\\win.ini', '/absolute/evil.txt', '....//....//x.txt'];
    for (const [i, name] of cases.entries()) {
      const content = Buffer.from(`traversal ${i}`);
      const { fileId } = await tusUpload(app, alice.access, content, { filename: name });
      const viaRest = await createFile(app, alice.access, content, {}, name);
      for (const id of [fileId, viaRest.id]) {
        const file = await trpc(app, alice.access).files.get.query({ id });
        expect(file.name, name).not.toMatch(/[/\\]/);
        expect(file.name.startsWith('.')).toBe(false);
        const row = await app.deps.db
          .selectFrom('files')
          .select(['storage_key'])
          .where('id', '=', id)
          .executeTakeFirstOrThrow();
        expect(row.storage_key).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(row.storage_key).not.toContain(file.name);
        const chunks: Buffer[] = [];
        for await (const chunk of await app.deps.storage.read(row.storage_key)) chunks.push(chunk as Buffer);
        expect(Buffer.concat(chunks).equals(content)).toBe(true);
      }
    }
    const names = (await trpc(app, alice.access).files.list.query({ search: 'passwd' })).results.map((f) => f.name);
    expect(names).toEqual(['passwd', 'passwd']);
    const win = (await trpc(app, alice.access).files.list.query({ search: 'win.ini' })).results.map((f) => f.name);
    expect(win).toEqual(['win.ini', 'win.ini']);
    // Only generated names in storage: in the storage directory no sub-directories; in a bucket, bare keys.
    if (app.deps.storage.kind === 'local') {
      for (const entry of await readdir(storage, { withFileTypes: true })) {
        expect(entry.isFile(), entry.name).toBe(true);
        expect(entry.name).toMatch(/^[A-Za-z0-9_-]+(\.json|\.part)?$/);
      }
    }
    for await (const { key } of app.deps.storage.list()) expect(key).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('ids with traversal never reach a file outside storage (404/400)', async () => {
    const paths = [
      '/f/..%2F..%2Fetc%2Fpasswd',
      '/f/../../etc/passwd',
      '/f/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/f/..%5C..%5Cwin.ini',
      '/s/..%2F..%2Fetc%2Fpasswd',
      '/s/../../etc/passwd',
      '/uploads/..%2Fsecret',
      '/uploads/..%2F..%2Fetc%2Fpasswd',
      '/api/files/..%2F..%2Fetc%2Fpasswd/',
    ];
    for (const p of paths) {
      // fetch normalizes "/../"; a raw request keeps it, as an attacker would send it.
      const res = await rawGet(p, alice.access);
      expect([400, 401, 404, 405, 412], p).toContain(res.status);
      expect(res.body, p).not.toContain('root:');
    }
    const head = await tusRaw(app, 'HEAD', '/uploads/..%2F..%2Fetc%2Fpasswd', { token: alice.access });
    expect([400, 404]).toContain(head.status);
    const patch = await tusRaw(app, 'PATCH', '/uploads/..%2Fevil', {
      token: alice.access,
      headers: { 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
      body: Buffer.from('pwned'),
    });
    expect([400, 404]).toContain(patch.status);
    const del = await tusRaw(app, 'DELETE', '/uploads/..%2F..%2Fetc%2Fpasswd', { token: alice.access });
    expect([400, 404]).toContain(del.status);
  });
});

/** A GET with the path exactly as given (no URL normalization). */
async function rawGet(p: string, token: string): Promise<{ status: number; body: string }> {
  const { request } = await import('node:http');
  const { hostname, port } = new URL(app.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path: p, method: 'GET', headers: bearer(token) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
