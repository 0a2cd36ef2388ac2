/**
 * Lean list items: every list (REST own and public, tRPC files.list and public.list, the admin console) carries
 * `stats: {clicks, unique_visitors, last_click_at}` and never the 30-day `daily` history; the single-file object
 * (GET /api/files/{id}/, files.get, stats.file) keeps `daily`. The OpenAPI document says the same.
 */
import { fileListItemSchema, fileSchema } from '@tagdrop/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  createFile,
  download,
  type FileObject,
  loginAdmin,
  type Session,
  startFilesApp,
  stopFilesApp,
  type TestApp,
  trpc,
} from './files-helpers.js';

let app: TestApp;
let alice: Session;
let admin: Session;
let clicked: FileObject;

const LEAN_KEYS = ['clicks', 'last_click_at', 'unique_visitors'];

beforeAll(async () => {
  app = await startFilesApp();
  alice = await app.login('lean-alice@example.com');
  admin = await loginAdmin(app, 'lean-admin@example.com');
  clicked = await createFile(app, alice.access, 'clicked', { is_public: 'true', hashtags: 'lean' }, 'a.txt');
  await createFile(app, alice.access, 'quiet', { is_public: 'true', hashtags: 'lean' }, 'b.txt');
  for (let i = 0; i < 3; i++) {
    const res = await download(clicked.download_url, { 'user-agent': `lean-${i}` });
    expect(res.status).toBe(200);
  }
  // Clicks are counted after the response: wait until the live counters have them.
  for (let i = 0; i < 50; i++) {
    const stats = (await app.deps.stats.totals([clicked.id])).get(clicked.id);
    if (stats?.clicks === 3) break;
    await new Promise((r) => setTimeout(r, 20));
  }
});
afterAll(() => stopFilesApp(app));

const getJson = async (path: string, token?: string) => {
  const res = await fetch(`${app.url}${path}`, { headers: token ? bearer(token) : {} });
  expect(res.status, path).toBe(200);
  return (await res.json()) as { results: FileObject[] };
};

function expectLean(items: { id: string; stats: object }[]) {
  expect(items.length).toBeGreaterThanOrEqual(2);
  for (const item of items) {
    expect(Object.keys(item.stats).sort(), item.id).toEqual(LEAN_KEYS);
    expect(fileListItemSchema.safeParse(item).success).toBe(true);
  }
  const hit = items.find((f) => f.id === clicked.id) as FileObject | undefined;
  expect(hit?.stats).toMatchObject({ clicks: 3, unique_visitors: 3 });
  expect(Date.parse(hit?.stats.last_click_at ?? '')).not.toBeNaN();
}

describe('list items carry click totals without daily', () => {
  it('REST own list and public list', async () => {
    expectLean((await getJson('/api/files/?limit=20', alice.access)).results);
    expectLean((await getJson('/api/public/files/?hashtag=lean')).results);
  });

  it('tRPC files.list, public.list and admin.files.list', async () => {
    expectLean((await trpc(app, alice.access).files.list.query({})).results);
    expectLean((await trpc(app).public.list.query({ hashtag: 'lean' })).results);
    expectLean((await trpc(app, admin.access).admin.files.list.query({ hashtag: 'lean' })).results);
  });
});

describe('the single-file object keeps the 30-day history', () => {
  it('GET /api/files/{id}/ and files.get', async () => {
    const rest = (await (
      await fetch(`${app.url}/api/files/${clicked.id}/`, { headers: bearer(alice.access) })
    ).json()) as FileObject;
    const viaTrpc = await trpc(app, alice.access).files.get.query({ id: clicked.id });
    for (const file of [rest, viaTrpc]) {
      expect(fileSchema.safeParse(file).success).toBe(true);
      expect(file.stats.clicks).toBe(3);
      expect(file.stats.daily).toHaveLength(30);
      expect(file.stats.daily.at(-1)?.clicks).toBe(3);
    }
  });
});

describe('OpenAPI', () => {
  type Schema = { $ref?: string; properties?: Record<string, Schema>; items?: Schema; required?: string[] };
  let doc: {
    paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    components: { schemas: Record<string, Schema> };
  };
  beforeAll(async () => {
    doc = (await (await fetch(`${app.url}/api/openapi.json`)).json()) as typeof doc;
  });
  const resolve = (s: Schema | undefined): Schema | undefined =>
    s?.$ref ? resolve(doc.components.schemas[s.$ref.split('/').pop() as string]) : s;
  const responseSchema = (path: string) => {
    const ok = doc.paths[path]?.get?.responses['200'] as { content?: Record<string, { schema: Schema }> } | undefined;
    return resolve(ok?.content?.['application/json']?.schema);
  };

  it('list responses reference FileListItem, whose stats have no daily', () => {
    for (const path of ['/api/files/', '/api/public/files/']) {
      const item = responseSchema(path)?.properties?.results?.items;
      expect(item?.$ref, path).toMatch(/FileListItem$/);
      const stats = resolve(resolve(item)?.properties?.stats);
      expect(Object.keys(stats?.properties ?? {}).sort(), path).toEqual(LEAN_KEYS);
    }
  });

  it('the single-file response is File, whose stats have daily', () => {
    const file = responseSchema('/api/files/{id}/');
    const stats = resolve(file?.properties?.stats);
    expect(Object.keys(stats?.properties ?? {}).sort()).toEqual([...LEAN_KEYS, 'daily'].sort());
  });
});
