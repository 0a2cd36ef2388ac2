import { randomBytes } from 'node:crypto';
import type { UpdateFileInput } from '@tagdrop/contracts';
import type { Db, FileRow } from '@tagdrop/db';
import { sql } from 'kysely';
import { AppError } from '../../errors.js';
import { audit, auditMany } from '../../infra/audit.js';
import type { AuthUser } from '../auth/auth.service.js';
import { sanitizeFilename } from './filename.js';
import { canManage } from './files.dto.js';
import { getFile, getManagedFile, notFound } from './files.listing.js';
import { setFileHashtags } from './files.queries.js';
import type { FilesDeps } from './files.types.js';
import { collectHashtags } from './hashtags.js';
import { checkPasswordVisibility, linkPasswordChange } from './link-rules.js';

/** Managing files: metadata, private links, deletion. Listing and the file object: files.listing.ts, files.dto.ts. */

/** 192 random bits, URL-safe: the secret of a private link. */
export const newShareToken = () => randomBytes(24).toString('base64url');
export function parseExpiry(value: string | null | undefined, field = 'expires_at'): Date | null | undefined {
  if (value === undefined) return undefined;
  if (value === null || value === '') return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new AppError('validation_error', 'expires_at must be an ISO 8601 date-time.', {
      fields: { [field]: ['Invalid date'] },
    });
  }
  if (date.getTime() <= Date.now()) {
    throw new AppError('validation_error', 'expires_at must be in the future.', {
      fields: { [field]: ['Must be in the future'] },
    });
  }
  return date;
}

export async function updateFile(
  deps: FilesDeps,
  viewer: AuthUser,
  id: string,
  input: UpdateFileInput,
  baseUrl: string,
) {
  const file = await getManagedFile(deps, viewer, id);
  // Checked first against the row read here (a clear 400 before hashing), and again on the locked row below.
  checkPasswordVisibility(file, input);
  const expiresAt = parseExpiry(input.expires_at);
  const description = input.description ?? file.description;
  const hashtagsChanged = input.hashtags !== undefined || input.description !== undefined;
  const hashtags = hashtagsChanged ? collectHashtags(input.hashtags ?? file.hashtags, description) : file.hashtags;
  // Hashed before the transaction (argon2id takes tens of milliseconds); a new limit starts a fresh count.
  const passwordHash = await linkPasswordChange(input.link_password);
  await deps.db.transaction().execute(async (trx) => {
    if (input.is_public !== undefined || input.link_password !== undefined) {
      // A concurrent change (another PATCH, a bulk make_public) holds the same row lock: the rule holds exactly.
      const row = await trx
        .selectFrom('files')
        .select(['is_public', 'link_password_hash'])
        .where('id', '=', id)
        .forUpdate()
        .executeTakeFirst();
      if (row) checkPasswordVisibility(row, input);
    }
    await trx
      .updateTable('files')
      .set({
        ...(input.name !== undefined ? { name: sanitizeFilename(input.name) } : {}),
        ...(input.description !== undefined ? { description } : {}),
        ...(input.is_public !== undefined ? { is_public: input.is_public } : {}),
        ...(expiresAt !== undefined ? { expires_at: expiresAt } : {}),
        ...(passwordHash !== undefined ? { link_password_hash: passwordHash } : {}),
        ...(input.max_downloads !== undefined ? { max_downloads: input.max_downloads, download_count: 0 } : {}),
        updated_at: new Date(),
      })
      .where('id', '=', id)
      .execute();
    if (hashtagsChanged) await setFileHashtags(trx, id, hashtags);
  });
  // Every instance's cached row of this file (downloads/file-cache.ts) stops being served at once.
  await deps.stats.dropTokens([id]);
  await audit(deps.db, {
    actorId: viewer.id,
    action: 'file.updated',
    targetType: 'file',
    targetId: id,
    meta: { fields: Object.keys(input) },
  });
  return getFile(deps, viewer, id, baseUrl);
}

export async function rotateLink(deps: FilesDeps, viewer: AuthUser, id: string, baseUrl: string) {
  await getManagedFile(deps, viewer, id);
  await deps.db
    .updateTable('files')
    .set({ share_token: newShareToken(), updated_at: new Date() })
    .where('id', '=', id)
    .execute();
  await deps.stats.dropTokens([id]);
  await audit(deps.db, { actorId: viewer.id, action: 'file.link_rotated', targetType: 'file', targetId: id });
  return getFile(deps, viewer, id, baseUrl);
}

export interface RemovedFile {
  id: string;
  storage_key: string;
  thumbnail_key: string | null;
}

/**
 * Deletes file rows inside the caller's transaction: their hashtag links first (one statement, so the kept
 * counts move in one aggregated step instead of once per cascaded row), then the rows, then the finished tus
 * uploads that produced their bytes. Returns what was removed, for deleteFileBytes.
 */
export async function removeFileRows(trx: Db, ids: string[]): Promise<RemovedFile[]> {
  if (ids.length === 0) return [];
  await sql`delete from file_hashtags where file_id = any(${ids}::uuid[])`.execute(trx);
  const { rows } = await sql<RemovedFile>`
    delete from files where id = any(${ids}::uuid[]) returning id, storage_key, thumbnail_key
  `.execute(trx);
  if (rows.length > 0) {
    await sql`delete from uploads where id = any(${rows.map((r) => r.storage_key)}::text[])`.execute(trx);
  }
  return rows;
}

/** removeFileRows in a transaction of its own. */
export async function deleteFileRows(deps: Pick<FilesDeps, 'db'>, ids: string[]): Promise<RemovedFile[]> {
  if (ids.length === 0) return [];
  return deps.db.transaction().execute((trx) => removeFileRows(trx, ids));
}

/**
 * After deleteFileRows: the bytes, the thumbnails and the cached statistics. Objects that could not be removed
 * (the store away) are logged and left to the orphan sweep (no row names them any more); the rows' removal stands.
 */
export async function deleteFileBytes(
  deps: Pick<FilesDeps, 'storage' | 'stats' | 'log'>,
  removed: RemovedFile[],
): Promise<{ failed: string[] }> {
  const { failed } = await deps.storage.deleteMany(
    removed.flatMap((r) => [r.storage_key, r.thumbnail_key ?? []].flat()),
  );
  if (failed.length > 0) {
    deps.log.warn(
      { keys: failed.slice(0, 20), count: failed.length },
      'objects of deleted files not removed; the orphan sweep will',
    );
  }
  await deps.stats.forget(removed.map((r) => r.id));
  return { failed };
}

/**
 * Deletes files: rows first (so nothing can reach them any more), then the bytes, then the cached
 * statistics. A crash in between leaves only an orphaned object, which the sweeper removes.
 */
export async function deleteFiles(
  deps: Pick<FilesDeps, 'db' | 'storage' | 'stats' | 'log'>,
  ids: string[],
): Promise<string[]> {
  const removed = await deleteFileRows(deps, ids);
  await deleteFileBytes(deps, removed);
  return removed.map((r) => r.id);
}

export type LockedFile = Pick<FileRow, 'id' | 'owner_id' | 'name' | 'description'>;

/**
 * Locks the rows of files the viewer manages (owner, or admin for any file), in id order (a fixed lock order),
 * inside the caller's transaction. All or nothing: if any id is unknown or someone else's, 404 and the caller's
 * transaction rolls back (which ids is not told: an id reveals nothing).
 */
export async function lockManagedFiles(trx: Db, viewer: AuthUser, ids: string[]): Promise<LockedFile[]> {
  const rows = await trx
    .selectFrom('files')
    .select(['id', 'owner_id', 'name', 'description'])
    .where(sql<boolean>`id = any(${ids}::uuid[])`)
    .orderBy('id')
    .forUpdate()
    .execute();
  if (rows.length !== ids.length || !rows.every((f) => canManage(viewer, f))) {
    if (ids.length === 1) throw notFound();
    throw new AppError('not_found', 'Some of these files do not exist or are not yours; nothing was changed.');
  }
  return rows;
}

/** One audit entry per file, in one statement (inside the change's transaction). */
export async function auditFiles(
  trx: Db,
  viewer: AuthUser,
  files: LockedFile[],
  action: string,
  meta: (file: LockedFile) => Record<string, unknown>,
) {
  await auditMany(
    trx,
    files.map((f) => ({ actorId: viewer.id, action, targetType: 'file', targetId: f.id, meta: meta(f) })),
  );
}

/**
 * Deletes files the viewer manages, all or none (see lockManagedFiles): the rows and one audit entry per file in
 * one transaction, then the bytes, thumbnails and cached statistics. Returns how many were deleted.
 */
export async function deleteManagedFiles(deps: FilesDeps, viewer: AuthUser, ids: string[]): Promise<number> {
  const removed = await deps.db.transaction().execute(async (trx) => {
    const files = await lockManagedFiles(trx, viewer, ids);
    const rows = await removeFileRows(trx, ids);
    await auditFiles(trx, viewer, files, 'file.deleted', (f) => ({ name: f.name, owner_id: f.owner_id }));
    return rows;
  });
  await deleteFileBytes(deps, removed);
  return removed.length;
}

export async function deleteFile(deps: FilesDeps, viewer: AuthUser, id: string) {
  await deleteManagedFiles(deps, viewer, [id]);
  return { detail: 'File deleted.' };
}
