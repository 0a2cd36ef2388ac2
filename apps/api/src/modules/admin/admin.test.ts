import { createTagdropClient, type TagdropClient } from '@tagdrop/contracts/client';
import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCodes } from '../../../test/auth-helpers.js';
import { startTestApp, type TestApp } from '../../../test/harness.js';

let app: TestApp;
let admin: TagdropClient;
let adminId: string;
let user: TagdropClient;
let userTokens: { access: string; refresh: string; user: { id: string } };
const anonymous = () => createTagdropClient({ url: app.url });

/** The error code the API sent (error.data.code), or the thrown value when it is not a tRPC error. */
async function errorOf(promise: Promise<unknown>): Promise<{ code: string; httpStatus: number; message: string }> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof TRPCClientError) {
      const data = err.data as { code: string; httpStatus: number };
      return { code: data.code, httpStatus: data.httpStatus, message: err.message };
    }
    throw err;
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  app = await startTestApp();
  const first = await app.login('root@example.com');
  adminId = first.user.id;
  await app.deps.db.updateTable('users').set({ role: 'admin' }).where('id', '=', adminId).execute();
  const tokens = await app.login('root@example.com');
  admin = createTagdropClient({ url: app.url, token: tokens.access });
  userTokens = await app.login('alice@example.com');
  user = createTagdropClient({ url: app.url, token: userTokens.access });
});
afterAll(async () => {
  await app?.stop();
});

describe('admin access', () => {
  it('refuses anonymous callers with UNAUTHORIZED', async () => {
    const err = await errorOf(anonymous().admin.users.list.query({}));
    expect(err.code).toBe('unauthorized');
    expect(err.httpStatus).toBe(401);
  });

  it('refuses a logged-in non-admin with FORBIDDEN on every procedure', async () => {
    const calls = [
      () => user.admin.users.list.query({}),
      () => user.admin.users.get.query({ id: adminId }),
      () => user.admin.users.setActive.mutate({ id: adminId, active: false }),
      () => user.admin.users.setRole.mutate({ id: userTokens.user.id, role: 'admin' }),
      () => user.admin.users.create.mutate({ email: 'x@example.com', role: 'admin' }),
      () => user.admin.users.revokeSessions.mutate({ id: adminId }),
      () => user.admin.audit.list.query({}),
      () => user.admin.jobs.overview.query(),
    ];
    for (const call of calls) {
      const err = await errorOf(call());
      expect(err.code).toBe('forbidden');
      expect(err.httpStatus).toBe(403);
    }
    // Nothing changed.
    const me = await app.api<{ role: string }>('GET', '/api/me/', { token: userTokens.access });
    expect(me.body.role).toBe('user');
  });
});

describe('admin.users', () => {
  it('lists users with their open sessions and usage', async () => {
    const page = await admin.admin.users.list.query({});
    const alice = page.results.find((u) => u.email === 'alice@example.com');
    expect(alice).toMatchObject({ role: 'user', is_active: true, sessions_open: 1, file_count: 0, bytes_used: 0 });
    const root = page.results.find((u) => u.id === adminId);
    expect(root).toMatchObject({ role: 'admin', sessions_open: 2 });
    expect(page.next).toBeNull();
  });

  it('filters by search, role and active', async () => {
    const bySearch = await admin.admin.users.list.query({ search: 'ALICE' });
    expect(bySearch.results.map((u) => u.email)).toEqual(['alice@example.com']);
    const admins = await admin.admin.users.list.query({ role: 'admin' });
    expect(admins.results.map((u) => u.email)).toEqual(['root@example.com']);
    const blocked = await admin.admin.users.list.query({ active: false });
    expect(blocked.results).toEqual([]);
    // LIKE wildcards are matched literally.
    const wildcard = await admin.admin.users.list.query({ search: '%' });
    expect(wildcard.results).toEqual([]);
  });

  it('gets one user, and answers not_found for an unknown id', async () => {
    const alice = await admin.admin.users.get.query({ id: userTokens.user.id });
    expect(alice.email).toBe('alice@example.com');
    const err = await errorOf(admin.admin.users.get.query({ id: '00000000-0000-4000-8000-000000000000' }));
    expect(err.code).toBe('not_found');
  });

  it('creates users by email or phone (normalised) and refuses duplicates with conflict', async () => {
    const bob = await admin.admin.users.create.mutate({ email: '  Bob@Example.COM ', role: 'user' });
    expect(bob).toMatchObject({ email: 'bob@example.com', phone: null, role: 'user', is_active: true });
    const phoneUser = await admin.admin.users.create.mutate({ phone: '+1 415 555 2671', role: 'admin' });
    expect(phoneUser).toMatchObject({ phone: '+14155552671', email: null, role: 'admin' });
    // Demote again so the role filter test above stays meaningful for later tests.
    await admin.admin.users.setRole.mutate({ id: phoneUser.id, role: 'user' });

    const dup = await errorOf(admin.admin.users.create.mutate({ email: 'BOB@example.com', role: 'user' }));
    expect(dup.code).toBe('conflict');
    expect(dup.httpStatus).toBe(409);
    const bad = await errorOf(admin.admin.users.create.mutate({ email: 'not-an-email', role: 'user' }));
    expect(bad.code).toBe('invalid_email');
    const both = await errorOf(
      admin.admin.users.create.mutate({ email: 'a@b.co', phone: '+14155552671', role: 'user' }),
    );
    expect(both.code).toBe('validation_error');

    const found = await admin.admin.users.list.query({ search: '415 555' });
    expect(found.results.map((u) => u.phone)).toEqual(['+14155552671']);

    // The created user can log in with the role the admin gave.
    const tokens = await app.login('bob@example.com');
    expect(tokens.user.id).toBe(bob.id);
  });

  it('blocking a user ends their access at once; unblocking lets them log in again', async () => {
    const victim = await app.login('mallory@example.com');
    expect((await app.api('GET', '/api/me/', { token: victim.access })).status).toBe(200);

    const blocked = await admin.admin.users.setActive.mutate({ id: victim.user.id, active: false });
    expect(blocked).toMatchObject({ is_active: false, sessions_open: 0 });

    const me = await app.api('GET', '/api/me/', { token: victim.access });
    expect([401, 403]).toContain(me.status);
    const viaTrpc = await errorOf(createTagdropClient({ url: app.url, token: victim.access }).auth.me.query());
    expect(['invalid_token', 'account_blocked']).toContain(viaTrpc.code);
    const refreshed = await app.api('POST', '/api/token/refresh/', { body: { refresh: victim.refresh } });
    expect(refreshed.status).toBe(401);
    // A blocked person gets the usual answer but no code: the send-otp job closes it instead of sending it.
    const mails = app.mail.items.length;
    const request = await app.api('POST', '/api/otp-login/', { body: { email: 'mallory@example.com' } });
    expect(request.status).toBe(200);
    await expect.poll(() => openCodes(app, 'mallory@example.com'), { timeout: 10_000 }).toBe(0);
    expect(app.mail.items.slice(mails).filter((m) => m.to === 'mallory@example.com')).toHaveLength(0);

    const list = await admin.admin.users.list.query({ active: false });
    expect(list.results.map((u) => u.email)).toEqual(['mallory@example.com']);

    const unblocked = await admin.admin.users.setActive.mutate({ id: victim.user.id, active: true });
    expect(unblocked.is_active).toBe(true);
    const again = await app.login('mallory@example.com');
    expect((await app.api('GET', '/api/me/', { token: again.access })).status).toBe(200);
  });

  it('refuses to let an admin block or demote themselves', async () => {
    const block = await errorOf(admin.admin.users.setActive.mutate({ id: adminId, active: false }));
    expect(block.code).toBe('conflict');
    expect(block.httpStatus).toBe(409);
    const demote = await errorOf(admin.admin.users.setRole.mutate({ id: adminId, role: 'user' }));
    expect(demote.code).toBe('conflict');
    const self = await admin.admin.users.get.query({ id: adminId });
    expect(self).toMatchObject({ role: 'admin', is_active: true });
  });

  it('promotes and demotes, effective on the next request', async () => {
    const promoted = await admin.admin.users.setRole.mutate({ id: userTokens.user.id, role: 'admin' });
    expect(promoted.role).toBe('admin');
    // Alice's existing token now reaches admin procedures.
    await expect(user.admin.users.list.query({ limit: 1 })).resolves.toBeTruthy();
    await admin.admin.users.setRole.mutate({ id: userTokens.user.id, role: 'user' });
    expect((await errorOf(user.admin.users.list.query({}))).code).toBe('forbidden');
  });

  it('revokes all sessions of a user', async () => {
    const carol = await app.login('carol@example.com');
    await app.login('carol@example.com');
    const result = await admin.admin.users.revokeSessions.mutate({ id: carol.user.id });
    expect(result.revoked).toBe(2);
    expect((await app.api('GET', '/api/me/', { token: carol.access })).status).toBe(401);
    const after = await admin.admin.users.get.query({ id: carol.user.id });
    expect(after.sessions_open).toBe(0);
    expect(after.is_active).toBe(true);
  });

  it('pages through users with a keyset cursor, without repeats or gaps', async () => {
    await app.deps.db
      .insertInto('users')
      .values(Array.from({ length: 25 }, (_, i) => ({ email: `page${String(i).padStart(2, '0')}@example.com` })))
      .execute();
    const all = await app.deps.db.selectFrom('users').select('id').execute();
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await admin.admin.users.list.query({ limit: 7, cursor });
      expect(page.results.length).toBeLessThanOrEqual(7);
      seen.push(...page.results.map((u) => u.id));
      cursor = page.next ?? undefined;
      pages++;
    } while (cursor && pages < 20);
    expect(seen.length).toBe(all.length);
    expect(new Set(seen).size).toBe(all.length);
    expect(pages).toBe(Math.ceil(all.length / 7));

    const filtered = await admin.admin.users.list.query({ search: 'page', limit: 10 });
    expect(filtered.results).toHaveLength(10);
    const rest = await admin.admin.users.list.query({ search: 'page', limit: 100, cursor: filtered.next ?? '' });
    expect(rest.results).toHaveLength(15);
    expect(rest.next).toBeNull();

    const tooMany = await errorOf(admin.admin.users.list.query({ limit: 101 }));
    expect(tooMany.code).toBe('validation_error');
    const badCursor = await errorOf(admin.admin.users.list.query({ cursor: 'garbage' }));
    expect(badCursor.code).toBe('validation_error');
  });
});

async function upload(
  token: string,
  name: string,
  content: string,
  fields: { description?: string; hashtags?: string; is_public?: boolean } = {},
): Promise<{ id: string; size: number }> {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) form.append(key, String(value));
  form.append('file', new Blob([content], { type: 'text/plain' }), name);
  const res = await fetch(`${app.url}/api/files/`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; size: number };
}

describe('admin.files and admin.hashtags', () => {
  let owner: { access: string; user: { id: string } };
  let privateFile: { id: string; size: number };
  let publicFile: { id: string; size: number };

  beforeAll(async () => {
    owner = await app.login('uploader@example.com');
    privateFile = await upload(owner.access, 'secret-plans.txt', 'top secret content', {
      description: 'Quarterly #plans',
      hashtags: 'internal',
      is_public: false,
    });
    publicFile = await upload(owner.access, 'hello.txt', 'hello world', {
      hashtags: 'internal,greeting',
      is_public: true,
    });
  });

  it('gives instance-wide counts', async () => {
    const o = await admin.admin.overview.query();
    expect(o.files).toMatchObject({
      total: 2,
      public: 1,
      private: 1,
      expired: 0,
      bytes: privateFile.size + publicFile.size,
    });
    expect(o.hashtags).toBe(3);
    expect(o.users.admins).toBeGreaterThanOrEqual(1);
    expect(o.users.total).toBeGreaterThan(o.users.admins);
    expect(o.users.active_30d).toBeGreaterThan(0);
    expect(o.sessions_open).toBeGreaterThan(0);
    expect((await errorOf(user.admin.overview.query())).code).toBe('forbidden');
  });

  it('counts files and bytes per user', async () => {
    const user = await admin.admin.users.get.query({ id: owner.user.id });
    expect(user.file_count).toBe(2);
    expect(user.bytes_used).toBe(privateFile.size + publicFile.size);
  });

  it("lists everyone's files, private ones included, with their owner, and filters them", async () => {
    const all = await admin.admin.files.list.query({});
    const secret = all.results.find((f) => f.id === privateFile.id);
    expect(secret).toMatchObject({
      name: 'secret-plans.txt',
      is_public: false,
      owner: { id: owner.user.id, email: 'uploader@example.com', phone: null },
    });
    expect(secret?.share_url).toMatch(/\/s\//);
    expect(secret?.hashtags.sort()).toEqual(['internal', 'plans']);

    const byOwner = await admin.admin.files.list.query({ owner_id: adminId });
    expect(byOwner.results).toEqual([]);
    const byTag = await admin.admin.files.list.query({ hashtag: '#Greeting' });
    expect(byTag.results.map((f) => f.id)).toEqual([publicFile.id]);
    const bySearch = await admin.admin.files.list.query({ search: 'quarterly' });
    expect(bySearch.results.map((f) => f.id)).toEqual([privateFile.id]);

    const first = await admin.admin.files.list.query({ limit: 1 });
    expect(first.results).toHaveLength(1);
    const second = await admin.admin.files.list.query({ limit: 1, cursor: first.next ?? '' });
    expect(second.results).toHaveLength(1);
    expect(second.results[0]?.id).not.toBe(first.results[0]?.id);

    expect((await errorOf(user.admin.files.list.query({}))).code).toBe('forbidden');
  });

  it('lists every hashtag with its file count, and deletes one from all files', async () => {
    const tags = await admin.admin.hashtags.list.query();
    expect(tags.results.find((t) => t.name === 'internal')?.file_count).toBe(2);
    expect(tags.results.find((t) => t.name === 'plans')?.file_count).toBe(1);
    const searched = await admin.admin.hashtags.list.query({ search: 'gree' });
    expect(searched.results.map((t) => t.name)).toEqual(['greeting']);

    const deleted = await admin.admin.hashtags.delete.mutate({ name: '#Internal' });
    expect(deleted).toEqual({ name: 'internal', unlinked: 2 });
    const after = await admin.admin.hashtags.list.query();
    expect(after.results.map((t) => t.name)).not.toContain('internal');
    const mine = await app.api<{ hashtags: string[] }>('GET', `/api/files/${privateFile.id}/`, { token: owner.access });
    expect(mine.body.hashtags).toEqual(['plans']);

    const missing = await errorOf(admin.admin.hashtags.delete.mutate({ name: 'internal' }));
    expect(missing.code).toBe('not_found');
    expect((await errorOf(user.admin.hashtags.delete.mutate({ name: 'plans' }))).code).toBe('forbidden');
    const entries = await admin.admin.audit.list.query({ action: 'hashtag.deleted' });
    expect(entries.results[0]).toMatchObject({ target_id: 'internal', meta: { files: 2 }, actor_id: adminId });
  });

  it("deletes anyone's file through the files service: gone for the owner and for downloads, audited", async () => {
    const result = await admin.admin.files.delete.mutate({ id: privateFile.id });
    expect(result.detail).toBeTruthy();
    expect((await app.api('GET', `/api/files/${privateFile.id}/`, { token: owner.access })).status).toBe(404);
    expect(
      (await fetch(`${app.url}/f/${privateFile.id}`, { headers: { authorization: `Bearer ${owner.access}` } })).status,
    ).toBe(404);
    expect((await errorOf(admin.admin.files.delete.mutate({ id: privateFile.id }))).code).toBe('not_found');
    expect((await errorOf(user.admin.files.delete.mutate({ id: publicFile.id }))).code).toBe('forbidden');

    const entries = await admin.admin.audit.list.query({ action: 'file.deleted' });
    expect(entries.results[0]).toMatchObject({ actor_id: adminId, target_id: privateFile.id });
    const counted = await admin.admin.users.get.query({ id: owner.user.id });
    expect(counted).toMatchObject({ file_count: 1, bytes_used: publicFile.size });
  });
});

describe('admin.audit', () => {
  it('records every admin change with the actor', async () => {
    const page = await admin.admin.audit.list.query({ action: 'user.' });
    const actions = page.results.map((e) => e.action);
    for (const action of [
      'user.created',
      'user.blocked',
      'user.unblocked',
      'user.role_changed',
      'user.sessions_revoked',
    ]) {
      expect(actions).toContain(action);
    }
    const blocked = page.results.find((e) => e.action === 'user.blocked');
    expect(blocked).toMatchObject({
      actor_id: adminId,
      actor_email: 'root@example.com',
      target_type: 'user',
      target_label: 'mallory@example.com',
    });
    const role = page.results.find((e) => e.action === 'user.role_changed');
    expect(role?.meta).toMatchObject({ from: expect.any(String), to: expect.any(String) });
    // Refused changes leave no trace.
    expect(page.results.filter((e) => e.target_id === adminId && e.action === 'user.blocked')).toEqual([]);
  });

  it('filters by exact action and actor, newest first, and pages', async () => {
    const logins = await admin.admin.audit.list.query({ action: 'auth.login', actor_id: adminId });
    expect(logins.results.length).toBe(2);
    expect(logins.results.every((e) => e.action === 'auth.login' && e.actor_id === adminId)).toBe(true);

    const all: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await admin.admin.audit.list.query({ limit: 5, cursor });
      all.push(...page.results.map((e) => e.id));
      const times = page.results.map((e) => e.created_at);
      expect([...times].sort().reverse()).toEqual(times);
      cursor = page.next ?? undefined;
    } while (cursor);
    const total = await app.deps.db
      .selectFrom('audit_log')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    expect(all.length).toBe(Number(total.n));
    expect(new Set(all).size).toBe(all.length);
  });
});

describe('admin.jobs', () => {
  it('shows counts per job name and the recent failures', async () => {
    // The SMS gateway is down: the send-otp job fails (and is retried later).
    app.smsControl.failNext = 1000;
    try {
      const requested = await app.api('POST', '/api/otp-login/', { body: { phone: '+442071838750' } });
      expect(requested.status).toBe(200);
      let overview = await admin.admin.jobs.overview.query();
      for (let i = 0; i < 50 && overview.recent_failures.length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        overview = await admin.admin.jobs.overview.query();
      }
      const failure = overview.recent_failures[0];
      expect(failure).toMatchObject({ name: 'send-otp', fail_count: expect.any(Number) });
      expect(failure?.fail_reason).toBeTruthy();
      expect(failure?.failed_at).toBeTruthy();
      // Payloads (addresses, sealed codes) are never shown.
      expect(JSON.stringify(overview)).not.toContain('2071838750');
      const sendOtp = overview.jobs.find((j) => j.name === 'send-otp');
      expect(sendOtp).toMatchObject({ known: true, schedule: null });
      expect(sendOtp?.total).toBeGreaterThan(0);
      expect(sendOtp?.failed).toBeGreaterThan(0);
    } finally {
      app.smsControl.failNext = 0;
    }
  });
});
