import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ACCESS_TOKEN_TTL_SECONDS, issueAccessToken, verifyAccessToken } from './tokens.js';

const claims = { sub: randomUUID(), sid: randomUUID(), role: 'user' as const, mth: 'otp' as const };

afterEach(() => {
  vi.useRealTimers();
});

describe('access tokens verified before', () => {
  it('are refused once expired, even though the same token was accepted (and remembered) before', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const key = randomBytes(32);
    const token = await issueAccessToken(key, claims);
    expect(await verifyAccessToken(key, token)).toMatchObject(claims);
    expect(await verifyAccessToken(key, token)).toMatchObject(claims);
    // Within the 5 s of clock tolerance after expiry: still accepted, as jose itself would.
    vi.setSystemTime(Date.now() + (ACCESS_TOKEN_TTL_SECONDS + 3) * 1000);
    expect(await verifyAccessToken(key, token)).toMatchObject(claims);
    vi.setSystemTime(Date.now() + 3000);
    await expect(verifyAccessToken(key, token)).rejects.toMatchObject({
      code: 'invalid_token',
      message: 'The access token has expired.',
    });
  });

  it('are remembered by their exact text under their own key: any change or another key is checked in full', async () => {
    const key = randomBytes(32);
    const token = await issueAccessToken(key, claims);
    await verifyAccessToken(key, token);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const flipped = `${signature.slice(0, -2)}${signature.at(-2) === 'A' ? 'B' : 'A'}${signature.at(-1)}`;
    await expect(verifyAccessToken(key, `${header}.${payload}.${flipped}`)).rejects.toMatchObject({
      code: 'invalid_token',
    });
    await expect(verifyAccessToken(randomBytes(32), token)).rejects.toMatchObject({ code: 'invalid_token' });
    expect(await verifyAccessToken(key, token)).toMatchObject(claims);
  });
});
