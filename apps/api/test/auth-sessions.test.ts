/**
 * Sessions over real HTTP: refresh rotation with reuse detection, logout, listing and ending one's own
 * sessions, blocked users, the admin role.
 */
import { createTagdropClient } from '@tagdrop/contracts/client';
import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setUserActive } from '../src/modules/auth/auth.service.js';
import { openCodes, stopWhenIdle } from './auth-helpers.js';
import { codeFrom, startTestApp, type TestApp } from './harness.js';

type ErrorBody = { error: { code: string; message: string } };
type Pair = { access: string; refresh: string };

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await stopWhenIdle(app);
});

const me = (token: string) =>
  app.api<{ id: string; email: string; role: string } & ErrorBody>('GET', '/api/me/', { token });
const refresh = (token: string) =>
  app.api<Pair & ErrorBody>('POST', '/api/token/refresh/', { body: { refresh: token } });

async function expect401(res: Promise<{ status: number; body: ErrorBody }>, code = 'invalid_token') {
  const r = await res;
  expect(r.status).toBe(401);
  expect(r.body.error.code).toBe(code);
}

describe('refresh', () => {
  it('rotates: each refresh gives a new working pair', async () => {
    const first = await app.login('rotate@example.com');
    const second = await refresh(first.refresh);
    expect(second.status).toBe(200);
    expect(second.body.refresh).not.toBe(first.refresh);
    expect(second.body.access).not.toBe(first.access);
    expect((await me(second.body.access)).body.email).toBe('rotate@example.com');

    // tRPC auth.refresh rotates the same way.
    const client = createTagdropClient({ url: app.url });
    const third = await client.auth.refresh.mutate({ refresh: second.body.refresh });
    expect(third.refresh).not.toBe(second.body.refresh);
    const authed = createTagdropClient({ url: app.url, token: third.access });
    expect((await authed.auth.me.query()).email).toBe('rotate@example.com');
  });

  it('detects reuse: an already rotated token ends the whole session', async () => {
    const first = await app.login('reuse-refresh@example.com');
    const second = (await refresh(first.refresh)).body;
    const third = (await refresh(second.refresh)).body;
    expect((await me(third.access)).status).toBe(200);

    // The thief (or the victim) presents an old token.
    await expect401(refresh(first.refresh), 'token_reused');
    // Now nothing of that session works: not the newest refresh token, not any access token.
    await expect401(refresh(third.refresh));
    await expect401(me(third.access));
    await expect401(me(first.access));
    const session = await app.deps.db
      .selectFrom('sessions')
      .select(['revoked_at', 'revoked_reason'])
      .where('user_id', '=', first.user.id)
      .executeTakeFirstOrThrow();
    expect(session.revoked_at).not.toBeNull();

    // Logging in again starts a fresh session.
    const again = await app.login('reuse-refresh@example.com');
    expect((await me(again.access)).status).toBe(200);
  });

  it('refuses unknown refresh tokens', async () => {
    await expect401(refresh('not-a-real-refresh-token'));
    const short = await app.api<ErrorBody>('POST', '/api/token/refresh/', { body: { refresh: '' } });
    expect(short.status).toBe(400);
    expect(short.body.error.code).toBe('validation_error');
  });
});

describe('logout', () => {
  it('with the access token: that access token and the refresh token stop working at once', async () => {
    const tokens = await app.login('logout@example.com');
    expect((await me(tokens.access)).status).toBe(200);
    // Like `curl -X POST -H "Authorization: Bearer $ACCESS" /api/logout/`: no body at all.
    const out = await app.api<{ detail: string }>('POST', '/api/logout/', { token: tokens.access });
    expect(out.status).toBe(200);
    expect(out.body.detail).toEqual(expect.any(String));
    await expect401(me(tokens.access));
    await expect401(refresh(tokens.refresh));
  });

  it('with only the refresh token in the body', async () => {
    const tokens = await app.login('logout-refresh@example.com');
    const out = await app.api('POST', '/api/logout/', { body: { refresh: tokens.refresh } });
    expect(out.status).toBe(200);
    await expect401(me(tokens.access));
    await expect401(refresh(tokens.refresh));
  });

  it('through tRPC auth.logout', async () => {
    const tokens = await app.login('logout-trpc@example.com');
    const client = createTagdropClient({ url: app.url, token: tokens.access });
    await client.auth.logout.mutate({});
    await expect401(me(tokens.access));
  });

  it('ends only the session it belongs to', async () => {
    const laptop = await app.login('two-devices@example.com');
    const phone = await app.login('two-devices@example.com');
    expect((await app.api('POST', '/api/logout/', { token: laptop.access, body: {} })).status).toBe(200);
    await expect401(me(laptop.access));
    expect((await me(phone.access)).status).toBe(200);
    expect((await refresh(phone.refresh)).status).toBe(200);
  });

  it('without any token answers 401', async () => {
    const out = await app.api<ErrorBody>('POST', '/api/logout/', { body: {} });
    expect(out.status).toBe(401);
    expect(out.body.error.code).toBe('unauthorized');
  });
});

describe('sessions', () => {
  it('lists open sessions, marks the current one, and revokeSession ends another', async () => {
    const a = await app.login('sessions@example.com');
    const b = await app.login('sessions@example.com');
    const listed = await app.api<{ results: { id: string; current: boolean }[] }>('GET', '/api/sessions/', {
      token: a.access,
    });
    expect(listed.status).toBe(200);
    expect(listed.body.results).toHaveLength(2);
    expect(listed.body.results.filter((s) => s.current)).toHaveLength(1);

    const clientA = createTagdropClient({ url: app.url, token: a.access });
    const viaTrpc = await clientA.auth.sessions.query();
    const current = viaTrpc.results.find((s) => s.current);
    const other = viaTrpc.results.find((s) => !s.current);
    expect(current?.id).toBe(listed.body.results.find((s) => s.current)?.id);
    if (!other) throw new Error('the second session is missing');

    await clientA.auth.revokeSession.mutate({ id: other.id });
    await expect401(me(b.access));
    await expect401(refresh(b.refresh));
    expect((await me(a.access)).status).toBe(200);
    expect((await clientA.auth.sessions.query()).results.map((s) => s.id)).toEqual([current?.id]);

    // Ending it again, or a session that is not yours, is not_found.
    const again = await clientA.auth.revokeSession.mutate({ id: other.id }).catch((e) => e);
    expect(again).toBeInstanceOf(TRPCClientError);
    expect(again.data.code).toBe('not_found');
    const stranger = await app.login('stranger-sessions@example.com');
    const strangerSession = (await createTagdropClient({ url: app.url, token: stranger.access }).auth.sessions.query())
      .results[0];
    const foreign = await clientA.auth.revokeSession.mutate({ id: strangerSession?.id ?? '' }).catch((e) => e);
    expect(foreign.data.code).toBe('not_found');
    expect((await me(stranger.access)).status).toBe(200);
  });

  it('sessions need a token', async () => {
    const res = await app.api<ErrorBody>('GET', '/api/sessions/');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
    const trpc = await createTagdropClient({ url: app.url })
      .auth.sessions.query()
      .catch((e) => e);
    expect(trpc).toBeInstanceOf(TRPCClientError);
    expect(trpc.data).toMatchObject({ code: 'unauthorized', httpStatus: 401 });
  });
});

describe('blocked users', () => {
  it('blocking ends every session at once, and no code is sent any more', async () => {
    const one = await app.login('blocked@example.com');
    const two = await app.login('blocked@example.com');
    await setUserActive(app.deps, null, one.user.id, false);
    await expect401(me(one.access));
    await expect401(me(two.access));
    await expect401(refresh(two.refresh));

    // Asking for a code gets the usual answer, but the job closes the code instead of sending it.
    const since = app.mail.items.length;
    const asked = await app.api<{ detail: string }>('POST', '/api/otp-login/', {
      body: { email: 'blocked@example.com' },
    });
    expect(asked.status).toBe(200);
    await expect.poll(() => openCodes(app, 'blocked@example.com'), { timeout: 10_000 }).toBe(0);
    await new Promise((r) => setTimeout(r, 1_200)); // a job polling round
    expect(app.mail.items.slice(since).filter((m) => m.to === 'blocked@example.com')).toHaveLength(0);

    // Unblocked, they can log in again.
    await setUserActive(app.deps, null, one.user.id, true);
    expect((await me((await app.login('blocked@example.com')).access)).status).toBe(200);
  });

  it('a user blocked while holding a code and a token: the token stops, the code gets account_blocked', async () => {
    const tokens = await app.login('blocked-late@example.com');
    const since = app.mail.items.length;
    await app.api('POST', '/api/otp-login/', { body: { email: 'blocked-late@example.com' } });
    const code = codeFrom((await app.mail.wait((m) => m.to === 'blocked-late@example.com', { since })).text);
    await setUserActive(app.deps, null, tokens.user.id, false);

    await expect401(me(tokens.access));
    const verified = await app.api<ErrorBody>('POST', '/api/verify-otp/', {
      body: { email: 'blocked-late@example.com', otp: code },
    });
    expect(verified.status).toBe(403);
    expect(verified.body.error.code).toBe('account_blocked');
    const refreshed = await refresh(tokens.refresh);
    expect(refreshed.status).toBe(401);
  });
});

describe('roles', () => {
  it('an admin logs in with the same flow and gets the admin role', async () => {
    await app.deps.db.insertInto('users').values({ email: 'boss@example.com', role: 'admin' }).execute();
    const tokens = await app.login('boss@example.com');
    expect(tokens.user.role).toBe('admin');
    expect((await me(tokens.access)).body.role).toBe('admin');
  });
});
