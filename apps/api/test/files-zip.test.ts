/**
 * GET /api/files/zip/?ids=… and GET /api/public/files/zip/?hashtag=…: the archive opens with a real ZIP reader
 * (yauzl, CRCs checked), its entries are the files' bytes (sha256), names are de-duplicated, each file counts
 * one click, private and expired files stay out of the public archive, and limits answer a clear 400.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zipGrants } from '../src/downloads/zip-grants.js';
import {
  bearer,
  createFile,
  download,
  type ErrorBody,
  type FileObject,
  type Session,
  sha256,
  startFilesApp,
  stopFilesApp,
  type TestApp,
  trpc,
  trpcError,
} from './files-helpers.js';
import { readZip } from './zip-helpers.js';

let app: TestApp;
let ana: Session;
let ben: Session;

beforeAll(async () => {
  app = await startFilesApp({ EXPIRY_INTERVAL: '1 hour' });
  ana = await app.login('zip-ana@example.com');
  ben = await app.login('zip-ben@example.com');
}, 60_000);
afterAll(() => stopFilesApp(app));

async function fetchZip(path: string, token?: string) {
  const res = await fetch(`${app.url}${path}`, { headers: token ? bearer(token) : {} });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body };
}
const errorOf = (body: Buffer) => (JSON.parse(body.toString('utf8')) as ErrorBody).error;

const clicksOf = async (id: string) =>
  (await app.api<FileObject>('GET', `/api/files/${id}/`, { token: ana.access })).body.stats.clicks;
/** Clicks are counted after the response: wait until they arrive. */
async function settledClicks(id: string, expected: number) {
  for (let i = 0; i < 100 && (await clicksOf(id)) < expected; i++) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 150));
  return clicksOf(id);
}

describe('ZIP of your files', () => {
  it('holds each file’s bytes under a de-duplicated name, stored, with a length and an attachment name', async () => {
    const contents = [randomBytes(70_000), Buffer.from('hello'), randomBytes(1024), Buffer.alloc(0)];
    const created = [
      await createFile(app, ana.access, contents[0] as Buffer, {}, 'photo.jpg'),
      await createFile(app, ana.access, contents[1] as Buffer, {}, 'a.txt'),
      await createFile(app, ana.access, contents[2] as Buffer, {}, 'A.txt'),
      await createFile(app, ana.access, contents[3] as Buffer, {}, 'a.txt'),
    ];
    const ids = created.map((f) => f.id);
    const res = await fetchZip(`/api/files/zip/?ids=${ids.join(',')}`, ana.access);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="?tagdrop-4-files\.zip"?$/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Number(res.headers.get('content-length'))).toBe(res.body.length);

    const entries = await readZip(res.body);
    const byName = new Map(entries.map((e) => [e.name, e]));
    expect([...byName.keys()].sort()).toEqual(['A (1).txt', 'a (2).txt', 'a.txt', 'photo.jpg'].sort());
    expect(entries.every((e) => e.method === 0)).toBe(true);
    // Names follow the files newest first: the last upload (empty a.txt) keeps the plain name.
    const expected = [...created].reverse().map((f, i) => ({ sha: sha256(contents[3 - i] as Buffer), size: f.size }));
    expect(entries.map((e) => ({ sha: e.sha256, size: e.size }))).toEqual(expected);
    expect(byName.get('a.txt')?.size).toBe(0);
    expect(byName.get('photo.jpg')?.sha256).toBe(created[0]?.sha256);
  });

  it('counts one click per file', async () => {
    const a = await createFile(app, ana.access, 'one', {}, 'one.txt');
    const b = await createFile(app, ana.access, 'two', {}, 'two.txt');
    expect((await fetchZip(`/api/files/zip/?ids=${a.id},${b.id},${a.id}`, ana.access)).status).toBe(200);
    expect(await settledClicks(a.id, 1)).toBe(1);
    expect(await settledClicks(b.id, 1)).toBe(1);
    // The same archive through POST (ids in a JSON body).
    const post = await fetch(`${app.url}/api/files/zip/`, {
      method: 'POST',
      headers: { ...bearer(ana.access), 'content-type': 'application/json' },
      body: JSON.stringify({ ids: [a.id, b.id] }),
    });
    expect(post.status).toBe(200);
    const entries = await readZip(Buffer.from(await post.arrayBuffer()));
    expect(entries.map((e) => e.name).sort()).toEqual(['one.txt', 'two.txt']);
    expect(await settledClicks(a.id, 2)).toBe(2);
  });

  it('refuses someone else’s file (404), no login (401), no ids, bad ids or more than 500 (400)', async () => {
    const mine = await createFile(app, ana.access, 'mine');
    const theirs = await createFile(app, ben.access, 'theirs');
    const other = await fetchZip(`/api/files/zip/?ids=${mine.id},${theirs.id}`, ana.access);
    expect(other.status).toBe(404);
    expect(errorOf(other.body).code).toBe('not_found');
    expect((await fetchZip(`/api/files/zip/?ids=${mine.id}`)).status).toBe(401);
    expect((await fetchZip('/api/files/zip/?ids=', ana.access)).status).toBe(400);
    expect((await fetchZip('/api/files/zip/', ana.access)).status).toBe(400);
    expect((await fetchZip('/api/files/zip/?ids=nope', ana.access)).status).toBe(400);
    const ids = Array.from({ length: 501 }, () => randomUUID());
    // 300 ids fit in a URL (unknown ones: 404); 501 (too long for a URL) are refused with a clear 400 in a body.
    expect((await fetchZip(`/api/files/zip/?ids=${ids.slice(0, 300).join(',')}`, ana.access)).status).toBe(404);
    const body = await fetch(`${app.url}/api/files/zip/`, {
      method: 'POST',
      headers: { ...bearer(ana.access), 'content-type': 'application/json' },
      body: JSON.stringify({ ids }),
    });
    expect(body.status).toBe(400);
    expect(((await body.json()) as ErrorBody).error).toMatchObject({
      code: 'validation_error',
      fields: { ids: [expect.stringMatching(/500/)] },
    });
  });

  it('is cut off, never whole-looking, when the storage fails mid-way', async () => {
    const a = await createFile(app, ana.access, randomBytes(5000), {}, 'a.bin');
    const b = await createFile(app, ana.access, randomBytes(5000), {}, 'b.bin');
    const row = await app.deps.db
      .selectFrom('files')
      .select('storage_key')
      .where('id', '=', a.id)
      .executeTakeFirstOrThrow();
    await app.deps.storage.delete(row.storage_key);
    const res = await fetch(`${app.url}/api/files/zip/?ids=${a.id},${b.id}`, { headers: bearer(ana.access) });
    const outcome = await res.arrayBuffer().then(
      (buf) =>
        readZip(Buffer.from(buf)).then(
          () => 'whole',
          () => 'unreadable',
        ),
      () => 'aborted',
    );
    expect(outcome).not.toBe('whole');
  });
});

describe('ZIP of a hashtag’s public files', () => {
  it('holds the public, unexpired ones only, and counts their clicks', async () => {
    const tag = `zip${randomBytes(3).toString('hex')}`;
    const pub1 = await createFile(app, ana.access, 'public one', { hashtags: tag, is_public: 'true' }, 'p.txt');
    const pub2 = await createFile(app, ben.access, 'public two', { hashtags: tag, is_public: 'true' }, 'p.txt');
    const priv = await createFile(app, ana.access, 'private', { hashtags: tag, is_public: 'false' }, 'secret.txt');
    const soon = await createFile(app, ana.access, 'expired', { hashtags: tag, is_public: 'true' }, 'old.txt');
    await app.deps.db
      .updateTable('files')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', soon.id)
      .execute();

    const res = await fetchZip(`/api/public/files/zip/?hashtag=%23${tag.toUpperCase()}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(new RegExp(`^attachment; filename="?${tag}\\.zip"?$`));
    const entries = await readZip(res.body);
    expect(entries.map((e) => e.name).sort()).toEqual(['p (1).txt', 'p.txt']);
    expect(entries.map((e) => e.sha256).sort()).toEqual([pub1.sha256, pub2.sha256].sort());
    expect(await settledClicks(pub1.id, 1)).toBe(1);
    expect(await settledClicks(priv.id, 0)).toBe(0);
  });

  it('takes a download from limited files and leaves out those with none left', async () => {
    const tag = `lim${randomBytes(3).toString('hex')}`;
    const free = await createFile(app, ana.access, 'free', { hashtags: tag, is_public: 'true' }, 'free.txt');
    const once = await createFile(app, ana.access, 'once', { hashtags: tag, is_public: 'true' }, 'once.txt');
    await app.api('PATCH', `/api/files/${once.id}/`, { token: ana.access, body: { max_downloads: 1 } });
    const first = await readZip((await fetchZip(`/api/public/files/zip/?hashtag=${tag}`)).body);
    expect(first.map((e) => e.name).sort()).toEqual(['free.txt', 'once.txt']);
    const second = await readZip((await fetchZip(`/api/public/files/zip/?hashtag=${tag}`)).body);
    expect(second.map((e) => e.sha256)).toEqual([free.sha256]);
  });

  it('answers 404 for a hashtag without public files and 400 without a hashtag', async () => {
    const none = await fetchZip(`/api/public/files/zip/?hashtag=nothing${randomBytes(3).toString('hex')}`);
    expect(none.status).toBe(404);
    expect((await fetchZip('/api/public/files/zip/')).status).toBe(400);
  });
});

type Limited = FileObject & { downloads_left: number | null };
const leftOf = async (id: string, token = ana.access) =>
  (await app.api<Limited>('GET', `/api/files/${id}/`, { token })).body.downloads_left;
/** Renames a file in the database: names that the API never stores itself (older rows, imports). */
const rename = (id: string, name: string) =>
  app.deps.db.updateTable('files').set({ name }).where('id', '=', id).execute();

describe('HEAD on the ZIP routes (and on /f, /s) changes nothing', () => {
  it('answers the headers of the archive, takes no download and counts no click', async () => {
    const tag = `head${randomBytes(3).toString('hex')}`;
    const file = await createFile(app, ana.access, 'three times', { hashtags: tag, is_public: 'true' }, 'h.txt');
    await app.api('PATCH', `/api/files/${file.id}/`, { token: ana.access, body: { max_downloads: 3 } });
    const priv = await createFile(app, ana.access, 'private', { max_downloads: '3' }, 'p.txt');
    for (let i = 0; i < 3; i++) {
      const pub = await download(`${app.url}/api/public/files/zip/?hashtag=${tag}`, {}, 'HEAD');
      expect(pub.status).toBe(200);
      expect(pub.headers.get('content-type')).toBe('application/zip');
      expect(pub.body.length).toBe(0);
      const own = await download(`${app.url}/api/files/zip/?ids=${file.id},${priv.id}`, bearer(ana.access), 'HEAD');
      expect(own.status).toBe(200);
      expect((await download(`${app.url}/f/${file.id}`, {}, 'HEAD')).status).toBe(200);
      expect((await download(priv.share_url as string, {}, 'HEAD')).status).toBe(200);
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(await leftOf(file.id)).toBe(3);
    expect(await leftOf(priv.id)).toBe(3);
    expect(await clicksOf(file.id)).toBe(0);
    expect(await clicksOf(priv.id)).toBe(0);
    // The length HEAD announced is the length of the archive a GET then sends (and that GET takes one).
    const head = await download(`${app.url}/api/public/files/zip/?hashtag=${tag}`, {}, 'HEAD');
    const get = await fetchZip(`/api/public/files/zip/?hashtag=${tag}`);
    expect(get.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBe(get.body.length);
    expect(await leftOf(file.id)).toBe(2);
    expect(await settledClicks(file.id, 1)).toBe(1);
  });
});

describe('entry names', () => {
  it('are always valid relative names, still de-duplicated, on both ZIP routes', async () => {
    const tag = `names${randomBytes(3).toString('hex')}`;
    const raw = [
      'A: notes.txt',
      '..\\evil.txt',
      'C:\\x.txt',
      '/etc/passwd',
      '../../up.txt',
      '...',
      'nul.txt',
      'evil.txt',
    ];
    const files = [];
    for (const [i, name] of raw.entries()) {
      const f = await createFile(app, ana.access, `content ${i}`, { hashtags: tag, is_public: 'true' }, `n${i}.txt`);
      await rename(f.id, name);
      files.push(f);
    }
    const limited = files[0] as FileObject;
    await app.api('PATCH', `/api/files/${limited.id}/`, { token: ana.access, body: { max_downloads: 5 } });
    // `..\\evil.txt` and the newer `evil.txt` clean up to the same name: the newest keeps it (files newest first).
    const expected = [
      'A_ notes.txt',
      'C__x.txt',
      '_nul.txt',
      'etc_passwd',
      'evil (1).txt',
      'evil.txt',
      'file',
      'up.txt',
    ];
    const own = await fetchZip(`/api/files/zip/?ids=${files.map((f) => f.id).join(',')}`, ana.access);
    expect(own.status).toBe(200);
    const ownNames = (await readZip(own.body)).map((e) => e.name);
    const pub = await fetchZip(`/api/public/files/zip/?hashtag=${tag}`);
    expect(pub.status).toBe(200);
    const pubEntries = await readZip(pub.body);
    for (const names of [ownNames, pubEntries.map((e) => e.name)]) {
      expect(names).toHaveLength(raw.length);
      for (const name of names) {
        expect(name).not.toMatch(/^[a-zA-Z]:|^[/\\.]|[:\\/]/);
        expect(name.split('/')).not.toContain('..');
      }
      expect([...names].sort()).toEqual(expected);
    }
    expect(pubEntries.map((e) => e.sha256).sort()).toEqual(files.map((f) => f.sha256).sort());
    // One download taken from the limited file by the public ZIP, none by its owner's.
    expect(await leftOf(limited.id)).toBe(4);
  });
});

describe('ZIP links for browsers (POST /api/files/zip/link/, files.zipLink)', () => {
  type Link = { download_url: string; expires_at: string };
  const link = (ids: string[], token = ana.access) =>
    app.api<Link & ErrorBody>('POST', '/api/files/zip/link/', { token, body: { ids } });

  it('gives a URL that downloads the ZIP without a token, once; HEAD does not use it up', async () => {
    const a = await createFile(app, ana.access, 'alpha', {}, 'alpha.txt');
    const b = await createFile(app, ana.access, 'beta', {}, 'beta.txt');
    const res = await link([a.id, b.id]);
    expect(res.status).toBe(200);
    expect(res.body.download_url).toMatch(new RegExp(`^${app.url}/api/files/zip/\\?grant=[A-Za-z0-9_-]{32}$`));
    const ttl = Date.parse(res.body.expires_at) - Date.now();
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    const head = await download(res.body.download_url, {}, 'HEAD');
    expect(head.status).toBe(200);
    const zip = await download(res.body.download_url);
    expect(zip.status).toBe(200);
    expect(zip.headers.get('content-disposition')).toMatch(/^attachment; filename="?tagdrop-2-files\.zip"?$/);
    expect(Number(head.headers.get('content-length'))).toBe(zip.body.length);
    expect((await readZip(zip.body)).map((e) => e.name).sort()).toEqual(['alpha.txt', 'beta.txt']);
    expect(await settledClicks(a.id, 1)).toBe(1);
    const again = await download(res.body.download_url);
    expect(again.status).toBe(404);
    expect(errorOf(again.body).code).toBe('not_found');
    // Through tRPC: the same kind of link.
    const viaTrpc = await trpc(app, ana.access).files.zipLink.mutate({ ids: [a.id] });
    expect((await readZip((await download(viaTrpc.download_url)).body)).map((e) => e.name)).toEqual(['alpha.txt']);
  });

  it('refuses other people’s ids, no login, forged, expired and ended-session grants, and grant with ids', async () => {
    const mine = await createFile(app, ana.access, 'mine', {}, 'mine.txt');
    const theirs = await createFile(app, ben.access, 'theirs', {}, 'theirs.txt');
    expect((await link([mine.id, theirs.id])).status).toBe(404);
    expect((await link([theirs.id])).body.error.code).toBe('not_found');
    expect((await app.api('POST', '/api/files/zip/link/', { body: { ids: [mine.id] } })).status).toBe(401);
    expect((await link([])).status).toBe(400);
    expect(await trpcError(trpc(app, ben.access).files.zipLink.mutate({ ids: [mine.id] }))).toEqual({
      status: 404,
      code: 'not_found',
    });
    expect((await download(`${app.url}/api/files/zip/?grant=${'A'.repeat(32)}`)).status).toBe(404);
    expect((await download(`${app.url}/api/files/zip/?grant=nope`)).status).toBe(404);
    const good = (await link([mine.id])).body.download_url;
    const both = await download(`${good}&ids=${mine.id}`);
    expect(both.status).toBe(400);

    // Expired: a grant issued for one second.
    const short = await zipGrants(app.deps.redis).issue(
      { userId: ana.user.id, sessionId: sessionIdOf(ana.access), role: 'user', ids: [mine.id] },
      1,
    );
    await new Promise((r) => setTimeout(r, 1_200));
    expect((await download(`${app.url}/api/files/zip/?grant=${short.token}`)).status).toBe(404);

    // A file deleted, or the session logged out, after the link was given: the link opens nothing.
    const gone = await createFile(app, ana.access, 'gone', {}, 'gone.txt');
    const goneLink = (await link([gone.id])).body.download_url;
    await app.api('DELETE', `/api/files/${gone.id}/`, { token: ana.access });
    expect((await download(goneLink)).status).toBe(404);
    const other = await app.login('zip-ana@example.com');
    const loggedOut = (await link([mine.id], other.access)).body.download_url;
    expect(
      (await app.api('POST', '/api/logout/', { token: other.access, body: { refresh: other.refresh } })).status,
    ).toBeLessThan(300);
    expect((await download(loggedOut)).status).toBe(404);
    // Ana's first link still works (her own session is open).
    expect((await download(good)).status).toBe(200);
  });
});

/** The session id inside an access token (the `sid` claim). */
function sessionIdOf(access: string): string {
  const payload = JSON.parse(Buffer.from(access.split('.')[1] as string, 'base64url').toString()) as Record<
    string,
    string
  >;
  return payload.sid as string;
}
