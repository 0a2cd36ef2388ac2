import type { Database, Db } from '@tagdrop/db';
import { type ExpressionBuilder, sql } from 'kysely';

type Eb = ExpressionBuilder<Database, 'files'>;

/** The hashtag names of the row's file, sorted, as a text[] column. */
export const hashtagNames = (eb: Eb) =>
  eb
    .selectFrom('file_hashtags')
    .innerJoin('hashtags', 'hashtags.id', 'file_hashtags.hashtag_id')
    .whereRef('file_hashtags.file_id', '=', 'files.id')
    .select(sql<string[]>`coalesce(array_agg(hashtags.name order by hashtags.name), '{}')`.as('names'))
    .as('hashtags');

export const notExpired = (eb: Eb) =>
  eb.or([eb('files.expires_at', 'is', null), eb('files.expires_at', '>', sql<Date>`now()`)]);

export const hasHashtag = (eb: Eb, name: string) =>
  eb.exists(
    eb
      .selectFrom('file_hashtags')
      .innerJoin('hashtags', 'hashtags.id', 'file_hashtags.hashtag_id')
      .whereRef('file_hashtags.file_id', '=', 'files.id')
      .where('hashtags.name', '=', name)
      .select(sql.lit(1).as('one')),
  );

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);
export const matchesSearch = (eb: Eb, search: string) => {
  const pattern = `%${escapeLike(search)}%`;
  return eb.or([eb('files.name', 'ilike', pattern), eb('files.description', 'ilike', pattern)]);
};

export function selectFiles(db: Db) {
  // The subquery always yields an array (coalesce), never null.
  return db
    .selectFrom('files')
    .selectAll('files')
    .select((eb) => hashtagNames(eb))
    .$narrowType<{ hashtags: string[] }>();
}

/**
 * Bytes a user holds: finished files plus uploads in progress at their declared size (at `unknownSize`, the
 * largest allowed file, while a tus upload has not declared its length yet).
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
        .where('completed_at', 'is', null)
        .$if(Boolean(exceptUploadId), (q) => q.where('id', '!=', exceptUploadId as string))
        .select(sql<string>`coalesce(sum(coalesce(size, ${unknownSize})), 0)`.as('s'))
        .as('uploads'),
    ])
    .executeTakeFirstOrThrow();
  return Number(row.files ?? 0) + Number(row.uploads ?? 0);
}

/** Links a file to exactly these hashtags (creating missing ones). */
export async function setFileHashtags(db: Db, fileId: string, names: string[]): Promise<void> {
  await db.deleteFrom('file_hashtags').where('file_id', '=', fileId).execute();
  if (names.length === 0) return;
  await db
    .insertInto('hashtags')
    .values(names.map((name) => ({ name })))
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  await db
    .insertInto('file_hashtags')
    .columns(['file_id', 'hashtag_id'])
    .expression((eb) =>
      eb
        .selectFrom('hashtags')
        .select([sql<string>`${fileId}::uuid`.as('file_id'), 'id'])
        .where('name', 'in', names),
    )
    .execute();
}
