/**
 * Session changes take effect at once on every instance, while authentication itself reads no database (issue 9):
 * two API instances share one PostgreSQL database, one Redis and one key prefix, as behind a load balancer. Runs
 * against TEST_REDIS_URL (a single Redis or a Redis Cluster). Without REDIS_URL, the in-process cache behaves the same
 * within one process.
 */
import { createTagdropClient } from '@tagdrop/contracts/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticate } from '../src/modules/auth/auth.service.js';
import { recordQueries, stopWhenIdle } from './auth-helpers.js';
import { startTestApp, type TestApp } from './harness.js';

type ErrorBody = { error: { code: string } };

let a: TestApp;
let b: TestApp;
let local: TestApp;
let adminToken: string;

beforeAll(async () => {
  [a, local] = await Promise.all([startTestApp(), startTestApp({ REDIS_URL: '' })]);
  b = await startTestApp({}, { shareWith: a });
  await a.deps.db.insertInto('users').values({ email: 'boss@example.com', role: 'admin' }).execute();
  adminToken = (await a.login('boss@example.com')).access;
});
afterAll(async () => {
  await stopWhenIdle(b);
  await Promise.all([a, local].map(stopWhenIdle));
});

const me = (app: TestApp, token: string) => app.api<ErrorBody & { role: string }>('GET', '/api/me/', { token });
const adminOn = (app: TestApp) => createTagdropClient({ url: app.url, token: adminToken });
/** Logs in on `on` and checks the token works on both instances (so B has it cached as open). */
async function loggedIn(email: string, on = a) {
  const tokens = await on.login(email);
  expect((await me(a, tokens.access)).status).toBe(200);
  expect((await me(b, tokens.access)).status).toBe(200);
  return tokens;
}
async function refused(app: TestApp, token: string) {
  const res = await me(app, token);
  expect(res.status).toBe(401);
  expect(res.body.error.code).toBe('invalid_token');
}

describe('two instances', () => {
  it('authenticating a known session reads no database: one cache read', async () => {
    const tokens = await loggedIn('fast@example.com');
    const recorder = recordQueries(b);
    try {
      for (let i = 0; i < 5; i++) {
        expect((await authenticate(b.deps, tokens.access)).id).toBe(tokens.user.id);
      }
    } finally {
      recorder.stop();
    }
    expect(recorder.sql).toEqual([]);
  });

  it('logout on A: the token is refused on B at once', async () => {
    const tokens = await loggedIn('logout@example.com');
    expect((await a.api('POST', '/api/logout/', { token: tokens.access })).status).toBe(200);
    await refused(b, tokens.access);
    await refused(a, tokens.access);
  });

  it('logout with only the refresh token on B: refused on A at once', async () => {
    const tokens = await loggedIn('logout-refresh@example.com');
    expect((await b.api('POST', '/api/logout/', { body: { refresh: tokens.refresh } })).status).toBe(200);
    await refused(a, tokens.access);
  });

  it('ending another of my sessions on A: refused on B; this one keeps working', async () => {
    const laptop = await loggedIn('two-devices@example.com');
    const phone = await loggedIn('two-devices@example.com');
    const client = createTagdropClient({ url: a.url, token: laptop.access });
    const other = (await client.auth.sessions.query()).results.find((s) => !s.current);
    await client.auth.revokeSession.mutate({ id: other?.id ?? '' });
    await refused(b, phone.access);
    expect((await me(b, laptop.access)).status).toBe(200);
  });

  it('blocking on A: every session refused on B at once, and refresh too; unblocking lets them back in', async () => {
    const one = await loggedIn('blocked@example.com');
    const two = await loggedIn('blocked@example.com');
    await adminOn(a).admin.users.setActive.mutate({ id: one.user.id, active: false });
    await refused(b, one.access);
    await refused(b, two.access);
    expect((await b.api('POST', '/api/token/refresh/', { body: { refresh: two.refresh } })).status).toBe(401);

    await adminOn(a).admin.users.setActive.mutate({ id: one.user.id, active: true });
    await refused(b, one.access); // its sessions stay ended
    expect((await me(b, (await b.login('blocked@example.com')).access)).status).toBe(200);
  });

  it("an admin revoking someone's sessions on A: refused on B at once", async () => {
    const tokens = await loggedIn('revoked@example.com');
    expect(await adminOn(a).admin.users.revokeSessions.mutate({ id: tokens.user.id })).toEqual({ revoked: 1 });
    await refused(b, tokens.access);
  });

  it('refresh-token reuse detected on A: the whole session is refused on B at once', async () => {
    const first = await loggedIn('reuse@example.com');
    const rotated = await a.api<{ access: string; refresh: string }>('POST', '/api/token/refresh/', {
      body: { refresh: first.refresh },
    });
    expect((await me(b, rotated.body.access)).status).toBe(200);
    const reuse = await a.api<ErrorBody>('POST', '/api/token/refresh/', { body: { refresh: first.refresh } });
    expect(reuse.body.error.code).toBe('token_reused');
    await refused(b, rotated.body.access);
  });

  it('a promotion and a demotion on A apply on B at once', async () => {
    const tokens = await loggedIn('climber@example.com');
    const onB = createTagdropClient({ url: b.url, token: tokens.access });
    const forbidden = await onB.admin.overview.query().catch((e) => e);
    expect(forbidden.data.code).toBe('forbidden');

    await adminOn(a).admin.users.setRole.mutate({ id: tokens.user.id, role: 'admin' });
    expect((await onB.admin.overview.query()).users.total).toBeGreaterThan(0);
    expect((await me(b, tokens.access)).body.role).toBe('admin');

    await adminOn(a).admin.users.setRole.mutate({ id: tokens.user.id, role: 'user' });
    expect((await onB.admin.overview.query().catch((e) => e)).data.code).toBe('forbidden');
  });
});

describe('without REDIS_URL (in-process cache, one process)', () => {
  it('logout, blocking and demotion take effect at once, and a known session reads no database', async () => {
    const tokens = await local.login('local@example.com');
    expect((await me(local, tokens.access)).status).toBe(200);
    const recorder = recordQueries(local);
    try {
      await authenticate(local.deps, tokens.access);
    } finally {
      recorder.stop();
    }
    expect(recorder.sql).toEqual([]);

    expect((await local.api('POST', '/api/logout/', { token: tokens.access })).status).toBe(200);
    await refused(local, tokens.access);

    await local.deps.db.insertInto('users').values({ email: 'local-boss@example.com', role: 'admin' }).execute();
    const boss = createTagdropClient({ url: local.url, token: (await local.login('local-boss@example.com')).access });
    const victim = await local.login('local-victim@example.com');
    expect((await me(local, victim.access)).status).toBe(200);
    await boss.admin.users.setActive.mutate({ id: victim.user.id, active: false });
    await refused(local, victim.access);

    const promoted = await local.login('local-admin@example.com');
    await boss.admin.users.setRole.mutate({ id: promoted.user.id, role: 'admin' });
    expect((await me(local, promoted.access)).body.role).toBe('admin');
    await boss.admin.users.setRole.mutate({ id: promoted.user.id, role: 'user' });
    expect((await me(local, promoted.access)).body.role).toBe('user');
  });
});
