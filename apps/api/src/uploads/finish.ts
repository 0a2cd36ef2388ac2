import type { UploadRow } from '@tagdrop/db';
import type { AppDeps } from '../deps.types.js';
import { AppError } from '../errors.js';
import type { AuthUser } from '../modules/auth/auth.service.js';
import { getManagedFile } from '../modules/files/files.listing.js';
import { deleteFile } from '../modules/files/files.service.js';
import { commitContent, inspectStored, type NewFileMeta, parseFileMeta } from '../modules/files/files.upload.js';
import { sniff } from '../modules/files/inspect.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Validates the Upload-Metadata of a new upload (plain or final): the file fields, and `file_id` (a file of
 * the caller's whose content the upload replaces). Returns what is stored on the upload's row.
 */
export async function prepareUploadMeta(
  deps: AppDeps,
  user: AuthUser,
  raw: Record<string, string | null>,
): Promise<{ metadata: Record<string, string | null>; replaces: string | null }> {
  const meta = parseFileMeta(raw);
  if (raw.link_password !== undefined) {
    // Upload-Metadata is stored with the upload and sent back on HEAD: no place for a secret.
    throw new AppError(
      'invalid_metadata',
      'Set link_password after the upload (PATCH /api/files/{id}/), not in tus metadata.',
      {
        fields: { link_password: ['Not accepted in tus metadata'] },
      },
    );
  }
  if (raw.file_id && !UUID.test(raw.file_id)) {
    throw new AppError('invalid_metadata', 'file_id must be the id of one of your files.');
  }
  let replaces: string | null = null;
  if (raw.file_id) {
    try {
      replaces = (await getManagedFile(deps, user, raw.file_id)).id;
    } catch (err) {
      if (err instanceof AppError && err.code === 'not_found') {
        throw new AppError('invalid_metadata', 'file_id: no such file of yours.');
      }
      throw err;
    }
  }
  return { metadata: { ...raw, filename: meta.name }, replaces };
}

/**
 * Metadata stored at creation was validated then; its expiry may have passed since (the file is then
 * born expired, which is what its owner asked for).
 */
export function parseFileMetaLenient(raw: Record<string, string | null>): NewFileMeta {
  const meta = parseFileMeta({ ...raw, expires_at: undefined });
  const expires = raw.expires_at ? new Date(raw.expires_at) : null;
  return { ...meta, expires_at: expires && !Number.isNaN(expires.getTime()) ? expires : null };
}

/** Makes a finished plain upload a ready file (sha256 from the running digest, or one read of the bytes). */
export async function finishPlainUpload(deps: AppDeps, row: UploadRow, receivedBytes: number): Promise<string> {
  const digest = await deps.storage.takeUploadDigest(row.id);
  const inspected =
    digest && digest.size === receivedBytes
      ? { sha256: digest.sha256, mimeType: await sniff(digest.head), size: digest.size }
      : await inspectStored(deps, row.id);
  return commitContent(deps, {
    key: row.id,
    ownerId: row.owner_id,
    newId: row.id,
    replaces: row.replaces_file_id,
    meta: parseFileMetaLenient(row.metadata),
    inspected,
  });
}

/**
 * tus termination of a finished upload: deletes the file it produced, exactly as the file's own DELETE
 * does (owner or admin). An upload whose bytes no file holds any more (deleted, or replaced since) is gone.
 */
export async function terminateFinishedUpload(deps: AppDeps, user: AuthUser, row: UploadRow): Promise<void> {
  const file = await deps.db.selectFrom('files').select('id').where('storage_key', '=', row.id).executeTakeFirst();
  if (!file) throw new AppError('not_found', 'No such upload.');
  await deleteFile(deps, user, file.id);
}
