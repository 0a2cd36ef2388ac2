import type { HashtagDto } from '@tagdrop/contracts';
import type { Db } from '@tagdrop/db';
import { sql } from 'kysely';
import type { AuthUser } from '../auth/auth.service.js';

const MAX_HASHTAGS_LISTED = 500;

/**
 * Hashtags with the number of files the caller may see: public unexpired files, plus the caller's own
 * unexpired private files. Another person's private file never counts. Read from the kept counts
 * (hashtag_counts and hashtag_owner_counts, moved by triggers in the same transaction as every change), never
 * by grouping over the catalogue; files past their expiry that the sweep has not removed yet (normally a
 * minute's worth, found through an index) are subtracted. Candidates: the caller's own private hashtags, the
 * hashtags with expired links, and the most used public ones down to the 500th (plus one more per hashtag with
 * expired links, which may fall behind): a hashtag outside all three cannot rank in the top 500.
 */
export async function listHashtags(db: Db, viewer: AuthUser | null): Promise<HashtagDto[]> {
  const limit = MAX_HASHTAGS_LISTED;
  const me = viewer?.id ?? null;
  const { rows } = await sql<{ name: string; count: string }>`
    with expired as (
      select hashtag_id,
             count(*) filter (where is_public) as public_count,
             count(*) filter (where not is_public and owner_id = ${me}::uuid) as private_count
      from file_hashtags where expires_at <= now()
      group by hashtag_id
    ),
    mine as (
      select hashtag_id, private_count from hashtag_owner_counts
      where owner_id = ${me}::uuid and private_count > 0
    ),
    threshold as (
      select public_count from hashtag_counts where public_count > 0
      order by public_count desc offset ${limit - 1} + (select count(*) from expired) limit 1
    ),
    candidates as (
      select hashtag_id from hashtag_counts
      where public_count > 0 and public_count >= coalesce((select public_count from threshold), 1)
      union select hashtag_id from mine
      union select hashtag_id from expired
    ),
    counted as (
      select x.hashtag_id,
             coalesce(c.public_count, 0) - coalesce(e.public_count, 0)
               + coalesce(m.private_count, 0) - coalesce(e.private_count, 0) as n
      from candidates x
      left join hashtag_counts c on c.hashtag_id = x.hashtag_id
      left join mine m on m.hashtag_id = x.hashtag_id
      left join expired e on e.hashtag_id = x.hashtag_id
    )
    select h.name, counted.n::text as count
    from counted join hashtags h on h.id = counted.hashtag_id
    where counted.n > 0
    order by counted.n desc, h.name
    limit ${limit}
  `.execute(db);
  return rows.map((r) => ({ name: r.name, count: Number(r.count) }));
}
