/**
 * Search on name and description (trigram-indexed in PostgreSQL): case-insensitive substring matches on either
 * column (never across the two), LIKE wildcards taken literally, short searches too, newest first with keyset
 * pagination, and the same results on the embedded PGlite used when DATABASE_URL is unset.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  createFile,
  type FileObject,
  type Session,
  startFilesApp,
  stopFilesApp,
  type TestApp,
} from './files-helpers.js';

type Page = { results: FileObject[]; next: string | null };

describe.each([
  { backend: 'PostgreSQL', env: {} as Record<string, string> },
  { backend: 'embedded PGlite', env: { DATABASE_URL: '' } },
])('search on $backend', ({ env }) => {
  let app: TestApp;
  let alice: Session;
  let bob: Session;

  beforeAll(async () => {
    app = await startFilesApp(env);
    [alice, bob] = [await app.login('search-alice@example.com'), await app.login('search-bob@example.com')];
    const make = async (key: string, who: Session, name: string, description: string, isPublic = false) => {
      await createFile(app, who.access, key, { description, is_public: String(isPublic) }, name);
    };
    // Created one after another: newest last.
    await make('map', alice, 'forest-map.png', 'a walk in the woods');
    await make('cake', alice, 'notes.txt', 'Black FOREST cake recipe', true);
    await make('tree', alice, 'tree', 'top of the hill');
    await make('percent', alice, '100% done.txt', 'progress');
    await make('underscore', alice, 'a_b.txt', 'literal underscore');
    await make('forestry', alice, 'Forestry.pdf', '');
    await make('bobPublic', bob, 'forest-public.txt', '', true);
    await make('bobPrivate', bob, 'forest-secret.txt', '');
  }, 120_000);
  afterAll(() => stopFilesApp(app));

  const own = async (query: string, token = alice.access) => {
    const res = await fetch(`${app.url}/api/files/?${query}`, { headers: bearer(token) });
    expect(res.status, query).toBe(200);
    return (await res.json()) as Page;
  };
  const names = (page: Page) => page.results.map((f) => f.name);

  it('matches name or description, case-insensitively, newest first', async () => {
    expect(names(await own('search=forest'))).toEqual(['Forestry.pdf', 'notes.txt', 'forest-map.png']);
    expect(names(await own('search=WOODS'))).toEqual(['forest-map.png']);
    expect(names(await own('search=st%20c'))).toEqual(['notes.txt']);
  });

  it('never matches across the name and the description', async () => {
    // "tree" + "top of the hill": "e t" only exists where the two would meet.
    expect(names(await own('search=e%20t'))).toEqual([]);
    expect(names(await own('search=ee'))).toEqual(['tree']);
  });

  it('takes % and _ literally', async () => {
    expect(names(await own('search=0%25'))).toEqual(['100% done.txt']);
    expect(names(await own('search=a_b'))).toEqual(['a_b.txt']);
    expect(names(await own('search=_'))).toEqual(['a_b.txt']);
  });

  it('short searches (under 3 characters) work too', async () => {
    expect(names(await own('search=fo'))).toEqual(['Forestry.pdf', 'notes.txt', 'forest-map.png']);
  });

  it('pages through the matches with the cursor, none twice', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Page = await own(`search=forest&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.results.length).toBeLessThanOrEqual(1);
      seen.push(...names(page));
      cursor = page.next;
    } while (cursor);
    expect(seen).toEqual(['Forestry.pdf', 'notes.txt', 'forest-map.png']);
  });

  it('own search never shows someone else’s files; public search shows only public files', async () => {
    expect(names(await own('search=forest', bob.access))).toEqual(['forest-secret.txt', 'forest-public.txt']);
    const res = await fetch(`${app.url}/api/public/files/?search=forest`);
    expect(names((await res.json()) as Page)).toEqual(['forest-public.txt', 'notes.txt']);
  });

  it('search and hashtag together', async () => {
    await createFile(app, alice.access, 'x', { hashtags: 'maps', description: 'forest trail' }, 'trail.gpx');
    expect(names(await own('search=forest&hashtag=maps'))).toEqual(['trail.gpx']);
    expect(names(await own('search=woods&hashtag=maps'))).toEqual([]);
  });
});
