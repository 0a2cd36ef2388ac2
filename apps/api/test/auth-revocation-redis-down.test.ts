/**
 * The session cache when Redis is away or loses its data (issue 9): authentication falls back to PostgreSQL (never
 * accepting a revoked session), changes to sessions answer 503 and change nothing while the cache cannot be written,
 * and an emptied Redis (restart without persistence) lets no revoked session back in. Two instances on the test's
 * own redis-server, stopped and started by PID.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setUserActive } from '../src/modules/auth/auth.service.js';
import { stopWhenIdle } from './auth-helpers.js';
import { startTestApp, type TestApp } from './harness.js';
import { type OwnRedis, startOwnRedis } from './redis-helpers.js';

type ErrorBody = { error: { code: string } };

let redis: OwnRedis;
let a: TestApp;
let b: TestApp;

beforeAll(async () => {
  redis = await startOwnRedis();
  a = await startTestApp({ REDIS_URL: redis.url });
  b = await startTestApp({}, { shareWith: a });
});
afterAll(async () => {
  await redis?.start().catch(() => {});
  await stopWhenIdle(b);
  await stopWhenIdle(a);
  await redis?.stop();
});

const me = (app: TestApp, token: string) => app.api<ErrorBody>('GET', '/api/me/', { token });
async function timedStatus(app: TestApp, token: string) {
  const started = performance.now();
  const res = await me(app, token);
  return { status: res.status, code: res.body?.error?.code, ms: performance.now() - started };
}
/** Waits until both instances talk to Redis again. */
async function redisBack() {
  for (const app of [a, b]) await app.deps.redis.whenReady(5_000);
  expect(a.deps.redis.available() && b.deps.redis.available()).toBe(true);
}

describe('session cache without Redis', () => {
  it('while Redis is down: open sessions still work (PostgreSQL decides), changes answer 503 and change nothing', async () => {
    const kept = await a.login('kept@example.com');
    const ended = await a.login('ended@example.com');
    expect((await me(b, kept.access)).status).toBe(200);
    expect((await a.api('POST', '/api/logout/', { token: ended.access })).status).toBe(200);

    await redis.stop();
    // Open: accepted from the database, fast. Ended: refused from the database.
    const open = await timedStatus(b, kept.access);
    expect(open.status).toBe(200);
    expect(open.ms).toBeLessThan(1_000);
    const closed = await timedStatus(b, ended.access);
    expect(closed.status).toBe(401);
    expect(closed.code).toBe('invalid_token');

    // A logout cannot reach the cache: 503, and the session stays open everywhere (nothing half-done).
    const logout = await a.api<ErrorBody>('POST', '/api/logout/', { token: kept.access });
    expect(logout.status).toBe(503);
    expect(logout.body.error.code).toBe('service_unavailable');
    const session = await a.deps.db
      .selectFrom('sessions')
      .select('revoked_at')
      .where('user_id', '=', kept.user.id)
      .executeTakeFirstOrThrow();
    expect(session.revoked_at).toBeNull();

    await redis.start();
    await redisBack();
    expect((await me(b, kept.access)).status).toBe(200);
    expect((await a.api('POST', '/api/logout/', { token: kept.access })).status).toBe(200);
    expect((await me(b, kept.access)).status).toBe(401);
  });

  it('after Redis restarts empty, revoked and blocked sessions stay refused on every instance', async () => {
    const out = await a.login('out@example.com');
    const blockedUser = await a.login('blocked@example.com');
    for (const t of [out, blockedUser]) expect((await me(b, t.access)).status).toBe(200);
    expect((await a.api('POST', '/api/logout/', { token: out.access })).status).toBe(200);
    await setUserActive(a.deps, null, blockedUser.user.id, false);

    await redis.stop();
    await redis.start(); // no persistence: every cached entry is gone
    await redisBack();
    for (const app of [a, b]) {
      expect((await me(app, out.access)).status).toBe(401);
      expect((await me(app, blockedUser.access)).status).toBe(401);
    }
  });
});
