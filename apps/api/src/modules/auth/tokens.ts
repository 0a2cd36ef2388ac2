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
  let entry = cryptoKeys.get(key);
  if (!entry) {
    entry = {};
    cryptoKeys.set(key, entry);
  }
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

/**
 * Tokens already verified, by their exact text (only what passed every check below gets in), so that a client
 * presenting the same access token again costs a map lookup instead of an HMAC: profiled, the signature check was
 * ~15% of an own-list request's CPU under load. Expiry is still checked at every use; the entry leaves with it.
 * Bounded (oldest out first): a flood of distinct tokens can only be forged tokens, which never get in.
 */
const VERIFIED_MAX = 5000;
const CLOCK_TOLERANCE_SECONDS = 5;
const verified = new WeakMap<Uint8Array, Map<string, { claims: AccessClaims; expMs: number }>>();

function verifiedCache(key: Uint8Array) {
  let cache = verified.get(key);
  if (!cache) {
    cache = new Map();
    verified.set(key, cache);
  }
  return cache;
}

/** Verifies signature, algorithm, issuer, audience, type and expiry; anything off is `invalid_token`. */
export async function verifyAccessToken(key: Uint8Array, token: string): Promise<AccessClaims> {
  const cache = verifiedCache(key);
  const hit = cache.get(token);
  if (hit) {
    if (Date.now() < hit.expMs) return hit.claims;
    cache.delete(token); // expired: the full check below says so
  }
  try {
    const { payload } = await jwtVerify(token, await cryptoKey(key, 'verify'), {
      algorithms: [ALGORITHM],
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
      typ: JWT_TYPE,
      requiredClaims: ['sub', 'sid', 'role', 'exp', 'iat'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    });
    const claims = Object.freeze(claimsSchema.parse(payload));
    if (cache.size >= VERIFIED_MAX) cache.delete(cache.keys().next().value as string);
    cache.set(token, { claims, expMs: ((payload.exp as number) + CLOCK_TOLERANCE_SECONDS) * 1000 });
    return claims;
  } catch (err) {
    const expired = err instanceof joseErrors.JWTExpired;
    throw new AppError('invalid_token', expired ? 'The access token has expired.' : 'The access token is invalid.', {
      cause: err,
    });
  }
}
