/**
 * Thumbnails: made by the make-thumbnail job after tus, multipart and replace uploads (JPEG, PNG, WebP, GIF first
 * frame, AVIF), EXIF orientation applied and all metadata stripped, decompression bombs refused; served at
 * /f/{id}/thumb and /s/{token}/thumb with the download rules (and grants), no click counted, content-keyed caching;
 * a placeholder otherwise; removed with the file (delete, replace, expiry, orphans). Owner preview links.
 * The backfill-thumbnails job: images whose job was never queued (or from before thumbnails) get one after a grace
 * period, a bounded batch per run, through a partial index; refused images are tried once, failing ones a few times.
 */
import { Readable } from 'node:stream';
import { sql } from 'kysely';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { backfillThumbnails, pendingThumbnails, THUMBNAIL_BACKFILL } from '../src/jobs/backfill-thumbnails.job.js';
import { sweepExpired } from '../src/jobs/delete-expired-files.job.js';
import { makeThumbnail, THUMBNAIL_SIZE } from '../src/modules/files/thumbnails.js';
import {
  bearer,
  createFile,
  download,
  type FileObject,
  restUpload,
  type Session,
  startFilesApp,
  stopFilesApp,
  type TestApp,
  trpc,
  trpcError,
  tusUpload,
} from './files-helpers.js';
import {
  BLUE,
  eventually,
  GPS_MARKER,
  jpegWithGpsAndOrientation,
  meanColour,
  pngDeclaring,
  RED,
  type Rgb,
  solidImage,
  twoFrameGif,
} from './thumbnail-helpers.js';

let app: TestApp;
let alice: Session;
let bob: Session;

beforeAll(async () => {
  app = await startFilesApp({ ORPHAN_GRACE_SECONDS: '0' });
  alice = await app.login('thumb-alice@example.com');
  bob = await app.login('thumb-bob@example.com');
});
afterAll(() => stopFilesApp(app));

const get = (id: string, token = alice.access) => trpc(app, token).files.get.query({ id });
/** The file object once its thumbnail exists. */
const withThumbnail = (id: string, token = alice.access) =>
  eventually(async () => {
    const file = await get(id, token);
    return file.thumbnail_url ? file : null;
  });
const row = (id: string) => app.deps.db.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const close = (a: Rgb, b: Rgb) => Math.abs(a.r - b.r) + Math.abs(a.g - b.g) + Math.abs(a.b - b.b) < 60;

describe('making thumbnails', () => {
  it('a JPEG with EXIF GPS and orientation (tus): the thumbnail is upright and carries no metadata at all', async () => {
    const source = await jpegWithGpsAndOrientation();
    const meta = await sharp(source).metadata();
    expect(meta.orientation).toBe(6);
    expect(source.includes(Buffer.from(GPS_MARKER))).toBe(true);

    const { fileId } = await tusUpload(app, alice.access, source, { filename: 'holiday.jpg' });
    const file = await withThumbnail(fileId);
    expect(file.thumbnail_url).toMatch(new RegExp(`/f/${fileId}/thumb\\?v=[0-9a-f]{16}&grant=`));
    const res = await download(file.thumbnail_url as string);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');

    const thumb = await sharp(res.body).metadata();
    // Rotated: the 400×200 source is shown 200×400, the red left half now on top.
    expect([thumb.width, thumb.height]).toEqual([200, 400]);
    expect(close(await meanColour(res.body, { left: 50, top: 20, width: 100, height: 100 }), RED)).toBe(true);
    expect(close(await meanColour(res.body, { left: 50, top: 280, width: 100, height: 100 }), BLUE)).toBe(true);
    // No EXIF (so no GPS), no orientation tag, no XMP/IPTC.
    expect(thumb.exif).toBeUndefined();
    expect(thumb.orientation).toBeUndefined();
    expect(thumb.xmp).toBeUndefined();
    expect(thumb.iptc).toBeUndefined();
    expect(res.body.includes(Buffer.from(GPS_MARKER))).toBe(false);
    expect(res.body.includes(Buffer.from('Exif\0\0'))).toBe(false);
    // The original is untouched: the download still has its GPS block.
    expect((await download(`${app.url}/f/${fileId}`, bearer(alice.access))).body.equals(source)).toBe(true);
  });

  const formats: [string, () => Promise<Buffer>, string, number, number][] = [
    ['PNG', () => solidImage('png'), 'image/jpeg', THUMBNAIL_SIZE, 427],
    ['PNG with transparency', () => solidImage('png', { alpha: true }), 'image/webp', THUMBNAIL_SIZE, 427],
    ['WebP', () => solidImage('webp'), 'image/jpeg', THUMBNAIL_SIZE, 427],
    ['AVIF', () => solidImage('avif'), 'image/jpeg', THUMBNAIL_SIZE, 427],
    ['small JPEG (never enlarged)', () => solidImage('jpeg', { width: 120, height: 90 }), 'image/jpeg', 120, 90],
  ];
  for (const [label, make, type, width, height] of formats) {
    it(`${label} (multipart) → a ${type} thumbnail of ${width}×${height}`, async () => {
      const created = await createFile(app, alice.access, await make(), { is_public: 'true' }, 'picture');
      const file = await withThumbnail(created.id);
      expect(file.thumbnail_url).toBe(`${app.url}/f/${created.id}/thumb?v=${(file.sha256 as string).slice(0, 16)}`);
      const res = await download(file.thumbnail_url as string);
      expect(res.headers.get('content-type')).toBe(type);
      const meta = await sharp(res.body).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual([type === 'image/webp' ? 'webp' : 'jpeg', width, height]);
    });
  }

  it('an animated GIF → a thumbnail of its first frame', async () => {
    const created = await createFile(app, alice.access, await twoFrameGif(), { is_public: 'true' }, 'anim.gif');
    expect(created.mime_type).toBe('image/gif');
    const file = await withThumbnail(created.id);
    const res = await download(file.thumbnail_url as string);
    const meta = await sharp(res.body).metadata();
    expect([meta.width, meta.height, meta.pages ?? 1]).toEqual([64, 64, 1]);
    expect(close(await meanColour(res.body, { left: 0, top: 0, width: 64, height: 64 }), RED)).toBe(true);
  });

  it('a decompression bomb (a tiny PNG declaring 100,000 × 100,000 pixels) is refused: no thumbnail, placeholder', async () => {
    const bomb = pngDeclaring(100_000, 100_000);
    expect(bomb.length).toBeLessThan(200);
    const created = await createFile(app, alice.access, bomb, { is_public: 'true' }, 'bomb.png');
    expect(created.mime_type).toBe('image/png');
    const before = process.memoryUsage().rss;
    expect(await makeThumbnail(app.deps, created.id, (await row(created.id)).storage_key)).toBe('refused');
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024);
    // The queued job ends the same way (and is not retried): the job row goes, no thumbnail appears.
    await eventually(async () => {
      const { rows } = await sql<{ n: number }>`
        select count(*)::int as n from agenda_jobs where name = 'make-thumbnail' and data->>'fileId' = ${created.id}
      `.execute(app.deps.db);
      return rows[0]?.n === 0 ? true : null;
    });
    expect((await get(created.id)).thumbnail_url).toBeNull();
    expect((await row(created.id)).thumbnail_key).toBeNull();
    const res = await download(`${app.url}/f/${created.id}/thumb`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/svg+xml');
  });

  it('files that are not images get no thumbnail; /thumb serves a placeholder of their type, safely', async () => {
    const file = await createFile(app, alice.access, 'just text\n', { is_public: 'true' }, 'notes.txt');
    expect(file.thumbnail_url).toBeNull();
    const res = await download(`${app.url}/f/${file.id}/thumb`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/svg+xml');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toBe("sandbox; frame-ancestors 'none'");
    expect(res.headers.get('cache-control')).toBe('private, no-cache');
    expect(res.body.toString()).toMatch(/^<svg [^>]*>.*>TXT<\/text><\/svg>$/);
    expect(res.body.toString()).not.toMatch(/<script|on\w+=/i);
    expect(await makeThumbnail(app.deps, file.id, (await row(file.id)).storage_key)).toBe('skipped');
  });

  it('a job for content that has been replaced meanwhile stores nothing', async () => {
    const created = await createFile(app, alice.access, await solidImage('png'), {}, 'a.png');
    await withThumbnail(created.id);
    expect(await makeThumbnail(app.deps, created.id, 'not-the-current-key')).toBe('stale');
    expect(await app.deps.storage.stat('not-the-current-key_thumb')).toBeNull();
  });
});

describe('serving thumbnails', () => {
  let priv: FileObject;
  let pub: FileObject;
  beforeAll(async () => {
    priv = await withThumbnail((await createFile(app, alice.access, await solidImage('png'), {}, 'secret.png')).id);
    pub = await withThumbnail(
      (await createFile(app, alice.access, await solidImage('png'), { is_public: 'true' }, 'open.png')).id,
    );
  });

  it('a private file: 404 without access; with its owner’s Bearer, its thumbnail grant, or through its link: 200', async () => {
    const plain = `${app.url}/f/${priv.id}/thumb`;
    expect((await download(plain)).status).toBe(404);
    expect((await download(plain, bearer(bob.access))).status).toBe(404);
    expect((await download(plain, bearer(alice.access))).status).toBe(200);
    expect((await download(priv.thumbnail_url as string)).status).toBe(200);
    const viaLink = `${priv.share_url}/thumb`;
    expect((await download(viaLink)).status).toBe(200);
    // The file object reached through the link names the link's thumbnail, without revealing anything else.
    const token = new URL(priv.share_url as string).pathname.split('/').pop() as string;
    const shared = await trpc(app).public.byToken.query({ token });
    expect(shared.thumbnail_url).toBe(`${app.url}/s/${token}/thumb?v=${(priv.sha256 as string).slice(0, 16)}`);
    expect(shared.share_url).toBeNull();
    // HEAD answers the same headers without a body.
    const head = await download(viaLink, {}, 'HEAD');
    expect([head.status, head.body.length, head.headers.get('content-type')]).toEqual([200, 0, 'image/jpeg']);
  });

  it('a grant opens only its own file, and only the thumbnail; a forged or altered grant opens nothing', async () => {
    const grant = new URL(priv.thumbnail_url as string).searchParams.get('grant') as string;
    const other = await createFile(app, alice.access, await solidImage('png'), {}, 'other.png');
    expect((await download(`${app.url}/f/${other.id}/thumb?grant=${grant}`)).status).toBe(404);
    expect((await download(`${app.url}/f/${priv.id}?grant=${grant}`)).status).toBe(404);
    const [expiry, scope, sig] = grant.split('.') as [string, string, string];
    for (const forged of [
      `${Number(expiry) + 3600}.${scope}.${sig}`,
      `${expiry}.p.${sig}`,
      `${expiry}.${scope}.${sig.slice(0, -2)}AA`,
      `1.${scope}.${sig}`,
      'garbage',
    ]) {
      expect((await download(`${app.url}/f/${priv.id}/thumb?grant=${forged}`)).status, forged).toBe(404);
    }
  });

  it('no click is counted for thumbnails', async () => {
    const before = (await get(pub.id)).stats.clicks;
    await download(pub.thumbnail_url as string);
    await download(`${priv.share_url}/thumb`);
    await new Promise((r) => setTimeout(r, 200));
    expect((await get(pub.id)).stats.clicks).toBe(before);
    expect((await get(priv.id)).stats.clicks).toBe(0);
  });

  it('cached for a year when the URL names the current content; ETag and If-None-Match → 304', async () => {
    const res = await download(pub.thumbnail_url as string);
    expect(res.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
    const etag = res.headers.get('etag') as string;
    expect(etag).toBe(`"thumb-${(pub.sha256 as string).slice(0, 16)}"`);
    const unversioned = await download(`${app.url}/f/${pub.id}/thumb`);
    expect(unversioned.headers.get('cache-control')).toBe('private, no-cache');
    const again = await download(`${app.url}/f/${pub.id}/thumb`, { 'if-none-match': etag });
    expect([again.status, again.body.length]).toEqual([304, 0]);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toBe("sandbox; frame-ancestors 'none'");
  });

  it('expired → 410; unknown → 404; a rotated link’s old thumbnail → 404', async () => {
    const soon = await createFile(app, alice.access, await solidImage('png'), { is_public: 'true' }, 'soon.png');
    await app.deps.db
      .updateTable('files')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', soon.id)
      .execute();
    expect((await download(`${app.url}/f/${soon.id}/thumb`)).status).toBe(410);
    expect((await download(`${app.url}/f/00000000-0000-4000-8000-000000000000/thumb`)).status).toBe(404);
    expect((await download(`${app.url}/s/not-a-real-token-at-all-xxxxx/thumb`)).status).toBe(404);
    const old = `${priv.share_url}/thumb`;
    const rotated = await trpc(app, alice.access).files.rotateLink.mutate({ id: priv.id });
    expect((await download(old)).status).toBe(404);
    expect((await download(`${rotated.share_url}/thumb`)).status).toBe(200);
  });
});

describe('thumbnails go with their file', () => {
  const stored = async (id: string) => {
    const key = (await row(id)).thumbnail_key as string;
    expect(key).toBeTruthy();
    return key;
  };

  it('deleting the file removes its thumbnail', async () => {
    const file = await withThumbnail((await createFile(app, alice.access, await solidImage('png'), {}, 'd.png')).id);
    const key = await stored(file.id);
    await trpc(app, alice.access).files.delete.mutate({ id: file.id });
    expect(await app.deps.storage.stat(key)).toBeNull();
  });

  it('replacing the content (multipart PUT and tus file_id) removes the old thumbnail and makes a new one', async () => {
    const file = await withThumbnail((await createFile(app, alice.access, await solidImage('png'), {}, 'r.png')).id);
    const firstKey = await stored(file.id);
    const blue = await solidImage('jpeg', { colour: BLUE });
    const put = await restUpload(app, alice.access, blue, { method: 'PUT', path: `/api/files/${file.id}/` });
    expect(put.status).toBe(200);
    expect(await app.deps.storage.stat(firstKey)).toBeNull();
    const second = await eventually(async () => {
      const f = await get(file.id);
      return f.thumbnail_url && f.sha256 !== file.sha256 ? f : null;
    });
    const res = await download(second.thumbnail_url as string);
    expect(close(await meanColour(res.body, { left: 0, top: 0, width: 64, height: 64 }), BLUE)).toBe(true);
    const secondKey = await stored(file.id);

    await tusUpload(app, alice.access, await solidImage('webp', { colour: RED }), {
      filename: 'r.webp',
      file_id: file.id,
    });
    expect(await app.deps.storage.stat(secondKey)).toBeNull();
    const third = await eventually(async () => {
      const f = await get(file.id);
      return f.thumbnail_url && f.sha256 !== second.sha256 ? f : null;
    });
    const red = await download(third.thumbnail_url as string);
    expect(close(await meanColour(red.body, { left: 0, top: 0, width: 64, height: 64 }), RED)).toBe(true);
  });

  it('the expiry sweep removes an expired file’s thumbnail; an orphaned thumbnail goes, a live one stays', async () => {
    const expiring = await withThumbnail(
      (await createFile(app, alice.access, await solidImage('png'), {}, 'e.png')).id,
    );
    const live = await withThumbnail((await createFile(app, alice.access, await solidImage('png'), {}, 'l.png')).id);
    const expiringKey = await stored(expiring.id);
    const liveKey = await stored(live.id);
    await app.deps.db
      .updateTable('files')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', expiring.id)
      .execute();
    // A thumbnail whose file row is gone (a crash between the row and the object).
    const orphan = '00000000-1111-4222-8333-444444444444_thumb';
    await app.deps.storage.put(orphan, Readable.from([Buffer.from('x')]));
    await sweepExpired(app.deps);
    expect(await app.deps.storage.stat(expiringKey)).toBeNull();
    expect(await app.deps.storage.stat(orphan)).toBeNull();
    expect(await app.deps.storage.stat(liveKey)).not.toBeNull();
    expect((await download(live.thumbnail_url as string)).status).toBe(200);
  });
});

describe('preview links for the owner’s pages', () => {
  it('content_url plays a private file without a Bearer token and counts no click; download_url counts one', async () => {
    const file = await createFile(app, alice.access, 'private words\n'.repeat(100), {}, 'words.txt');
    const links = await trpc(app, alice.access).files.previewLinks.query({ id: file.id });
    expect(links.view_url).toBeNull();
    expect(new Date(links.expires_at).getTime()).toBeGreaterThan(Date.now() + 5 * 60_000);
    const part = await download(links.content_url, { range: 'bytes=0-6' });
    expect([part.status, part.body.toString()]).toEqual([206, 'private']);
    expect((await download(links.content_url)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    expect((await get(file.id)).stats.clicks).toBe(0);
    expect((await download(links.download_url)).status).toBe(200);
    await eventually(async () => ((await get(file.id)).stats.clicks === 1 ? true : null));
    // A preview grant is not a thumbnail-only grant's twin: it does not open another file.
    const other = await createFile(app, alice.access, 'other\n', {}, 'other.txt');
    const grant = new URL(links.content_url).searchParams.get('grant');
    expect((await download(`${app.url}/f/${other.id}?grant=${grant}`)).status).toBe(404);
  });

  it('only the owner (or an admin) gets them', async () => {
    const file = await createFile(app, alice.access, 'mine\n', {}, 'mine.txt');
    expect(await trpcError(trpc(app, bob.access).files.previewLinks.query({ id: file.id }))).toEqual({
      status: 404,
      code: 'not_found',
    });
    expect((await trpcError(trpc(app).files.previewLinks.query({ id: file.id }))).status).toBe(401);
  });

  it('a PDF gets a view_url framable by this site only (sandboxed); other types have no viewer page', async () => {
    const pdf = Buffer.from(
      '%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n',
    );
    const file = await createFile(app, alice.access, pdf, {}, 'doc.pdf');
    expect(file.mime_type).toBe('application/pdf');
    const links = await trpc(app, alice.access).files.previewLinks.query({ id: file.id });
    const view = await download(links.view_url as string);
    expect(view.status).toBe(200);
    expect(view.headers.get('content-type')).toBe('application/pdf');
    expect(view.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox; frame-ancestors 'self'");
    expect(view.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(view.headers.get('x-content-type-options')).toBe('nosniff');
    // The download itself stays unframable.
    expect((await download(`${file.share_url}`)).headers.get('content-security-policy')).toBe(
      "sandbox; frame-ancestors 'none'",
    );
    expect((await download(`${file.share_url}/view`)).status).toBe(200);
    expect((await download(`${app.url}/f/${file.id}/view`)).status).toBe(404);
    const text = await createFile(app, alice.access, 'not a pdf\n', { is_public: 'true' }, 't.txt');
    expect((await download(`${app.url}/f/${text.id}/view`)).status).toBe(404);
  });
});

describe('backfill-thumbnails', () => {
  /** Uploads while the queue is down: the upload succeeds, but no make-thumbnail job exists for it. */
  async function uploadWithQueueDown(content: Buffer, filename: string, fields: Record<string, string> = {}) {
    const enqueue = vi.spyOn(app.deps.jobs, 'enqueue').mockRejectedValue(new Error('queue unavailable'));
    try {
      return await createFile(app, alice.access, content, fields, filename);
    } finally {
      enqueue.mockRestore();
    }
  }
  /** Makes a file's content older than the backfill's grace period. */
  const backdate = (id: string, minutes: number) =>
    sql`
      update files set created_at = now() - make_interval(mins => ${minutes}),
                       updated_at = now() - make_interval(mins => ${minutes})
      where id = ${id}
    `.execute(app.deps.db);
  const queued = async (id: string) => {
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from agenda_jobs where name = 'make-thumbnail' and data->>'fileId' = ${id}
    `.execute(app.deps.db);
    return rows[0]?.n;
  };
  const state = async (id: string) => {
    const r = await row(id);
    return { state: r.thumbnail_state, attempts: r.thumbnail_attempts, key: r.thumbnail_key };
  };

  it('an image whose job was never queued gets its thumbnail once past the grace period, served at /f/{id}/thumb', async () => {
    const created = await uploadWithQueueDown(await solidImage('png'), 'lost.png', { is_public: 'true' });
    expect(created.mime_type).toBe('image/png');
    expect(await queued(created.id)).toBe(0);
    expect(await state(created.id)).toEqual({ state: null, attempts: 0, key: null });

    // Fresh content is left to its own job.
    await backfillThumbnails(app.deps);
    expect(await state(created.id)).toEqual({ state: null, attempts: 0, key: null });
    expect((await get(created.id)).thumbnail_url).toBeNull();

    await backdate(created.id, 15);
    // The scheduled job, as the worker (or `npm run jobs:run -- backfill-thumbnails`) runs it.
    await app.deps.jobs.runNow('backfill-thumbnails');
    expect(await state(created.id)).toMatchObject({ state: 'made', attempts: 1 });
    const file = await get(created.id);
    expect(file.thumbnail_url).toBe(`${app.url}/f/${created.id}/thumb?v=${(file.sha256 as string).slice(0, 16)}`);
    const res = await download(file.thumbnail_url as string);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    const meta = await sharp(res.body).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', THUMBNAIL_SIZE, 427]);
    expect(close(await meanColour(res.body, { left: 0, top: 0, width: 64, height: 64 }), RED)).toBe(true);
    // Made once: the next run leaves it alone, and it was made here, not through the queue.
    await backfillThumbnails(app.deps);
    expect(await state(created.id)).toMatchObject({ state: 'made', attempts: 1 });
    expect(await queued(created.id)).toBe(0);
  });

  it('images from before thumbnails existed: a bounded batch per run, oldest first; new content (PUT) too', async () => {
    const files: FileObject[] = [];
    for (const name of ['old-1.png', 'old-2.png']) {
      files.push(await withThumbnail((await createFile(app, alice.access, await solidImage('png'), {}, name)).id));
    }
    const [older, newer] = files as [FileObject, FileObject];
    // As a file stored before the feature: no thumbnail, nothing recorded.
    for (const [file, minutes] of [
      [older, 120],
      [newer, 60],
    ] as const) {
      const key = (await row(file.id)).thumbnail_key as string;
      await app.deps.storage.delete(key);
      await app.deps.db
        .updateTable('files')
        .set({ thumbnail_key: null, thumbnail_type: null, thumbnail_state: null, thumbnail_attempts: 0 })
        .where('id', '=', file.id)
        .execute();
      await backdate(file.id, minutes);
    }
    expect((await get(older.id)).thumbnail_url).toBeNull();

    const first = await backfillThumbnails(app.deps, { batch: 1 });
    expect(first).toMatchObject({ tried: 1, made: 1 });
    expect((await state(older.id)).state).toBe('made');
    expect(await state(newer.id)).toEqual({ state: null, attempts: 0, key: null });
    expect(await backfillThumbnails(app.deps, { batch: 1 })).toMatchObject({ tried: 1, made: 1 });
    expect((await state(newer.id)).state).toBe('made');
    expect((await download((await get(newer.id)).thumbnail_url as string)).status).toBe(200);
    expect(await backfillThumbnails(app.deps)).toMatchObject({ tried: 0 });

    // New content whose job is lost: what was decided for the old content no longer holds.
    const enqueue = vi.spyOn(app.deps.jobs, 'enqueue').mockRejectedValue(new Error('queue unavailable'));
    try {
      const blue = await solidImage('jpeg', { colour: BLUE });
      const put = await restUpload(app, alice.access, blue, { method: 'PUT', path: `/api/files/${older.id}/` });
      expect(put.status).toBe(200);
    } finally {
      enqueue.mockRestore();
    }
    expect(await state(older.id)).toEqual({ state: null, attempts: 0, key: null });
    expect((await get(older.id)).thumbnail_url).toBeNull();
    await sql`update files set updated_at = now() - interval '15 minutes' where id = ${older.id}`.execute(app.deps.db);
    expect(await backfillThumbnails(app.deps)).toMatchObject({ tried: 1, made: 1 });
    const replaced = await get(older.id);
    const res = await download(replaced.thumbnail_url as string);
    expect(close(await meanColour(res.body, { left: 0, top: 0, width: 64, height: 64 }), BLUE)).toBe(true);
  });

  it('an undecodable image is tried once, then left alone: state refused, placeholder, thumbnail_url null', async () => {
    const png = await solidImage('png', { width: 300, height: 200 });
    const corrupt = Buffer.concat([png.subarray(0, 60), Buffer.alloc(200, 0x5a)]);
    const created = await uploadWithQueueDown(corrupt, 'broken.png', { is_public: 'true' });
    expect(created.mime_type).toBe('image/png');
    await backdate(created.id, 15);

    expect(await backfillThumbnails(app.deps)).toMatchObject({ tried: 1, refused: 1, made: 0 });
    expect(await state(created.id)).toEqual({ state: 'refused', attempts: 1, key: null });
    expect((await get(created.id)).thumbnail_url).toBeNull();
    const res = await download(`${app.url}/f/${created.id}/thumb`);
    expect([res.status, res.headers.get('content-type')]).toEqual([200, 'image/svg+xml']);

    // Not tried on the next runs, and not queued either.
    expect(await backfillThumbnails(app.deps)).toMatchObject({ tried: 0 });
    await app.deps.jobs.runNow('backfill-thumbnails');
    expect(await state(created.id)).toEqual({ state: 'refused', attempts: 1, key: null });
    expect(await queued(created.id)).toBe(0);
    // A make-thumbnail job for the same content (a duplicate, say) does not decode it again either.
    expect(await makeThumbnail(app.deps, created.id, (await row(created.id)).storage_key)).toBe('refused');
    expect((await pendingThumbnails(app.deps.db, { graceMs: 0, limit: 100 }).execute()).map((r) => r.id)).not.toContain(
      created.id,
    );
  });

  it('content that cannot be read is tried a few times, then left alone; failures in a row end a run', async () => {
    const ids: string[] = [];
    for (let i = 0; i < THUMBNAIL_BACKFILL.stopAfterFailures + 1; i++) {
      const created = await uploadWithQueueDown(await solidImage('png', { width: 64, height: 64 }), `gone-${i}.png`);
      await app.deps.storage.delete((await row(created.id)).storage_key);
      await backdate(created.id, 15 + i);
      ids.push(created.id);
    }
    const attempts = async () => Promise.all(ids.map(async (id) => (await state(id)).attempts));
    // Storage looks away: the run stops after a few failures in a row instead of counting a try for every image.
    expect(await backfillThumbnails(app.deps)).toMatchObject({
      tried: THUMBNAIL_BACKFILL.stopAfterFailures,
      failed: THUMBNAIL_BACKFILL.stopAfterFailures,
    });
    // Images not tried yet go first next time.
    expect((await attempts()).sort()).toEqual([0, 1, 1, 1]);
    for (let run = 0; run < THUMBNAIL_BACKFILL.maxAttempts * 2; run++) await backfillThumbnails(app.deps);
    expect(await attempts()).toEqual(ids.map(() => THUMBNAIL_BACKFILL.maxAttempts));
    expect(await backfillThumbnails(app.deps)).toMatchObject({ tried: 0 });
    for (const id of ids) {
      expect((await state(id)).state).toBeNull();
      expect((await get(id)).thumbnail_url).toBeNull();
    }
  });

  it('pending images are found through the partial index files_thumbnail_pending_idx', async () => {
    const plan = await app.deps.db.transaction().execute(async (trx) => {
      // The test catalogue is small: make the planner show whether it can use the index at all.
      await sql`set local enable_seqscan = off`.execute(trx);
      return pendingThumbnails(trx, { graceMs: THUMBNAIL_BACKFILL.graceMs, limit: 200 }).explain('json');
    });
    const text = JSON.stringify(plan);
    expect(text).toContain('"Index Name":"files_thumbnail_pending_idx"');
    expect(text).not.toContain('Seq Scan');
    expect(text).not.toContain('"Node Type":"Sort"');
  });
});

describe('described', () => {
  it('thumbnail_url is in the File schema; the preview links are a REST route too', async () => {
    const doc = (await (await fetch(`${app.url}/api/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, { properties: Record<string, unknown>; required: string[] }> };
    };
    expect(doc.components.schemas.File?.properties.thumbnail_url).toBeDefined();
    expect(doc.components.schemas.File?.required).toContain('thumbnail_url');
    expect(doc.paths['/api/files/{id}/preview-links/']?.get).toBeDefined();
    const file = await createFile(app, alice.access, 'x\n', {}, 'x.txt');
    const rest = await app.api<{ content_url: string }>('GET', `/api/files/${file.id}/preview-links/`, {
      token: alice.access,
    });
    expect(rest.status).toBe(200);
    expect((await download(rest.body.content_url)).body.toString()).toBe('x\n');
    expect((await app.api('GET', `/api/files/${file.id}/preview-links/`, { token: bob.access })).status).toBe(404);
  });
});
