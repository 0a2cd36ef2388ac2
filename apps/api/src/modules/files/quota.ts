import type { Db } from '@tagdrop/db';
import { sql } from 'kysely';
import type { AppDeps } from '../../deps.types.js';
import { AppError } from '../../errors.js';
import { bytesUsed } from './files.queries.js';

/**
 * The size cap and the per-user quota of uploads. Every change to what an owner has reserved (a new upload, a
 * length declared later) and every check of an upload against the quota runs in a transaction holding the
 * owner's advisory lock, so parallel requests cannot together overrun the quota.
 */
type QuotaDeps = Pick<AppDeps, 'db' | 'config'>;
export interface Allowance {
  maxBytes: number;
  remainingQuota: number;
}

/** Unfinished uploads expire after a day (tus expiration extension); multipart reservations likewise. */
export const UPLOAD_RESERVATION_MS = 24 * 60 * 60 * 1000;

/** Limits for one more upload by this user: the size cap and what is left of the quota. */
export async function uploadAllowance(
  deps: QuotaDeps,
  ownerId: string,
  exceptUploadId?: string,
  db: Db = deps.db,
): Promise<Allowance> {
  const used = await bytesUsed(db, ownerId, deps.config.MAX_UPLOAD_BYTES, exceptUploadId);
  return { maxBytes: deps.config.MAX_UPLOAD_BYTES, remainingQuota: Math.max(0, deps.config.USER_QUOTA_BYTES - used) };
}

export function assertWithinLimits(size: number, allowance: Allowance) {
  if (size > allowance.maxBytes) {
    throw new AppError('payload_too_large', `Files are limited to ${allowance.maxBytes} bytes.`);
  }
  if (size > allowance.remainingQuota) {
    throw new AppError('quota_exceeded', `Not enough quota left: ${allowance.remainingQuota} bytes remain.`);
  }
}

/** Runs `fn` in a transaction that holds the owner's quota lock. */
function underQuotaLock<T>(deps: QuotaDeps, ownerId: string, fn: (trx: Db) => Promise<T>): Promise<T> {
  return deps.db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext(${`quota:${ownerId}`}))`.execute(trx);
    return fn(trx);
  });
}

/**
 * Reserves room for an upload: checks the size cap and the quota and records the upload. `size` null: not
 * known yet (the reservation then counts as the largest allowed file until the length is declared).
 */
export async function reserveUpload(
  deps: QuotaDeps,
  args: {
    id: string;
    ownerId: string;
    size: number | null;
    replaces: string | null;
    metadata: Record<string, string | null>;
    /** 'partial' for a tus partial upload (concatenation). */
    concat?: 'partial';
  },
): Promise<Allowance> {
  return underQuotaLock(deps, args.ownerId, async (trx) => {
    const allowance = await uploadAllowance(deps, args.ownerId, undefined, trx);
    if (args.size === null && allowance.remainingQuota === 0) {
      throw new AppError('quota_exceeded', 'No quota left for another upload.');
    }
    assertWithinLimits(args.size ?? 0, allowance);
    await trx
      .insertInto('uploads')
      .values({
        id: args.id,
        owner_id: args.ownerId,
        replaces_file_id: args.replaces,
        size: args.size,
        metadata: JSON.stringify(args.metadata),
        expires_at: new Date(Date.now() + UPLOAD_RESERVATION_MS),
        concat: args.concat ?? null,
      })
      .execute();
    return allowance;
  });
}

/**
 * Checks an upload against the limits as it really is (`declared`: the length its bytes are bound to, null
 * while deferred), counting everything else the owner holds. Throws 413 when it no longer fits; returns the
 * allowance, whose smaller bound caps the bytes of a deferred-length upload.
 */
export async function checkUploadFits(
  deps: QuotaDeps,
  ownerId: string,
  uploadId: string,
  declared: number | null,
): Promise<Allowance> {
  return underQuotaLock(deps, ownerId, async (trx) => {
    const allowance = await uploadAllowance(deps, ownerId, uploadId, trx);
    if (declared !== null) assertWithinLimits(declared, allowance);
    return allowance;
  });
}

/**
 * Records the length of a deferred-length upload, once: checked against the limits and written in one step
 * under the owner's lock. Declaring the same length again is a no-op; any other change is refused.
 */
export async function declareUploadSize(deps: QuotaDeps, ownerId: string, uploadId: string, size: number) {
  await underQuotaLock(deps, ownerId, async (trx) => {
    assertWithinLimits(size, await uploadAllowance(deps, ownerId, uploadId, trx));
    const updated = await trx
      .updateTable('uploads')
      .set({ size })
      .where('id', '=', uploadId)
      .where('owner_id', '=', ownerId)
      .where((eb) => eb.or([eb('size', 'is', null), eb('size', '=', String(size))]))
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) {
      throw new AppError('validation_error', 'The upload length is already declared and cannot change.', {
        fields: { 'upload-length': ['Already declared'] },
      });
    }
  });
}

/**
 * Takes back a length declareUploadSize recorded, when the PATCH that carried it failed: the upload is deferred
 * again (and counts as the largest allowed file, as before). Only that declaration, only while unfinished.
 */
export async function undeclareUploadSize(deps: QuotaDeps, ownerId: string, uploadId: string, size: number) {
  await deps.db
    .updateTable('uploads')
    .set({ size: null })
    .where('id', '=', uploadId)
    .where('owner_id', '=', ownerId)
    .where('size', '=', String(size))
    .where('completed_at', 'is', null)
    .execute();
}
