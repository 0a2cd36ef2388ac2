/**
 * Rate limits on the login flow, as a client sees them: 429 `rate_limited` with Retry-After, per identifier,
 * per IP (OTP_IP_LIMIT), per failed verification; X-Forwarded-For counts only with TRUST_PROXY.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopWhenIdle } from './auth-helpers.js';
import { codeFrom, startTestApp, type TestApp } from './harness.js';

type ErrorBody = { error: { code: string; message: string } };

let app: TestApp;
let ipLimited: TestApp;
let proxied: TestApp;

beforeAll(async () => {
  [app, ipLimited, proxied] = await Promise.all([
    startTestApp(),
    startTestApp({ OTP_IP_LIMIT: '3' }),
    startTestApp({ OTP_IP_LIMIT: '3', TRUST_PROXY: 'true' }),
  ]);
});
afterAll(async () => {
  await Promise.all([app, ipLimited, proxied].map(stopWhenIdle));
});

const requestOtp = (a: TestApp, body: Record<string, string>, headers?: Record<string, string>) =>
  a.api<ErrorBody>('POST', '/api/otp-login/', { body, headers });

function expectLimited(res: { status: number; body: unknown; headers: Headers }, maxSeconds: number) {
  expect(res.status).toBe(429);
  expect((res.body as ErrorBody).error.code).toBe('rate_limited');
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(maxSeconds);
}

describe('per identifier', () => {
  it('allows 5 requests per 15 minutes, then answers 429 with Retry-After', async () => {
    for (let i = 0; i < 5; i++) expect((await requestOtp(app, { email: 'busy@example.com' })).status).toBe(200);
    // Spelled differently, it is still the same address.
    expectLimited(await requestOtp(app, { email: ' BUSY@example.com' }), 15 * 60);
    // Someone else is not affected.
    expect((await requestOtp(app, { email: 'calm@example.com' })).status).toBe(200);
  });

  it('counts a phone number by its E.164 form, and limits tRPC the same way', async () => {
    const forms = ['+1 (415) 555-2671', '+14155552671', '+1 415 555 2671', '+1-415-555-2671', '(+1) 4155552671'];
    for (const phone of forms) expect((await requestOtp(app, { phone })).status).toBe(200);
    const res = await fetch(`${app.url}/trpc/auth.requestOtp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ phone: '+14155552671' }),
    });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await res.json()) as { error: { data: { code: string } } };
    expect(body.error.data.code).toBe('rate_limited');
  });

  it('limits failed verifications: after 10 wrong codes even the right one is refused', async () => {
    const email = 'guesser@example.com';
    const wrongTries = async (code: string) => {
      const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
      for (let i = 0; i < 5; i++) {
        const res = await app.api<ErrorBody>('POST', '/api/verify-otp/', { body: { email, otp: wrong } });
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('invalid_otp');
      }
    };
    const fresh = async () => {
      const since = app.mail.items.length;
      expect((await requestOtp(app, { email })).status).toBe(200);
      return codeFrom((await app.mail.wait((m) => m.to === email, { since })).text);
    };
    await wrongTries(await fresh()); // burns the first code
    await wrongTries(await fresh()); // and the second: 10 failures
    const res = await app.api<ErrorBody>('POST', '/api/verify-otp/', { body: { email, otp: await fresh() } });
    expectLimited(res, 15 * 60);
  });
});

describe('per IP', () => {
  it('allows OTP_IP_LIMIT requests per hour from one address, whatever X-Forwarded-For says', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await requestOtp(ipLimited, { email: `ip${i}@example.com` })).status).toBe(200);
    }
    expectLimited(await requestOtp(ipLimited, { email: 'ip3@example.com' }), 3600);
    // Without TRUST_PROXY a forged header must not open a fresh bucket.
    for (const xff of ['203.0.113.7', '198.51.100.1, 203.0.113.8']) {
      expectLimited(await requestOtp(ipLimited, { email: 'ip4@example.com' }, { 'x-forwarded-for': xff }), 3600);
    }
    // Nor does tRPC.
    const res = await fetch(`${ipLimited.url}/trpc/auth.requestOtp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.9' },
      body: JSON.stringify({ email: 'ip5@example.com' }),
    });
    expect(res.status).toBe(429);
  });

  it('with TRUST_PROXY, limits each client address given by the proxy separately', async () => {
    const from = (ip: string) => ({ 'x-forwarded-for': ip });
    for (let i = 0; i < 3; i++) {
      expect((await requestOtp(proxied, { email: `a${i}@example.com` }, from('203.0.113.1'))).status).toBe(200);
    }
    expectLimited(await requestOtp(proxied, { email: 'a3@example.com' }, from('203.0.113.1')), 3600);
    expect((await requestOtp(proxied, { email: 'b0@example.com' }, from('203.0.113.2'))).status).toBe(200);
  });

  it('with TRUST_PROXY, an address the client prepends to X-Forwarded-For does not open a fresh bucket', async () => {
    // Our proxy appends the real client address last; whatever the client wrote before it is not trusted.
    const forged = (i: number) => ({ 'x-forwarded-for': `198.51.100.${i}, 203.0.113.50` });
    for (let i = 0; i < 3; i++) {
      expect((await requestOtp(proxied, { email: `c${i}@example.com` }, forged(i))).status).toBe(200);
    }
    expectLimited(await requestOtp(proxied, { email: 'c3@example.com' }, forged(3)), 3600);
  });
});
