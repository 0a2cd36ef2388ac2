/**
 * Small files are served from memory once read: what a client downloads always follows the file's current
 * state — new content after a replace, 404 once private (anonymous) or deleted, 410 once expired — and Range
 * requests slice the same bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  createFile,
  download,
  restUpload,
  type Session,
  startFilesApp,
  stopFilesApp,
  type TestApp,
} from './files-helpers.js';

let app: TestApp;
let alice: Session;

beforeAll(async () => {
  app = await startFilesApp();
  alice = await app.login('small-alice@example.com');
});
afterAll(() => stopFilesApp(app));

describe('small downloads', () => {
  it('follow replace, Range, private and delete at once', async () => {
    const f = await createFile(app, alice.access, 'first version', { is_public: 'true' }, 'v.txt');
    for (let i = 0; i < 3; i++) expect((await download(f.download_url)).body.toString()).toBe('first version');
    const part = await download(f.download_url, { range: 'bytes=6-12' });
    expect(part.status).toBe(206);
    expect(part.body.toString()).toBe('version');

    const replaced = await restUpload(app, alice.access, 'second one', { method: 'PUT', path: `/api/files/${f.id}/` });
    expect(replaced.status).toBe(200);
    expect((await download(f.download_url)).body.toString()).toBe('second one');

    const hidden = await app.api('PATCH', `/api/files/${f.id}/`, { token: alice.access, body: { is_public: false } });
    expect(hidden.status).toBe(200);
    expect((await download(f.download_url)).status).toBe(404);
    expect((await download(f.download_url, bearer(alice.access))).body.toString()).toBe('second one');

    expect((await app.api('DELETE', `/api/files/${f.id}/`, { token: alice.access })).status).toBe(204);
    expect((await download(f.download_url, bearer(alice.access))).status).toBe(404);
  });

  it('an expired small file answers 410 even after it was served from memory', async () => {
    const expires = new Date(Date.now() + 1_500).toISOString();
    const f = await createFile(app, alice.access, 'short-lived', { is_public: 'true', expires_at: expires }, 's.txt');
    expect((await download(f.download_url)).body.toString()).toBe('short-lived');
    await new Promise((r) => setTimeout(r, 1_700));
    expect((await download(f.download_url)).status).toBe(410);
  });
});
