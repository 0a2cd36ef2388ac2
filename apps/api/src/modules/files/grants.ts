import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Download grants: short-lived, signed links to one file's bytes, for a browser that cannot send a Bearer token
 * (an <img>, <video> or <iframe> of a private file on its owner's page). A grant names one file and one scope:
 * - `thumb`: only /f/{id}/thumb;
 * - `preview`: the bytes at /f/{id} and /f/{id}/view, counting no click (the owner looking at their own file);
 * - `download`: the bytes at /f/{id}, counted like any download.
 * Token: `<expiry, unix seconds>.<scope letter>.<HMAC-SHA256 of id, scope and expiry>`, keyed from SECRET_KEY.
 * The expiry is rounded up to a window, so the same link is handed out for a while and browsers can cache it.
 */
export type GrantScope = 'thumb' | 'preview' | 'download';

const LETTER: Record<GrantScope, string> = { thumb: 't', preview: 'p', download: 'd' };
const SCOPE_OF: Record<string, GrantScope> = { t: 'thumb', p: 'preview', d: 'download' };

/** How long grants live: at least `ttl`, at most `ttl + window` seconds. */
export const GRANT_LIFETIME: Record<GrantScope, { ttl: number; window: number }> = {
  thumb: { ttl: 12 * 3600, window: 12 * 3600 },
  preview: { ttl: 3600, window: 1800 },
  download: { ttl: 600, window: 300 },
};

const mac = (key: Buffer, fileId: string, letter: string, expiry: number) =>
  createHmac('sha256', key).update(`grant|${fileId}|${letter}|${expiry}`).digest();

export function signGrant(
  key: Buffer,
  fileId: string,
  scope: GrantScope,
  now = Date.now(),
): { token: string; expiresAt: Date } {
  const { ttl, window } = GRANT_LIFETIME[scope];
  const expiry = Math.ceil((Math.floor(now / 1000) + ttl) / window) * window;
  const letter = LETTER[scope];
  const token = `${expiry}.${letter}.${mac(key, fileId, letter, expiry).toString('base64url')}`;
  return { token, expiresAt: new Date(expiry * 1000) };
}

/** The scope of a valid, unexpired grant for this file; null for anything else. */
export function verifyGrant(key: Buffer, token: unknown, fileId: string, now = Date.now()): GrantScope | null {
  if (typeof token !== 'string' || token.length > 100) return null;
  const match = /^(\d{1,12})\.([tpd])\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return null;
  const [, expiryText, letter, signature] = match as unknown as [string, string, string, string];
  const expiry = Number(expiryText);
  if (expiry * 1000 <= now) return null;
  const expected = mac(key, fileId, letter, expiry);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  return SCOPE_OF[letter] ?? null;
}
