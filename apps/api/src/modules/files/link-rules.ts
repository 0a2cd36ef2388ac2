import { createHmac, timingSafeEqual } from 'node:crypto';
import { hash } from '@node-rs/argon2';
import type { Db, FileRow } from '@tagdrop/db';
import { AppError } from '../../errors.js';

/**
 * Link controls: a password on the private link (argon2id; unlocking gives a short-lived signed grant) and a limit
 * on counted downloads (one conditional UPDATE per counted download, so the limit is exact under concurrency).
 */

/** How long an unlocked link works (the page or download started within it). */
export const UNLOCK_TTL_SECONDS = 15 * 60;

/** argon2id with the library's defaults (19 MiB, 2 passes, 1 lane: OWASP's recommended minimum). */
export const hashLinkPassword = (password: string) => hash(password, { algorithm: 2 });

/** The password's hash to store: a new hash, null to remove it, undefined to leave it. */
export async function linkPasswordChange(input: string | null | undefined): Promise<string | null | undefined> {
  if (input === undefined) return undefined;
  return input === null ? null : hashLinkPassword(input);
}

export const passwordNeedsPrivate = (fields: Record<string, string[]>) =>
  new AppError(
    'link_password_requires_private',
    'A link password protects the private link only: a public file cannot have one. Make the file private, or ' +
      'remove the password (link_password: null) to make it public.',
    { fields },
  );

/**
 * The rule between a password and visibility: a password protects the private link only (the public /f/{id} never
 * asks for it). A change that would leave a public file with a password is refused (400, nothing changes): a new
 * password on a file that is or becomes public, or making public a file that keeps its password. Sending
 * `link_password: null` with `is_public: true` is the explicit way to make such a file public.
 */
export function checkPasswordVisibility(
  file: Pick<FileRow, 'is_public' | 'link_password_hash'>,
  change: { is_public?: boolean | undefined; link_password?: string | null | undefined },
): void {
  const isPublic = change.is_public ?? file.is_public;
  if (!isPublic) return;
  const setsPassword = typeof change.link_password === 'string';
  const keepsPassword = change.link_password === undefined && file.link_password_hash !== null;
  const becomesPublic = change.is_public === true && !file.is_public;
  if (setsPassword) throw passwordNeedsPrivate({ link_password: ['Only private files can have a link password'] });
  if (becomesPublic && keepsPassword) {
    throw passwordNeedsPrivate({
      is_public: ['Remove the link password first: it protects the private link only'],
    });
  }
}

type Locked = Pick<FileRow, 'share_token' | 'link_password_hash'>;

/** Binds a grant to the link (rotating it kills grants) and to the password (changing it kills them too). */
const mac = (key: Buffer, file: Locked, expiry: number) =>
  createHmac('sha256', key)
    .update(`unlock|${file.share_token}|${file.link_password_hash ?? ''}|${expiry}`)
    .digest();

export function signUnlock(key: Buffer, file: Locked, now = Date.now()): { token: string; expiresAt: Date } {
  const expiry = Math.floor(now / 1000) + UNLOCK_TTL_SECONDS;
  return { token: `${expiry}.${mac(key, file, expiry).toString('base64url')}`, expiresAt: new Date(expiry * 1000) };
}

export function verifyUnlock(key: Buffer, file: Locked, token: unknown, now = Date.now()): boolean {
  if (typeof token !== 'string' || token.length > 100) return false;
  const match = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return false;
  const expiry = Number(match[1]);
  if (expiry * 1000 <= now) return false;
  const given = Buffer.from(match[2] as string, 'base64url');
  const expected = mac(key, file, expiry);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Whether a visitor of the private link may see it: no password, or a valid unlock grant. */
export const linkOpen = (key: Buffer, file: Locked, unlock: unknown) =>
  !file.link_password_hash || verifyUnlock(key, file, unlock);

export const passwordRequired = () =>
  new AppError('password_required', 'This link is protected by a password: POST it to /api/share/{token}/unlock/.');

/** Whether the file has had all its counted downloads. */
export const isExhausted = (file: Pick<FileRow, 'max_downloads' | 'download_count'>) =>
  file.max_downloads !== null && file.download_count >= file.max_downloads;

export const exhausted = () => new AppError('gone', 'This file has reached its download limit.');

export const downloadsLeft = (file: Pick<FileRow, 'max_downloads' | 'download_count'>) =>
  file.max_downloads === null ? null : Math.max(0, file.max_downloads - file.download_count);

/**
 * Counts one download of a limited file: true when it was within the limit (then it is counted), false when the
 * limit was already reached. One conditional UPDATE: concurrent downloads can never exceed the limit.
 */
export async function takeDownload(db: Db, fileId: string): Promise<boolean> {
  const row = await db
    .updateTable('files')
    .set((eb) => ({ download_count: eb('download_count', '+', 1) }))
    .where('id', '=', fileId)
    .where('max_downloads', 'is not', null)
    .whereRef('download_count', '<', 'max_downloads')
    .returning('download_count')
    .executeTakeFirst();
  return row !== undefined;
}
