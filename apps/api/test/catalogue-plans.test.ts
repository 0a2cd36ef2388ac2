/**
 * Query plans at a million files (PLAN_SEED_FILES overrides the size): the app's own list queries — captured
 * from the real services as they run against the seeded catalogue — are run again under EXPLAIN (ANALYZE,
 * BUFFERS) and must read about one page of rows, not the catalogue: own list, public list, hashtag pages
 * (public, own, admin) and their next pages. Search must read only its scope's candidates, and the hashtag list
 * must read the kept counts, never files or their links. Asserts on rows and buffers, never on time.
 */
import { createTestDatabase, type TestDatabase } from '@tagdrop/db/testing';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthUser } from '../src/modules/auth/auth.service.js';
import { listFiles } from '../src/modules/files/files.listing.js';
import type { FilesDeps } from '../src/modules/files/files.types.js';
import { listHashtags } from '../src/modules/files/hashtags.service.js';
import { seedCatalogue } from './catalogue-helpers.js';
import { startFilesApp, stopFilesApp, type TestApp } from './files-helpers.js';

// 1,000,000 takes 1–2.5 minutes to seed on the 2-core CI machine; 200,000 keeps CI quick and gives the same plans
// (checked at 1,000,000 with PLAN_SEED_FILES=1000000: see the README's scale section).
const FILES = Number(process.env.PLAN_SEED_FILES ?? 200_000);
let database: TestDatabase;
let app: TestApp;
let pool: pg.Pool;
let deps: FilesDeps;
let caller: AuthUser;
const captured: { sql: string; parameters: readonly unknown[] }[] = [];

beforeAll(async () => {
  database = await createTestDatabase('tagdrop_plans');
  const user = await database.db
    .insertInto('users')
    .values({ email: 'plans-caller@example.com' })
    .returning('id')
    .executeTakeFirstOrThrow();
  caller = { id: user.id, role: 'user' } as AuthUser;
  await seedCatalogue(database.db, { files: FILES, callerId: user.id });
  app = await startFilesApp({ DATABASE_URL: database.url });
  // The app's services on a Kysely that records each query it runs (same database, same SQL).
  pool = new pg.Pool({ connectionString: database.url, max: 2 });
  const db = new Kysely({
    dialect: new PostgresDialect({ pool }),
    log: (event) => {
      if (event.level === 'query') captured.push({ sql: event.query.sql, parameters: event.query.parameters });
    },
  });
  deps = { ...app.deps, db } as FilesDeps;
}, 300_000);
afterAll(async () => {
  await pool?.end();
  await stopFilesApp(app);
  await database?.drop();
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Shared Hit Blocks': number;
  'Shared Read Blocks': number;
  Plans?: PlanNode[];
}
const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];

/** Runs `call`, then EXPLAINs every query it ran against files / file_hashtags / hashtag tables. */
async function plansOf(call: () => Promise<unknown>) {
  captured.length = 0;
  await call();
  const out: { sql: string; scans: PlanNode[]; rowsRead: number; blocks: number }[] = [];
  for (const q of captured) {
    if (!/\bfrom "?(files|file_hashtags|hashtag_counts)"?/i.test(q.sql)) continue;
    const { rows } = await pool.query(`explain (analyze, buffers, format json) ${q.sql}`, q.parameters as unknown[]);
    const root = (rows[0]['QUERY PLAN'] as { Plan: PlanNode }[])[0]?.Plan as PlanNode;
    // Scans of tables and indexes (a Bitmap Index Scan names only its index).
    const scans = nodes(root).filter((n) => n['Relation Name'] !== undefined || n['Index Name'] !== undefined);
    out.push({
      sql: q.sql,
      scans,
      // Rows that came out of tables (index-only bitmap nodes aside).
      rowsRead: scans
        .filter((n) => n['Relation Name'] !== undefined)
        .reduce((sum, n) => sum + n['Actual Rows'] * n['Actual Loops'], 0),
      blocks: root['Shared Hit Blocks'] + root['Shared Read Blocks'],
    });
  }
  expect(out.length).toBeGreaterThan(0);
  return out;
}

const PAGE = 20;
/** A page reads its rows and their links once each, plus the hashtag lookup: about 2–3 × 21 rows. */
const PAGE_ROWS = 3 * (PAGE + 1);
const PAGE_BLOCKS = 400;

async function expectPageSized(label: string, call: () => Promise<{ next: string | null }>) {
  let next: string | null = null;
  for (const page of [1, 2]) {
    const plans = await plansOf(async () => {
      next = (await call()).next;
    });
    for (const p of plans) {
      const where = `${label} page ${page}: ${p.scans.map((s) => `${s['Node Type']} ${s['Index Name'] ?? s['Relation Name']}`).join(', ')}`;
      expect(
        p.scans.some((s) => s['Node Type'] === 'Seq Scan'),
        where,
      ).toBe(false);
      expect(p.rowsRead, where).toBeLessThanOrEqual(PAGE_ROWS);
      expect(p.blocks, where).toBeLessThanOrEqual(PAGE_BLOCKS);
    }
    expect(next, `${label}: a next page exists`).not.toBeNull();
  }
}

describe(`query plans at ${FILES.toLocaleString('en')} files`, () => {
  const url = 'http://plans.test';
  let cursor: string | undefined;
  const pageOf = (scope: Parameters<typeof listFiles>[1], input: Record<string, string | undefined>) => async () => {
    const page = await listFiles(deps, scope, { limit: PAGE, ...input, cursor }, caller, url);
    cursor = page.next ?? undefined;
    return page;
  };

  it('own list', async () => {
    cursor = undefined;
    await expectPageSized('own', pageOf({ kind: 'own', user: caller }, {}));
  });

  it('public list', async () => {
    cursor = undefined;
    await expectPageSized('public', pageOf({ kind: 'public' }, {}));
  });

  it('hashtag page: public, own, and the admin’s', async () => {
    for (const [label, scope] of [
      ['public #tag7', { kind: 'public' }],
      ['own #tag7', { kind: 'own', user: caller }],
      ['admin #tag7', { kind: 'all' }],
    ] as const) {
      cursor = undefined;
      await expectPageSized(label, pageOf(scope, { hashtag: 'tag7' }));
    }
  });

  it('search reads only the candidates of its scope: own files, public files (scoped trigram indexes)', async () => {
    for (const [label, scope, index] of [
      ['own', { kind: 'own', user: caller }, 'files_owner_search_idx'],
      ['public', { kind: 'public' }, 'files_public_search_idx'],
    ] as const) {
      const plans = await plansOf(() => listFiles(deps, scope, { search: 'forest' }, caller, url));
      const search = plans.find((p) => p.scans.some((s) => s['Relation Name'] === 'files'));
      const used = search?.scans.map((s) => s['Index Name']).filter(Boolean);
      const where = `${label}: ${used?.join(', ')}`;
      expect(used, where).toContain(index);
      // Never every one of the owner's (or every public) file beside the candidates, never a table scan.
      expect(used, where).not.toContain('files_owner_created_idx');
      expect(used, where).not.toContain('files_public_created_idx');
      expect(search?.scans.some((s) => s['Node Type'] === 'Seq Scan')).toBe(false);
      // Fewer than 0.2% of the catalogue mention "forest", a tenth of those are the caller's, a fifth public: the
      // scope's candidates are read (100–200 rows at a million files), never the catalogue.
      expect(search?.rowsRead, where).toBeLessThanOrEqual(FILES * 0.002);
      expect(search?.blocks, where).toBeLessThan(Math.max(PAGE_BLOCKS, FILES * 0.0005));
    }
  });

  it('the hashtag list reads the kept counts, never files; of the links only the expired-not-swept ones', async () => {
    for (const viewer of [null, caller]) {
      const plans = await plansOf(() => listHashtags(deps.db, viewer));
      for (const p of plans) {
        expect(p.scans.map((s) => s['Relation Name'])).not.toContain('files');
        // Links are read only through the index of expiring links (none are expired in this catalogue).
        for (const s of p.scans.filter(
          (n) => n['Relation Name'] === 'file_hashtags' || /^file_hashtags/.test(n['Index Name'] ?? ''),
        )) {
          expect(s['Index Name']).toBe('file_hashtags_expires_idx');
          expect(s['Actual Rows']).toBe(0);
        }
      }
      const shown = await listHashtags(deps.db, viewer);
      expect(shown.length).toBeGreaterThan(0);
    }
  });

  it('the seeded catalogue really is that big', async () => {
    const { rows } = await sql<{ n: string }>`select count(*) as n from files`.execute(database.db);
    expect(Number(rows[0]?.n)).toBeGreaterThanOrEqual(FILES);
  });
});
