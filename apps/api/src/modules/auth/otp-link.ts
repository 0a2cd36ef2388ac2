/**
 * The sign-in link sent with every login code: `${baseUrl}/otp-login#token=<token>`. The token is derived, not stored:
 * base64url(challenge id, 16 bytes) + '.' + base64url(HMAC-SHA256(key for this purpose, challenge id), first 16
 * bytes), 128 bits nobody can compute without SECRET_KEY. It names the code's challenge row, but it does not live as
 * long as the code: the code's short TTL, its replacement by a later request from the same IP and its burning by 5
 * wrong tries exist to bound guessing of 6 digits, and a 128-bit link cannot be guessed. So a link works for
 * OTP_LINK_SECONDS (the per-address request window) from its code's request, once, and only until the address signs
 * in by any code or link after it was asked for (auth.queries.ts `linkAlive`). A stranger who spends the per-address
 * request budget has thereby sent the owner links that work for the rest of that window.
 * It travels in the URL fragment: never sent to the server by a GET, so proxies, logs and link scanners never see it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { LOGIN_LIMITS } from '../../deps.types.js';

/** How long a sign-in link works, counted from its code's request: the per-address request window, no less. */
export const OTP_LINK_SECONDS = LOGIN_LIMITS.windowSeconds;

const MAC_BYTES = 16;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const mac = (key: Buffer, challengeId: string) =>
  createHmac('sha256', key).update(`otp-link:${challengeId}`).digest().subarray(0, MAC_BYTES);

const idBytes = (challengeId: string) => Buffer.from(challengeId.replaceAll('-', ''), 'hex');

export function signOtpLinkToken(key: Buffer, challengeId: string): string {
  return `${idBytes(challengeId).toString('base64url')}.${mac(key, challengeId).toString('base64url')}`;
}

export const otpLinkUrl = (baseUrl: string, token: string) => `${baseUrl.replace(/\/+$/, '')}/otp-login#token=${token}`;

/** The challenge id a token names when its MAC is right (compared in constant time); undefined otherwise. */
export function challengeIdOfToken(key: Buffer, token: string): string | undefined {
  const [idPart, macPart, extra] = token.split('.');
  if (!idPart || !macPart || extra !== undefined) return undefined;
  const id = Buffer.from(idPart, 'base64url');
  const given = Buffer.from(macPart, 'base64url');
  const canonical = id.toString('base64url') === idPart && given.toString('base64url') === macPart;
  if (!canonical || id.length !== 16 || given.length !== MAC_BYTES) return undefined;
  const hex = id.toString('hex');
  const challengeId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  if (!UUID.test(challengeId)) return undefined;
  return timingSafeEqual(given, mac(key, challengeId)) ? challengeId : undefined;
}
