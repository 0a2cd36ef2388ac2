import type { HashtagDto } from '@tagdrop/contracts';
import type { Db } from '@tagdrop/db';
import { sql } from 'kysely';
import type { AuthUser } from '../auth/auth.service.js';
import { notExpired } from './files.queries.js';

/**
 * Hashtags with the number of files the caller may see: public unexpired files, plus the caller's own
 * unexpired files. Another person's private file never counts.
 */
export async function listHashtags(db: Db, viewer: AuthUser | null): Promise<HashtagDto[]> {
  const rows = await db
    .selectFrom('hashtags')
    .innerJoin('file_hashtags', 'file_hashtags.hashtag_id', 'hashtags.id')
    .innerJoin('files', 'files.id', 'file_hashtags.file_id')
    .where(notExpired)
    .where((eb) =>
      viewer
        ? eb.or([eb('files.is_public', '=', true), eb('files.owner_id', '=', viewer.id)])
        : eb('files.is_public', '=', true),
    )
    .groupBy('hashtags.name')
    .select(['hashtags.name', sql<string>`count(distinct files.id)`.as('count')])
    .orderBy(sql`count(distinct files.id)`, 'desc')
    .orderBy('hashtags.name')
    .limit(500)
    .execute();
  return rows.map((r) => ({ name: r.name, count: Number(r.count) }));
}
