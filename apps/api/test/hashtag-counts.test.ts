/**
 * Kept hashtag counts: after a random (seeded) mix of 500 operations through the real API and the expiry sweep
 * (uploads with hashtags and #words, hashtag and description edits, public/private switches, expiries, content
 * replacements, deletions, an admin deleting a hashtag), every count a caller can read (anonymous, each user, the
 * admin's global counts) equals a full recount over the files, and the kept tables equal a recount of the links.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepExpired } from '../src/jobs/delete-expired-files.job.js';
import {
  bearer,
  createFile,
  loginAdmin,
  restUpload,
  type Session,
  startFilesApp,
  stopFilesApp,
  type TestApp,
  trpc,
} from './files-helpers.js';

let app: TestApp;
let users: Session[];
let admin: Session;

/** mulberry32: a small seeded PRNG, so a failure can be replayed. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const SEED = Number(process.env.COUNTS_SEED ?? 20261203);
const random = prng(SEED);
const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)] as T;
const TAGS = ['cats', 'dogs', 'maps', 'food', 'art', 'music', 'code', 'trips'];
const someTags = () => TAGS.filter(() => random() < 0.3);

beforeAll(async () => {
  app = await startFilesApp({ EXPIRY_INTERVAL: '1 hour' });
  users = [];
  for (const name of ['ana', 'ben', 'cai']) users.push(await app.login(`counts-${name}@example.com`));
  admin = await loginAdmin(app, 'counts-admin@example.com');
}, 60_000);
afterAll(() => stopFilesApp(app));

type Visible = Map<string, number>;
const sorted = (m: Visible) => [...m].filter(([, n]) => n > 0).sort(([a], [b]) => a.localeCompare(b));

/** What each caller should see, recounted from the files themselves (compared right after a sweep). */
async function recount(viewerId: string | null): Promise<Visible> {
  const rows = await app.deps.db
    .selectFrom('files')
    .innerJoin('file_hashtags', 'file_hashtags.file_id', 'files.id')
    .innerJoin('hashtags', 'hashtags.id', 'file_hashtags.hashtag_id')
    .select(['hashtags.name', 'files.is_public', 'files.owner_id'])
    .execute();
  const out: Visible = new Map();
  for (const r of rows) {
    if (viewerId === 'admin' || r.is_public || r.owner_id === viewerId) out.set(r.name, (out.get(r.name) ?? 0) + 1);
  }
  return out;
}

async function shown(token?: string): Promise<Visible> {
  const res = await fetch(`${app.url}/api/hashtags/`, { headers: token ? bearer(token) : {} });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { results: { name: string; count: number }[] };
  return new Map(body.results.map((r) => [r.name, r.count]));
}

async function expectCountsExact(label: string) {
  expect(sorted(await shown()), `${label}: anonymous`).toEqual(sorted(await recount(null)));
  for (const u of users) {
    expect(sorted(await shown(u.access)), `${label}: ${u.user.id}`).toEqual(sorted(await recount(u.user.id)));
  }
  const global = await trpc(app, admin.access).admin.hashtags.list.query({});
  expect(sorted(new Map(global.results.map((h) => [h.name, h.file_count]))), `${label}: admin`).toEqual(
    sorted(await recount('admin')),
  );
  // The kept tables themselves, row by row, against a recount of the links.
  const kept = await app.deps.db
    .selectFrom('hashtag_counts')
    .select(['hashtag_id', 'public_count', 'total_count'])
    .where('total_count', '!=', '0')
    .orderBy('hashtag_id')
    .execute();
  const fromLinks = await app.deps.db
    .selectFrom('file_hashtags')
    .innerJoin('files', 'files.id', 'file_hashtags.file_id')
    .groupBy('hashtag_id')
    .select([
      'hashtag_id',
      (eb) => eb.fn.count<string>('file_id').filterWhere('files.is_public', '=', true).as('public_count'),
      (eb) => eb.fn.count<string>('file_id').as('total_count'),
    ])
    .orderBy('hashtag_id')
    .execute();
  expect(kept, `${label}: hashtag_counts`).toEqual(fromLinks);
  const keptPrivate = await app.deps.db
    .selectFrom('hashtag_owner_counts')
    .select(['owner_id', 'hashtag_id', 'private_count'])
    .where('private_count', '!=', '0')
    .orderBy('owner_id')
    .orderBy('hashtag_id')
    .execute();
  const privateFromFiles = await app.deps.db
    .selectFrom('file_hashtags')
    .innerJoin('files', 'files.id', 'file_hashtags.file_id')
    .where('files.is_public', '=', false)
    .groupBy(['files.owner_id', 'hashtag_id'])
    .select(['files.owner_id', 'hashtag_id', (eb) => eb.fn.count<string>('file_id').as('private_count')])
    .orderBy('files.owner_id')
    .orderBy('hashtag_id')
    .execute();
  expect(keptPrivate, `${label}: hashtag_owner_counts`).toEqual(privateFromFiles);
}

describe(`kept hashtag counts (seed ${SEED})`, () => {
  it('equal a full recount after 500 random operations', async () => {
    const files: { id: string; owner: Session }[] = [];
    const tally: Record<string, number> = {};
    const soon = () => new Date(Date.now() + 1_500 + random() * 2_000).toISOString();
    const later = () => new Date(Date.now() + 86_400_000).toISOString();
    for (let op = 0; op < 500; op++) {
      const kind =
        files.length < 10
          ? 'create'
          : pick(['create', 'create', 'tags', 'describe', 'visibility', 'visibility', 'expire', 'replace', 'delete']);
      tally[kind] = (tally[kind] ?? 0) + 1;
      if (kind === 'create') {
        const owner = pick(users);
        const fields: Record<string, string> = {
          hashtags: someTags().join(','),
          is_public: String(random() < 0.5),
          description: random() < 0.3 ? `about #${pick(TAGS)}` : '',
        };
        if (random() < 0.1) fields.expires_at = soon();
        const f = await createFile(app, owner.access, `op ${op}`, fields, `f${op}.txt`);
        files.push({ id: f.id, owner });
        continue;
      }
      const target = pick(files);
      const patch = (body: unknown) =>
        app.api('PATCH', `/api/files/${target.id}/`, { token: target.owner.access, body });
      let status: number;
      if (kind === 'tags') status = (await patch({ hashtags: someTags() })).status;
      else if (kind === 'describe')
        status = (await patch({ description: random() < 0.5 ? `#${pick(TAGS)} x` : '' })).status;
      else if (kind === 'visibility') status = (await patch({ is_public: random() < 0.5 })).status;
      else if (kind === 'expire') status = (await patch({ expires_at: random() < 0.7 ? soon() : later() })).status;
      else if (kind === 'replace') {
        status = (
          await restUpload(app, target.owner.access, `new ${op}`, { method: 'PUT', path: `/api/files/${target.id}/` })
        ).status;
      } else {
        status = (await app.api('DELETE', `/api/files/${target.id}/`, { token: target.owner.access })).status;
        if (status === 204) files.splice(files.indexOf(target), 1);
      }
      // A file that expired (and was swept) meanwhile answers 404 or 410; any other answer is a failure.
      expect([200, 204, 404, 410], `${kind} → ${status}`).toContain(status);
      if (status === 404) files.splice(files.indexOf(target), 1);
      if (op % 100 === 99) {
        // Let every short expiry pass and be swept, so nothing expires while the counts are compared.
        await new Promise((r) => setTimeout(r, 3_600));
        await sweepExpired(app.deps);
        await expectCountsExact(`after op ${op}`);
      }
    }
    // An admin deletes a hashtag: it leaves every file, and every count.
    await trpc(app, admin.access).admin.hashtags.delete.mutate({ name: 'cats' });
    await new Promise((r) => setTimeout(r, 3_600));
    const swept = await sweepExpired(app.deps);
    await expectCountsExact('at the end');
    expect(tally.create).toBeGreaterThan(50);
    expect(swept.files + (tally.expire ?? 0)).toBeGreaterThan(0);
    expect((await shown()).has('cats')).toBe(false);
  }, 240_000);
});
