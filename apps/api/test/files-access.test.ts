/**
 * Who sees what, on every route: owner, another user, anonymous, admin; private and public files. A private
 * file never leaks through /f/{id}, listings, hashtag counts, public.get or REST (others get 404, not 403).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  createFile,
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

let app: TestApp;
let owner: Session;
let other: Session;
let admin: Session;
let priv: FileObject;
let pub: FileObject;

type Who = 'owner' | 'other' | 'anonymous' | 'admin';
const WHO: Who[] = ['owner', 'other', 'anonymous', 'admin'];
const tokenOf = (who: Who) =>
  ({ owner: owner.access, other: other.access, admin: admin.access, anonymous: undefined })[who];

beforeAll(async () => {
  app = await startFilesApp();
  [owner, other, admin] = await Promise.all([
    app.login('acc-owner@example.com'),
    app.login('acc-other@example.com'),
    loginAdmin(app, 'acc-admin@example.com'),
  ]);
  priv = await createFile(app, owner.access, 'private bytes', { hashtags: 'secretproject,shared' }, 'private.txt');
  pub = await createFile(app, owner.access, 'public bytes', { hashtags: 'shared', is_public: 'true' }, 'public.txt');
});
afterAll(() => stopFilesApp(app));

const status = async (url: string, token?: string, method = 'GET') =>
  (await fetch(`${app.url}${url}`, { method, headers: token ? bearer(token) : {} })).status;

describe('a private file', () => {
  // owner and admin may manage it; the other user gets 404; anonymous 401.
  const expected: Record<Who, number> = { owner: 200, admin: 200, other: 404, anonymous: 401 };

  for (const who of WHO) {
    it(`tRPC files.get / update / rotateLink / delete as ${who}`, async () => {
      const token = tokenOf(who);
      const client = trpc(app, token);
      if (expected[who] === 200) {
        const got = (await client.files.get.query({ id: priv.id })) as FileObject;
        expect(got.share_url).toMatch(/\/s\//);
        const updated = await client.files.update.mutate({ id: priv.id, description: `seen by ${who}` });
        expect(updated.description).toBe(`seen by ${who}`);
        const rotated = await client.files.rotateLink.mutate({ id: priv.id });
        expect(rotated.share_url).not.toBe(got.share_url);
        priv = { ...priv, share_url: rotated.share_url };
      } else {
        // One call at a time: a rejection must never sit un-awaited while an earlier call is checked.
        for (const call of [
          () => client.files.get.query({ id: priv.id }),
          () => client.files.update.mutate({ id: priv.id, description: 'hacked', is_public: true }),
          () => client.files.rotateLink.mutate({ id: priv.id }),
          () => client.files.delete.mutate({ id: priv.id }),
        ]) {
          expect((await trpcError(call())).status).toBe(expected[who]);
        }
        const still = await trpc(app, owner.access).files.get.query({ id: priv.id });
        expect(still.is_public).toBe(false);
        expect(still.description).not.toBe('hacked');
      }
    });

    it(`REST GET/PATCH/PUT/DELETE /api/files/{id}/ as ${who}`, async () => {
      const token = tokenOf(who);
      const get = await app.api<FileObject>('GET', `/api/files/${priv.id}/`, { token });
      expect(get.status).toBe(expected[who]);
      const patch = await app.api<FileObject>('PATCH', `/api/files/${priv.id}/`, {
        token,
        body: { hashtags: ['secretproject', 'shared', who] },
      });
      expect(patch.status).toBe(expected[who]);
      const put = await app.api<FileObject>('PUT', `/api/files/${priv.id}/`, { token, body: { name: 'private.txt' } });
      expect(put.status).toBe(expected[who]);
      if (expected[who] !== 200) {
        expect((await app.api('DELETE', `/api/files/${priv.id}/`, { token })).status).toBe(expected[who]);
        // 404 does not say "forbidden"; the body is the same as for a file that does not exist.
        const ghost = await app.api('GET', '/api/files/00000000-0000-4000-8000-000000000000/', { token });
        expect(get.body).toEqual(ghost.body);
      }
    });

    it(`/f/{id} and public.get as ${who}`, async () => {
      const token = tokenOf(who);
      const f = await status(`/f/${priv.id}`, token);
      expect(f).toBe(who === 'owner' || who === 'admin' ? 200 : 404);
      expect(await status(`/f/${priv.id}`, token, 'HEAD')).toBe(f);
      const pg = await trpcError(trpc(app, token).public.get.query({ id: priv.id }));
      expect(pg.status).toBe(404);
    });

    it(`listings and hashtag counts as ${who} never show another person's private file`, async () => {
      const token = tokenOf(who);
      const client = trpc(app, token);
      const publicList = await client.public.list.query({ limit: 100 });
      expect(publicList.results.map((f) => f.id)).not.toContain(priv.id);
      const publicByTag = await client.public.list.query({ hashtag: 'secretproject' });
      expect(publicByTag.results).toEqual([]);
      const rest = await app.api<{ results: FileObject[] }>('GET', '/api/public/files/?hashtag=shared', { token });
      expect(rest.body.results.map((f) => f.id)).toEqual([pub.id]);
      const tags = await client.hashtags.list.query();
      const count = (n: string) => tags.results.find((t) => t.name === n)?.count ?? 0;
      if (who === 'owner') {
        expect(count('secretproject')).toBe(1);
        expect(count('shared')).toBe(2);
      } else {
        // Admins manage files in the admin console; the public hashtag listing counts what is visible to them
        // as a user: public files and their own.
        expect(count('secretproject')).toBe(0);
        expect(count('shared')).toBe(1);
      }
      if (token) {
        const own = await client.files.list.query({ hashtag: 'secretproject' });
        expect(own.results.map((f) => f.id)).toEqual(who === 'owner' ? [priv.id] : []);
        const ownRest = await app.api<{ results: FileObject[] }>('GET', '/api/files/?hashtag=shared', { token });
        expect(ownRest.body.results.map((f) => f.id).sort()).toEqual(who === 'owner' ? [priv.id, pub.id].sort() : []);
      } else {
        expect((await trpcError(client.files.list.query({ hashtag: 'secretproject' }))).status).toBe(401);
      }
    });
  }

  it('the share link works for everyone; rotateLink kills the old one at once', async () => {
    const link = sharePath(priv.share_url as string);
    for (const who of WHO) expect(await status(link, tokenOf(who)), who).toBe(200);
    const rotated = await trpc(app, owner.access).files.rotateLink.mutate({ id: priv.id });
    expect(await status(link)).toBe(404);
    expect(await status(link, owner.access, 'HEAD')).toBe(404);
    expect(await status(sharePath(rotated.share_url as string))).toBe(200);
    priv = { ...priv, share_url: rotated.share_url };
  });

  it('share_url is shown to owner and admin only (public.byToken as anonymous gets none)', async () => {
    const token = new URL(priv.share_url as string).pathname.split('/').pop() as string;
    const seen = await trpc(app).public.byToken.query({ token });
    expect(seen.id).toBe(priv.id);
    expect(seen.share_url).toBeNull();
    const seenByOther = await trpc(app, other.access).public.byToken.query({ token });
    expect(seenByOther.share_url).toBeNull();
    const byAdmin = await trpc(app, admin.access).files.get.query({ id: priv.id });
    expect(byAdmin.share_url).toBe(priv.share_url);
  });
});

describe('a public file', () => {
  it('is readable by everyone at /f/{id}, public.get and public.list; share_url is null', async () => {
    for (const who of WHO) {
      const token = tokenOf(who);
      expect(await status(`/f/${pub.id}`, token), who).toBe(200);
      const got = await trpc(app, token).public.get.query({ id: pub.id });
      expect(got.share_url).toBeNull();
      const list = await trpc(app, token).public.list.query({ hashtag: 'shared' });
      expect(list.results.map((f) => f.id)).toEqual([pub.id]);
    }
  });

  it('can still be managed only by owner and admin', async () => {
    for (const who of ['other', 'anonymous'] as Who[]) {
      const token = tokenOf(who);
      expect((await app.api('PATCH', `/api/files/${pub.id}/`, { token, body: { name: 'x' } })).status).toBe(
        who === 'other' ? 404 : 401,
      );
      expect((await app.api('DELETE', `/api/files/${pub.id}/`, { token })).status).toBe(who === 'other' ? 404 : 401);
      const err = await trpcError(trpc(app, token).files.update.mutate({ id: pub.id, name: 'x' }));
      expect(err.status).toBe(who === 'other' ? 404 : 401);
    }
    const byAdmin = await app.api<FileObject>('PATCH', `/api/files/${pub.id}/`, {
      token: admin.access,
      body: { description: 'admin was here' },
    });
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body.share_url).toBeNull();
  });

  it('making a private file public: the old share link dies (404), /f/{id} opens; and back', async () => {
    const f = await createFile(app, owner.access, 'flip', {}, 'flip.txt');
    const oldLink = sharePath(f.share_url as string);
    const made = await trpc(app, owner.access).files.update.mutate({ id: f.id, is_public: true });
    expect(made.share_url).toBeNull();
    expect(await status(oldLink)).toBe(404);
    expect(await status(`/f/${f.id}`)).toBe(200);
    const back = await trpc(app, owner.access).files.update.mutate({ id: f.id, is_public: false });
    expect(back.share_url).toMatch(/\/s\//);
    expect(await status(`/f/${f.id}`)).toBe(404);
    expect(await status(sharePath(back.share_url as string))).toBe(200);
  });
});

describe('deletion by role', () => {
  it('admin may delete anyone’s file over tRPC; other users may not', async () => {
    const f = await createFile(app, owner.access, 'to delete', {}, 'del.txt');
    expect((await trpcError(trpc(app, other.access).files.delete.mutate({ id: f.id }))).status).toBe(404);
    await trpc(app, admin.access).files.delete.mutate({ id: f.id });
    expect((await trpcError(trpc(app, owner.access).files.get.query({ id: f.id }))).status).toBe(404);
    expect(await status(sharePath(f.share_url as string))).toBe(404);
  });

  it('owner deletes over REST; admin deletes over REST', async () => {
    const a = await createFile(app, owner.access, 'a');
    const b = await createFile(app, owner.access, 'b');
    expect((await app.api('DELETE', `/api/files/${a.id}/`, { token: owner.access })).status).toBe(204);
    expect((await app.api('DELETE', `/api/files/${b.id}/`, { token: admin.access })).status).toBe(204);
    expect(await status(`/f/${a.id}`, owner.access)).toBe(404);
    expect(await status(`/f/${b.id}`, owner.access)).toBe(404);
  });
});
