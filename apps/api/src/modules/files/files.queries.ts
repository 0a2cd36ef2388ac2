import type { Database, Db } from '@tagdrop/db';
import { type ExpressionBuilder, sql } from 'kysely';

type Eb = ExpressionBuilder<Database, 'files'>;

export const notExpired = (eb: Eb) =>
  eb.or([eb('files.expires_at', 'is', null), eb('files.expires_at', '>', sql<Date>`now()`)]);

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Shorter searches have no trigram to look up: they are matched while walking the newest-first index. */
export const MIN_INDEXED_SEARCH = 3;

/**
 * Name or description contains `search` (case-insensitive). From 3 characters on, the trigram index on
 * `name || ' ' || description` finds the candidates (a superset), and each column is then checked on its own.
 */
export const matchesSearch = (eb: Eb, search: string) => {
  const pattern = `%${escapeLike(search)}%`;
  const exact = eb.or([eb('files.name', 'ilike', pattern), eb('files.description', 'ilike', pattern)]);
  if (search.length < MIN_INDEXED_SEARCH) return exact;
  return eb.and([sql<boolean>`(files.name || ' ' || files.description) ilike ${pattern}`, exact]);
};

/** Files rows (their hashtag names are kept on the row, sorted). */
export function selectFiles(db: Db) {
  return db.selectFrom('files').selectAll('files');
}

/**
 * Bytes a user holds: finished files plus uploads in progress at their declared size (at `unknownSize`, the
 * largest allowed file, while a tus upload has not declared its length yet). Partial uploads (tus
 * concatenation) count until the final upload that uses them is a file, finished or not; final uploads
 * themselves count nothing until then (their bytes are their partials').
 */
export async function bytesUsed(
  db: Db,
  ownerId: string,
  unknownSize: number,
  exceptUploadId?: string,
): Promise<number> {
  const row = await db
    .selectNoFrom((eb) => [
      eb
        .selectFrom('files')
        .where('owner_id', '=', ownerId)
        .select(sql<string>`coalesce(sum(size), 0)`.as('s'))
        .as('files'),
      eb
        .selectFrom('uploads')
        .where('owner_id', '=', ownerId)
        .where((eb) =>
          eb.or([
            eb.and([eb('completed_at', 'is', null), eb('concat', 'is', null)]),
            // Partial uploads count until their final upload's file holds their bytes (and counts them).
            eb.and([eb('concat', '=', 'partial'), eb('consumed_at', 'is', null)]),
          ]),
        )
        .$if(Boolean(exceptUploadId), (q) => q.where('id', '!=', exceptUploadId as string))
        .select(sql<string>`coalesce(sum(coalesce(size, ${unknownSize})), 0)`.as('s'))
        .as('uploads'),
    ])
    .executeTakeFirstOrThrow();
  return Number(row.files ?? 0) + Number(row.uploads ?? 0);
}

/**
 * Links a file to exactly these hashtags (creating missing ones): links that stay are left alone (the kept
 * counts move only for what changed), new links copy the file's owner, visibility and times, and the file's
 * sorted hashtag names are stored on its row. Call it after the file row exists, in the same transaction.
 */
export async function setFileHashtags(db: Db, fileId: string, names: string[]): Promise<void> {
  await db
    .deleteFrom('file_hashtags')
    .where('file_id', '=', fileId)
    .$if(names.length > 0, (q) =>
      q.where('hashtag_id', 'not in', (eb) => eb.selectFrom('hashtags').select('id').where('name', 'in', names)),
    )
    .execute();
  if (names.length > 0) {
    await db
      .insertInto('hashtags')
      .values(names.map((name) => ({ name })))
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    await db
      .insertInto('file_hashtags')
      .columns(['file_id', 'hashtag_id', 'owner_id', 'is_public', 'created_at', 'expires_at'])
      .expression((eb) =>
        eb
          .selectFrom('files')
          .innerJoin('hashtags', (join) => join.on('hashtags.name', 'in', names))
          .select([
            'files.id',
            'hashtags.id',
            'files.owner_id',
            'files.is_public',
            'files.created_at',
            'files.expires_at',
          ])
          .where('files.id', '=', fileId),
      )
      .onConflict((oc) => oc.columns(['file_id', 'hashtag_id']).doNothing())
      .execute();
  }
  await db
    .updateTable('files')
    .set({
      hashtags: sql<string[]>`(select coalesce(array_agg(h.name order by h.name), '{}') from file_hashtags fh
        join hashtags h on h.id = fh.hashtag_id where fh.file_id = ${fileId})`,
    })
    .where('id', '=', fileId)
    .execute();
}
