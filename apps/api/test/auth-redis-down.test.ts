/**
 * Logins while Redis is away (issue 8, item 5): the login rate limits live in Redis, so a login request cannot
 * be answered without it. It must fail fast with a clear 503 service_unavailable (never wait for a reconnect,
 * never fall back to per-process limits) and work again as soon as Redis is back, with no restart.
 */
import { createTagdropClient } from '@tagdrop/contracts/client';
import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeFrom, startTestApp, type TestApp } from './harness.js';
import { type OwnRedis, startOwnRedis } from './redis-helpers.js';

type ErrorBody = { error: { code: string; message: string } };

let redis: OwnRedis;
let app: TestApp;
beforeAll(async () => {
  redis = await startOwnRedis();
  app = await startTestApp({ REDIS_URL: redis.url });
});
afterAll(async () => {
  redis?.thaw();
  await app?.stop();
  await redis?.stop();
});

async function timed<T>(work: () => Promise<T>) {
  const started = performance.now();
  const result = await work();
  return { result, ms: performance.now() - started };
}

const otpLogin = (email: string) => app.api<ErrorBody>('POST', '/api/otp-login/', { body: { email } });
const verify = (email: string, otp: string) => app.api<ErrorBody>('POST', '/api/verify-otp/', { body: { email, otp } });

function expectUnavailable(res: { status: number; body: ErrorBody; headers: Headers }) {
  expect(res.status).toBe(503);
  expect(res.body.error.code).toBe('service_unavailable');
  expect(res.body.error.message).not.toMatch(/redis|stream|ioredis|econn/i);
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
}

/** Polls until the login request answers 200; returns how long that took. */
async function untilLoginWorks(email: string, timeoutMs = 5_000) {
  const started = performance.now();
  for (;;) {
    const res = await otpLogin(email);
    if (res.status === 200) return performance.now() - started;
    expect(res.status).toBe(503);
    if (performance.now() - started > timeoutMs) throw new Error('login did not come back');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('login while Redis is down', () => {
  it('answers 503 service_unavailable within a second, over REST and tRPC, and works again once Redis is back', async () => {
    // A code requested while Redis was up.
    const since = app.mail.items.length;
    expect((await otpLogin('outage@example.com')).status).toBe(200);
    const code = codeFrom((await app.mail.wait((m) => m.to === 'outage@example.com', { since })).text);

    await redis.stop();
    for (let i = 0; i < 3; i++) {
      const requested = await timed(() => otpLogin('outage@example.com'));
      expectUnavailable(requested.result);
      expect(requested.ms).toBeLessThan(1_000);
      const verified = await timed(() => verify('outage@example.com', code));
      expectUnavailable(verified.result);
      expect(verified.ms).toBeLessThan(1_000);
    }
    const client = createTagdropClient({ url: app.url });
    const viaTrpc = await timed(() => client.auth.requestOtp.mutate({ email: 'outage@example.com' }).catch((e) => e));
    expect(viaTrpc.ms).toBeLessThan(1_000);
    expect(viaTrpc.result).toBeInstanceOf(TRPCClientError);
    expect((viaTrpc.result as TRPCClientError<never>).data).toMatchObject({
      code: 'service_unavailable',
      httpStatus: 503,
    });
    // Readiness says so too.
    expect((await app.api('GET', '/readyz')).status).toBe(503);

    await redis.start();
    expect(await untilLoginWorks('someone-else@example.com')).toBeLessThan(3_000);
    // The code from before the outage still works (verification was refused, not counted as a failure).
    const res = await app.api<{ access: string }>('POST', '/api/verify-otp/', {
      body: { email: 'outage@example.com', otp: code },
    });
    expect(res.status).toBe(200);
    expect(res.body.access).toBeTruthy();
  });

  it('answers 503 within a second when Redis hangs (connection open, no answer), and recovers when it answers', async () => {
    expect((await otpLogin('hang@example.com')).status).toBe(200);
    redis.freeze();
    try {
      const requested = await timed(() => otpLogin('hang@example.com'));
      expectUnavailable(requested.result);
      expect(requested.ms).toBeLessThan(1_000);
      const verified = await timed(() => verify('hang@example.com', '000000'));
      expectUnavailable(verified.result);
      expect(verified.ms).toBeLessThan(1_000);
    } finally {
      redis.thaw();
    }
    expect(await untilLoginWorks('hang@example.com')).toBeLessThan(3_000);
  });
});
