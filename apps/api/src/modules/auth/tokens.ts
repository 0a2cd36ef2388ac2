import { randomUUID } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { AppError } from '../../errors.js';

export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
export const JWT_ISSUER = 'urn:tagdrop';
export const JWT_AUDIENCE = 'urn:tagdrop:api';
const JWT_TYPE = 'at+jwt';
const ALGORITHM = 'HS256';

const claimsSchema = z.object({
  sub: z.uuid(),
  sid: z.uuid(),
  role: z.enum(['user', 'admin']),
  /** How the session began (tokens from before this claim existed began with a code). */
  mth: z.enum(['otp', 'passkey']).default('otp'),
});
export type AccessClaims = z.infer<typeof claimsSchema>;

/**
 * The HMAC key as a CryptoKey, imported once per key and use: handed raw bytes, jose would import them into
 * WebCrypto again on every call (profiled: ~7% of a list request's CPU went to key normalization and import).
 */
const cryptoKeys = new WeakMap<Uint8Array, { sign?: Promise<CryptoKey>; verify?: Promise<CryptoKey> }>();
function cryptoKey(key: Uint8Array, use: 'sign' | 'verify'): Promise<CryptoKey> {
  const entry = cryptoKeys.get(key) ?? {};
  cryptoKeys.set(key, entry);
  entry[use] ??= crypto.subtle.importKey(
    'raw',
    key as Uint8Array<ArrayBuffer>,
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    [use],
  );
  return entry[use];
}

export async function issueAccessToken(key: Uint8Array, claims: AccessClaims): Promise<string> {
  return new SignJWT({ sid: claims.sid, role: claims.role, mth: claims.mth })
    .setProtectedHeader({ alg: ALGORITHM, typ: JWT_TYPE })
    .setIssuer(JWT_ISSUER)
    .setAudience(JWT_AUDIENCE)
    .setSubject(claims.sub)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime(`${ACCESS_TOKEN_TTL_SECONDS}s`)
    .sign(await cryptoKey(key, 'sign'));
}

/** Verifies signature, algorithm, issuer, audience, type and expiry; anything off is `invalid_token`. */
export async function verifyAccessToken(key: Uint8Array, token: string): Promise<AccessClaims> {
  try {
    const { payload } = await jwtVerify(token, await cryptoKey(key, 'verify'), {
      algorithms: [ALGORITHM],
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
      typ: JWT_TYPE,
      requiredClaims: ['sub', 'sid', 'role', 'exp', 'iat'],
      clockTolerance: 5,
    });
    return claimsSchema.parse(payload);
  } catch (err) {
    const expired = err instanceof joseErrors.JWTExpired;
    throw new AppError('invalid_token', expired ? 'The access token has expired.' : 'The access token is invalid.', {
      cause: err,
    });
  }
}
