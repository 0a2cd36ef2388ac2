/**
 * POST /api/files/bulk/ and files.bulk: each action does what the single-file paths do (kept hashtag counts,
 * normalisation, audit entries, bytes and cached statistics removed on delete, expiry in the future only), on up
 * to 500 files at once, all or nothing: one id that is not the caller's (admins aside) → 404 and the database
 * is exactly as before.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createFile,
  download,
  type ErrorBody,
  type FileObject,
  loginAdmin,
  type Session,
  sharePath,
  startFilesApp,
  stopFilesApp,
  type TestApp,
  trpc,
  trpcError,
} from './files-helpers.js';
import { keysMatching } from './redis-helpers.js';

let app: TestApp;
let ana: Session;
let ben: Session;
let admin: Session;

beforeAll(async () => {
  app = await startFilesApp({ EXPIRY_INTERVAL: '1 hour' });
  ana = await app.login('bulk-ana@example.com');
  ben = await app.login('bulk-ben@example.com');
  admin = await loginAdmin(app, 'bulk-admin@example.com');
}, 60_000);
afterAll(() => stopFilesApp(app));

const bulk = (token: string, body: unknown) =>
  app.api<{ updated: number } & Partial<ErrorBody>>('POST', '/api/files/bulk/', { token, body });
const get = async (token: string, id: string) =>
  (await app.api<FileObject>('GET', `/api/files/${id}/`, { token })).body;
const files = (token: string, n: number, fields: Record<string, string> = {}) =>
  Promise.all(
    Array.from({ length: n }, (_, i) => createFile(app, token, `content ${i} ${randomUUID()}`, fields, `f${i}.txt`)),
  );
const hashtagCounts = async (token?: string) => {
  const res = await app.api<{ results: { name: string; count: number }[] }>('GET', '/api/hashtags/', { token });
  return Object.fromEntries(res.body.results.map((r) => [r.name, r.count]));
};

/** Everything a bulk action may touch, to compare before and after a refused one. */
async function snapshot() {
  const db = app.deps.db;
  const q = async (text: string) => (await sql.raw(text).execute(db)).rows;
  return {
    files: await q(
      'select id, owner_id, is_public, expires_at, hashtags, updated_at, storage_key from files order by id',
    ),
    links: await q('select file_id, hashtag_id, owner_id, is_public, expires_at from file_hashtags order by 1, 2'),
    counts: await q('select * from hashtag_counts order by hashtag_id'),
    ownerCounts: await q('select * from hashtag_owner_counts order by owner_id, hashtag_id'),
    audit: await q('select count(*)::int as n from audit_log'),
  };
}

/** The kept counts equal a recount of the links (what the statement triggers must keep). */
async function expectKeptCountsExact() {
  const db = app.deps.db;
  const kept = await sql<{ hashtag_id: string; public_count: string; total_count: string }>`
    select hashtag_id, public_count, total_count from hashtag_counts
    where total_count <> 0 or public_count <> 0 order by hashtag_id`.execute(db);
  const recount = await sql<{ hashtag_id: string; public_count: string; total_count: string }>`
    select hashtag_id, count(*) filter (where is_public) as public_count, count(*) as total_count
    from file_hashtags group by hashtag_id order by hashtag_id`.execute(db);
  expect(kept.rows).toEqual(recount.rows);
  const keptOwners = await sql`select owner_id, hashtag_id, private_count from hashtag_owner_counts
    where private_count <> 0 order by 1, 2`.execute(db);
  const recountOwners = await sql`select owner_id, hashtag_id, count(*) as private_count from file_hashtags
    where not is_public group by 1, 2 order by 1, 2`.execute(db);
  expect(keptOwners.rows).toEqual(recountOwners.rows);
}

describe('bulk actions', () => {
  it('make_public and make_private switch all the files; counts and private links follow', async () => {
    const tag = `vis${randomBytes(3).toString('hex')}`;
    const mine = await files(ana.access, 3, { hashtags: tag, is_public: 'false' });
    const ids = mine.map((f) => f.id);
    expect((await hashtagCounts())[tag]).toBeUndefined();

    const pub = await bulk(ana.access, { ids, action: 'make_public' });
    expect(pub.status).toBe(200);
    expect(pub.body).toEqual({ updated: 3 });
    for (const id of ids) expect((await get(ana.access, id)).is_public).toBe(true);
    expect((await hashtagCounts())[tag]).toBe(3);
    expect((await download(`${app.url}/f/${ids[0]}`)).status).toBe(200);

    const priv = await bulk(ana.access, { ids, action: 'make_private' });
    expect(priv.body).toEqual({ updated: 3 });
    expect((await hashtagCounts())[tag]).toBeUndefined();
    expect((await hashtagCounts(ana.access))[tag]).toBe(3);
    expect((await download(`${app.url}/f/${ids[0]}`)).status).toBe(404);
    for (const id of ids) {
      const file = await get(ana.access, id);
      expect(file.is_public).toBe(false);
      expect(file.share_url).toMatch(/\/s\//);
      expect((await download(`${app.url}${sharePath(file.share_url ?? '')}`)).status).toBe(200);
    }
    await expectKeptCountsExact();
  });

  it('add_hashtags normalises and adds to every file, keeping what they had', async () => {
    const mine = await files(ana.access, 2, { hashtags: 'keep' });
    const ids = mine.map((f) => f.id);
    const res = await bulk(ana.access, { ids, action: 'add_hashtags', hashtags: '#Café, Road Trips' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ updated: 2 });
    for (const id of ids) expect((await get(ana.access, id)).hashtags).toEqual(['cafe', 'keep', 'road', 'trips']);
    // Adding again changes nothing; a list works as well as a string.
    expect((await bulk(ana.access, { ids, action: 'add_hashtags', hashtags: ['cafe'] })).body).toEqual({ updated: 2 });
    expect((await get(ana.access, ids[0] as string)).hashtags).toEqual(['cafe', 'keep', 'road', 'trips']);
    const list = await app.api<{ results: FileObject[] }>('GET', '/api/files/?hashtag=cafe', { token: ana.access });
    expect(list.body.results.map((f) => f.id).sort()).toEqual([...ids].sort());
    await expectKeptCountsExact();
  });

  it('remove_hashtags unlinks them, except a #word the description names', async () => {
    const plain = await createFile(app, ana.access, 'a', { hashtags: 'gone1,stay1' });
    const described = await createFile(app, ana.access, 'b', { hashtags: 'gone1', description: 'see #stay1 #gone2' });
    const ids = [plain.id, described.id];
    const res = await bulk(ana.access, { ids, action: 'remove_hashtags', hashtags: ['#GONE1', 'gone2', 'stay1'] });
    expect(res.body).toEqual({ updated: 2 });
    expect((await get(ana.access, plain.id)).hashtags).toEqual([]);
    expect((await get(ana.access, described.id)).hashtags).toEqual(['gone2', 'stay1']);
    const counts = await hashtagCounts(ana.access);
    expect(counts.gone1).toBeUndefined();
    await expectKeptCountsExact();
  });

  it('set_expiry sets a future expiry or removes it; a past one is refused and changes nothing', async () => {
    const mine = await files(ana.access, 2);
    const ids = mine.map((f) => f.id);
    const when = new Date(Date.now() + 3 * 86400_000);
    const res = await bulk(ana.access, { ids, action: 'set_expiry', expires_at: when.toISOString() });
    expect(res.body).toEqual({ updated: 2 });
    for (const id of ids) expect((await get(ana.access, id)).expires_at).toBe(when.toISOString());

    const before = await snapshot();
    const past = await bulk(ana.access, { ids, action: 'set_expiry', expires_at: '2020-01-01T00:00:00Z' });
    expect(past.status).toBe(400);
    expect(past.body.error?.code).toBe('validation_error');
    expect(past.body.error?.fields?.expires_at).toBeDefined();
    expect(await snapshot()).toEqual(before);

    expect((await bulk(ana.access, { ids, action: 'set_expiry', expires_at: null })).body).toEqual({ updated: 2 });
    for (const id of ids) expect((await get(ana.access, id)).expires_at).toBeNull();
  });

  it('delete removes rows, bytes, cached statistics and counts, with one audit entry per file', async () => {
    const tag = `del${randomBytes(3).toString('hex')}`;
    const mine = await files(ana.access, 3, { hashtags: tag, is_public: 'true' });
    const ids = mine.map((f) => f.id);
    // A click, so each file has statistics cached in Redis.
    for (const f of mine) expect((await download(f.download_url)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    const client = app.deps.redis.client;
    if (!client) throw new Error('these tests need Redis');
    const statKeys = async () =>
      (await keysMatching(client, `${app.deps.redis.prefix}*`)).filter((k) => ids.some((id) => k.includes(id)));
    expect((await statKeys()).length).toBeGreaterThan(0);
    const rows = await app.deps.db.selectFrom('files').select('storage_key').where('id', 'in', ids).execute();
    for (const r of rows) expect(await app.deps.storage.stat(r.storage_key)).not.toBeNull();
    expect((await hashtagCounts())[tag]).toBe(3);

    const res = await bulk(ana.access, { ids, action: 'delete' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ updated: 3 });
    for (const id of ids) {
      expect((await app.api('GET', `/api/files/${id}/`, { token: ana.access })).status).toBe(404);
    }
    for (const r of rows) expect(await app.deps.storage.stat(r.storage_key)).toBeNull();
    // Per-day unique-visitor keys are left to their TTL by design (stats.forget); everything else is gone.
    const left = await statKeys();
    expect(left.filter((k) => !/:u:[^:]+:\d{4}-\d{2}-\d{2}$/.test(k))).toEqual([]);
    for (const key of left) expect(await client.ttl(key)).toBeGreaterThan(0);
    expect((await hashtagCounts())[tag]).toBeUndefined();
    const audit = await app.deps.db
      .selectFrom('audit_log')
      .select(['target_id', 'actor_id'])
      .where('action', '=', 'file.deleted')
      .where('target_id', 'in', ids)
      .execute();
    expect(audit.map((a) => a.target_id).sort()).toEqual([...ids].sort());
    expect(audit.every((a) => a.actor_id === ana.user.id)).toBe(true);
    await expectKeptCountsExact();
  });

  it('one file that is not yours → 404 for every action, and nothing changes (rows, links, counts, audit)', async () => {
    const tag = `aon${randomBytes(3).toString('hex')}`;
    const mine = await files(ana.access, 2, { hashtags: tag });
    const theirs = await createFile(app, ben.access, 'ben', { hashtags: tag });
    const cases = [
      { action: 'delete' },
      { action: 'make_public' },
      { action: 'make_private' },
      { action: 'add_hashtags', hashtags: 'more' },
      { action: 'remove_hashtags', hashtags: tag },
      { action: 'set_expiry', expires_at: new Date(Date.now() + 86400_000).toISOString() },
    ];
    const countsBefore = { anon: await hashtagCounts(), ana: await hashtagCounts(ana.access) };
    for (const extra of [theirs.id, randomUUID()]) {
      for (const c of cases) {
        const before = await snapshot();
        const res = await bulk(ana.access, { ids: [...mine.map((f) => f.id), extra], ...c });
        expect(res.status, c.action).toBe(404);
        expect(res.body.error?.code).toBe('not_found');
        expect(await snapshot(), c.action).toEqual(before);
      }
    }
    expect({ anon: await hashtagCounts(), ana: await hashtagCounts(ana.access) }).toEqual(countsBefore);
    for (const f of [...mine, theirs]) {
      expect((await app.api('GET', `/api/files/${f.id}/`, { token: admin.access })).status).toBe(200);
    }
  });

  it('an admin acts on anyone’s files', async () => {
    const a = await createFile(app, ana.access, 'x');
    const b = await createFile(app, ben.access, 'y');
    const res = await bulk(admin.access, { ids: [a.id, b.id], action: 'add_hashtags', hashtags: 'moderated' });
    expect(res.body).toEqual({ updated: 2 });
    expect((await get(ana.access, a.id)).hashtags).toEqual(['moderated']);
    expect((await get(ben.access, b.id)).hashtags).toEqual(['moderated']);
    expect((await bulk(admin.access, { ids: [a.id, b.id], action: 'delete' })).body).toEqual({ updated: 2 });
    expect((await app.api('GET', `/api/files/${a.id}/`, { token: ana.access })).status).toBe(404);
    const audit = await app.deps.db
      .selectFrom('audit_log')
      .select('meta')
      .where('action', '=', 'file.deleted')
      .where('target_id', '=', b.id)
      .executeTakeFirstOrThrow();
    expect(audit.meta).toMatchObject({ owner_id: ben.user.id });
  });

  it('validates: more than 500 ids, a missing argument, too many hashtags, no login', async () => {
    const ids501 = Array.from({ length: 501 }, () => randomUUID());
    const tooMany = await bulk(ana.access, { ids: ids501, action: 'make_public' });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error?.code).toBe('validation_error');
    expect(tooMany.body.error?.fields?.ids).toBeDefined();
    // 500 is allowed (unknown ids then answer 404, not 400).
    expect((await bulk(ana.access, { ids: ids501.slice(0, 500), action: 'make_public' })).status).toBe(404);
    const [f] = await files(ana.access, 1);
    const id = (f as FileObject).id;
    expect((await bulk(ana.access, { ids: [], action: 'delete' })).status).toBe(400);
    expect((await bulk(ana.access, { ids: [id], action: 'add_hashtags' })).status).toBe(400);
    expect((await bulk(ana.access, { ids: [id], action: 'add_hashtags', hashtags: '  #  ' })).status).toBe(400);
    expect((await bulk(ana.access, { ids: [id], action: 'set_expiry' })).status).toBe(400);
    expect((await bulk(ana.access, { ids: [id], action: 'rename' })).status).toBe(400);
    expect((await bulk(ana.access, { ids: ['not-an-id'], action: 'delete' })).status).toBe(400);
    const before = await snapshot();
    const tags = Array.from({ length: 21 }, (_, i) => `t${i}`);
    const over = await bulk(ana.access, { ids: [id], action: 'add_hashtags', hashtags: tags });
    expect(over.status).toBe(400);
    expect(await snapshot()).toEqual(before);
    expect((await app.api('POST', '/api/files/bulk/', { body: { ids: [id], action: 'delete' } })).status).toBe(401);
    // The trailing slash is optional, as for every /api path.
    const noSlash = await app.api('POST', '/api/files/bulk', {
      token: ana.access,
      body: { ids: [id], action: 'make_public' },
    });
    expect(noSlash.status).toBe(200);
  });

  it('500 files at once, through the typed tRPC client', async () => {
    // Rows inserted directly (500 uploads would only slow the test down); their bytes do not exist.
    const tag = `many${randomBytes(3).toString('hex')}`;
    const ids = Array.from({ length: 500 }, () => randomUUID());
    await app.deps.db
      .insertInto('files')
      .values(
        ids.map((id, i) => ({
          id,
          owner_id: ana.user.id,
          name: `bulk-${i}.bin`,
          size: 1,
          mime_type: 'application/octet-stream',
          storage_key: `bulk${id.replaceAll('-', '')}`,
          share_token: randomBytes(24).toString('base64url'),
        })),
      )
      .execute();
    const client = trpc(app, ana.access);
    expect(await client.files.bulk.mutate({ ids, action: 'add_hashtags', hashtags: [tag] })).toEqual({
      updated: 500,
    });
    expect((await hashtagCounts(ana.access))[tag]).toBe(500);
    expect(await client.files.bulk.mutate({ ids, action: 'make_public' })).toEqual({ updated: 500 });
    expect((await hashtagCounts())[tag]).toBe(500);
    await expectKeptCountsExact();
    const refused = await trpcError(
      trpc(app, ben.access).files.bulk.mutate({ ids: ids.slice(0, 10), action: 'delete' }),
    );
    expect(refused).toEqual({ status: 404, code: 'not_found' });
    expect(await client.files.bulk.mutate({ ids, action: 'delete' })).toEqual({ updated: 500 });
    expect((await hashtagCounts())[tag]).toBeUndefined();
    await expectKeptCountsExact();
  });
});
