/**
 * Access tokens under attack, over REST and tRPC: every forged, tampered, expired or misplaced token is 401
 * `invalid_token`; error bodies never carry a stack trace; health endpoints.
 */
import { randomBytes } from 'node:crypto';
import { decodeJwt, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopWhenIdle } from './auth-helpers.js';
import { startTestApp, type TestApp } from './harness.js';

type ErrorBody = { error: { code: string; message: string } };

let app: TestApp;
let tokens: { access: string; refresh: string; user: { id: string; role: string } };
let claims: { sub: string; sid: string; role: string };

beforeAll(async () => {
  app = await startTestApp();
  tokens = await app.login('tokens@example.com');
  const decoded = decodeJwt(tokens.access);
  claims = { sub: String(decoded.sub), sid: String(decoded.sid), role: String(decoded.role) };
});
afterAll(async () => {
  await stopWhenIdle(app);
});

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

interface Forge {
  key?: Uint8Array;
  alg?: string;
  typ?: string;
  iss?: string;
  aud?: string;
  sub?: string;
  sid?: string;
  exp?: number;
  iat?: number;
}

/** Signs an access token like the server does, with one thing changed. */
function forge(o: Forge = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sid: o.sid ?? claims.sid, role: claims.role })
    .setProtectedHeader({ alg: o.alg ?? 'HS256', typ: o.typ ?? 'at+jwt' })
    .setIssuer(o.iss ?? 'urn:tagdrop')
    .setAudience(o.aud ?? 'urn:tagdrop:api')
    .setSubject(o.sub ?? claims.sub)
    .setIssuedAt(o.iat ?? now)
    .setExpirationTime(o.exp ?? now + 600)
    .sign(o.key ?? app.deps.keys.jwt);
}

async function rest(token: string) {
  return app.api<ErrorBody>('GET', '/api/me/', { headers: { authorization: `Bearer ${token}` } });
}
async function trpc(token: string) {
  const res = await fetch(`${app.url}/trpc/auth.me`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as { error?: { data: { code: string } } } };
}

async function expectRejected(token: string) {
  const r = await rest(token);
  expect(r.status).toBe(401);
  expect(r.body.error.code).toBe('invalid_token');
  const t = await trpc(token);
  expect(t.status).toBe(401);
  expect(t.body.error?.data.code).toBe('invalid_token');
}

describe('access tokens', () => {
  it('the real token and a faithful copy signed with the server key are accepted (so the forgeries below test one thing each)', async () => {
    expect((await rest(tokens.access)).status).toBe(200);
    expect((await trpc(tokens.access)).status).toBe(200);
    expect((await rest(await forge())).status).toBe(200);
  });

  it('carries iss, aud, sub, sid, role, typ at+jwt, HS256 and a 15 minute lifetime', () => {
    const [header] = tokens.access.split('.');
    expect(JSON.parse(Buffer.from(header ?? '', 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'at+jwt' });
    const c = decodeJwt(tokens.access);
    expect(c).toMatchObject({ iss: 'urn:tagdrop', aud: 'urn:tagdrop:api', sub: tokens.user.id, role: 'user' });
    expect(c.sid).toEqual(expect.any(String));
    expect((c.exp ?? 0) - (c.iat ?? 0)).toBe(15 * 60);
  });

  it('signed with another key', async () => {
    await expectRejected(await forge({ key: new Uint8Array(randomBytes(32)) }));
  });

  it('alg none (unsigned)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const payload = { ...claims, iss: 'urn:tagdrop', aud: 'urn:tagdrop:api', iat: now, exp: now + 600 };
    await expectRejected(`${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(payload)}.`);
    await expectRejected(`${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(payload)}`);
  });

  it('another HMAC algorithm with the right key (the algorithm is pinned)', async () => {
    await expectRejected(await forge({ alg: 'HS512' }));
  });

  it('wrong audience', async () => {
    await expectRejected(await forge({ aud: 'urn:someone-else' }));
  });

  it('wrong issuer', async () => {
    await expectRejected(await forge({ iss: 'urn:evil' }));
  });

  it('wrong type', async () => {
    await expectRejected(await forge({ typ: 'JWT' }));
    await expectRejected(await forge({ typ: 'refresh+jwt' }));
  });

  it('expired', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRejected(await forge({ iat: now - 3600, exp: now - 60 }));
  });

  it('a payload edited after signing', async () => {
    const [h, , s] = tokens.access.split('.');
    const payload = { ...decodeJwt(tokens.access), role: 'admin' };
    await expectRejected(`${h}.${b64(payload)}.${s}`);
  });

  it('a session of someone else under my name', async () => {
    const other = await app.login('other-tokens@example.com');
    const otherSid = String(decodeJwt(other.access).sid);
    await expectRejected(await forge({ sid: otherSid }));
  });

  it('a refresh token used as an access token', async () => {
    await expectRejected(tokens.refresh);
  });

  it('garbage', async () => {
    for (const token of ['garbage', 'a.b.c', '...', 'eyJhbGciOiJIUzI1NiJ9.e30.', `${tokens.access}x`]) {
      await expectRejected(token);
    }
  });

  it('a header that is not "Bearer <token>"', async () => {
    for (const authorization of [`Token ${tokens.access}`, 'Bearer', `Bearer ${tokens.access} extra`]) {
      const r = await app.api<ErrorBody>('GET', '/api/me/', { headers: { authorization } });
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('invalid_token');
    }
  });

  it('no token at all is 401 unauthorized', async () => {
    const r = await app.api<ErrorBody>('GET', '/api/me/');
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('unauthorized');
  });
});

describe('error bodies', () => {
  const noInternals = (text: string) => {
    expect(text).not.toMatch(/\bstack\b/i);
    expect(text).not.toMatch(/\n\s+at /);
    expect(text).not.toMatch(/node_modules|\.ts:\d+|\/src\//);
  };

  it('a malformed JSON body gets 400 JSON with a code, and no stack trace', async () => {
    for (const path of ['/api/otp-login/', '/api/verify-otp/', '/api/token/refresh/']) {
      const res = await fetch(`${app.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"email": "x@example.com",',
      });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      const text = await res.text();
      expect((JSON.parse(text) as ErrorBody).error.code).toBe('validation_error');
      noInternals(text);
    }
  });

  it('tRPC errors carry no stack trace either', async () => {
    const bad = await fetch(`${app.url}/trpc/auth.verifyOtp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"email": 1',
    });
    expect(bad.status).toBe(400);
    noInternals(await bad.text());
    const unauth = await fetch(`${app.url}/trpc/auth.me`, { headers: { authorization: 'Bearer nope' } });
    noInternals(await unauth.text());
    const wrongInput = await fetch(`${app.url}/trpc/auth.verifyOtp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'x@example.com', otp: 'abc' }),
    });
    expect(wrongInput.status).toBe(400);
    const text = await wrongInput.text();
    expect((JSON.parse(text) as { error: { data: { code: string } } }).error.data.code).toBe('validation_error');
    noInternals(text);
  });

  it('an unknown API path is a JSON 404', async () => {
    const r = await app.api<ErrorBody>('GET', '/api/no-such-thing/');
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('not_found');
  });
});

describe('health', () => {
  it('/healthz is 200', async () => {
    const r = await app.api('GET', '/healthz');
    expect(r.status).toBe(200);
  });

  it('/readyz is 200 with PostgreSQL and Redis reachable', async () => {
    const r = await app.api<{ postgres: boolean; redis: boolean }>('GET', '/readyz');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ postgres: true, redis: true });
  });
});
