import { THUMBNAIL_TYPES } from '@tagdrop/contracts';
import type { Db } from '@tagdrop/db';
import { sql } from 'kysely';
import { z } from 'zod';
import { makeThumbnail, type ThumbnailOutcome } from '../modules/files/thumbnails.js';
import { defineJob, type JobDeps } from './types.js';

/** How the backfill paces itself (no setting: the defaults suit every size of instance). */
export const THUMBNAIL_BACKFILL = {
  every: '5 minutes',
  /**
   * Content younger than this is left to the make-thumbnail job queued by its upload (done in seconds, retries
   * included, unless the queue is long), so the two rarely render the same image.
   */
  graceMs: 10 * 60_000,
  /** Images tried per run at most, oldest first… */
  batch: 200,
  /** …and for about this long (the rest waits for the next run). */
  timeBudgetMs: 60_000,
  /** Tries of one content before it is left alone: a missing object, or an image that crashes the worker. */
  maxAttempts: 5,
  /** Failures in a row that end a run: storage is probably away, and every try would count as one. */
  stopAfterFailures: 3,
} as const;

export interface BackfillOptions {
  graceMs?: number;
  batch?: number;
  timeBudgetMs?: number;
  touch?: () => Promise<unknown>;
}

export type BackfillResult = Record<ThumbnailOutcome | 'failed', number> & { tried: number };

/**
 * Images still waiting for a decision about their thumbnail (thumbnail_state null: never tried, or the job was
 * lost), past the grace period, fewest backfill tries first, then oldest. Read through the partial index
 * files_thumbnail_pending_idx, which holds only such images: its predicate names the same types as
 * THUMBNAIL_TYPES (a test checks the plan), so this stays a short index scan at any catalogue size.
 */
export function pendingThumbnails(db: Db, options: { graceMs: number; limit: number }) {
  const cutoff = sql<Date>`now() - ${`${options.graceMs} milliseconds`}::interval`;
  return (
    db
      .selectFrom('files')
      .select(['id', 'storage_key', 'thumbnail_attempts'])
      .where('thumbnail_state', 'is', null)
      .where('mime_type', 'in', [...THUMBNAIL_TYPES])
      .where('thumbnail_attempts', '<', THUMBNAIL_BACKFILL.maxAttempts)
      // created_at ≤ updated_at: the first is checked in the index, the second (replaced content) on the row.
      .where('created_at', '<', cutoff)
      .where('updated_at', '<', cutoff)
      .orderBy('thumbnail_attempts')
      .orderBy('created_at')
      .limit(options.limit)
  );
}

/**
 * Gives every image that should have a thumbnail one, eventually: a bounded batch of pending images per run, each
 * made here through makeThumbnail (one at a time, one libvips thread), which records the outcome, so a refused
 * image leaves the index and is never tried again. Each try is counted before it starts (a conditional update,
 * so two runs never take the same image): fresh images go before ones that failed, and content that fails
 * maxAttempts times is left alone. Idempotent; a crash loses nothing but the try it was in.
 */
export async function backfillThumbnails(deps: JobDeps, options: BackfillOptions = {}): Promise<BackfillResult> {
  const {
    graceMs = THUMBNAIL_BACKFILL.graceMs,
    batch = THUMBNAIL_BACKFILL.batch,
    timeBudgetMs = THUMBNAIL_BACKFILL.timeBudgetMs,
    touch = async () => {},
  } = options;
  const result: BackfillResult = { tried: 0, made: 0, exists: 0, refused: 0, skipped: 0, stale: 0, failed: 0 };
  const started = Date.now();
  const pending = await pendingThumbnails(deps.db, { graceMs, limit: batch }).execute();
  let failuresInARow = 0;
  for (const file of pending) {
    if (Date.now() - started > timeBudgetMs) break;
    if (!(await claim(deps.db, file))) continue;
    result.tried++;
    try {
      result[await makeThumbnail(deps, file.id, file.storage_key)]++;
      failuresInARow = 0;
    } catch (err) {
      result.failed++;
      deps.log.warn(
        { fileId: file.id, attempt: file.thumbnail_attempts + 1, err: String(err) },
        'backfill-thumbnails: could not make a thumbnail',
      );
      if (++failuresInARow >= THUMBNAIL_BACKFILL.stopAfterFailures) {
        deps.log.warn({ failuresInARow }, 'backfill-thumbnails: stopping this run (storage unavailable?)');
        break;
      }
    }
    await touch();
  }
  return result;
}

/** Counts a try, unless the file was decided, given new content or taken by another run since it was read. */
async function claim(db: Db, file: { id: string; storage_key: string; thumbnail_attempts: number }) {
  const claimed = await db
    .updateTable('files')
    .set((eb) => ({ thumbnail_attempts: eb('thumbnail_attempts', '+', 1) }))
    .where('id', '=', file.id)
    .where('storage_key', '=', file.storage_key)
    .where('thumbnail_state', 'is', null)
    .where('thumbnail_attempts', '=', file.thumbnail_attempts)
    .executeTakeFirst();
  return claimed.numUpdatedRows > 0n;
}

/** Thumbnails for images whose make-thumbnail job was never queued or lost, and for images from before them. */
export const backfillThumbnailsJob = defineJob({
  name: 'backfill-thumbnails',
  schema: z.object({}),
  // touch() after every image renews the lock.
  options: { concurrency: 1, lockLifetime: 2 * 60_000 },
  every: () => THUMBNAIL_BACKFILL.every,
  async handler(_data, deps, job) {
    const started = Date.now();
    const result = await backfillThumbnails(deps, { touch: () => job.touch() });
    if (result.tried > 0) {
      deps.log.info({ ...result, ms: Date.now() - started }, 'backfill-thumbnails: images tried');
    }
  },
});
