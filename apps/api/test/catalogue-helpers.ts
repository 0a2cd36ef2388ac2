/**
 * A large catalogue seeded straight into PostgreSQL in a few statements (generate_series), for the query-plan
 * test and `npm run bench -- scale`: 1 in 10 files the caller's, 1 in 5 public, 3 of 1,000 hashtags each
 * (`tag0` … `tag999`), descriptions of two words out of 1,000 (`forest` is one of them, so ~0.2% of files
 * match `?search=forest`), created one second apart going back from now (newest first = highest number).
 * File ids follow the file number (uuid-shaped, ascending), so the bulk insert appends to the indexes instead
 * of writing all over them: a million files load in a minute rather than several.
 */
import type { Db } from '@tagdrop/db';
import { sql } from 'kysely';

export interface SeedOptions {
  files: number;
  /** The caller: owns every 10th file. */
  callerId: string;
  /** Other owners (created if missing): the rest of the files are spread over them. */
  others?: number;
  /** Files that expire at once (their expires_at is `expiresAt`), counted from the oldest. */
  expiring?: number;
  expiresAt?: Date;
  /** Files numbered from here (to add to an existing catalogue). */
  offset?: number;
}

export const HASHTAGS = 1_000;

/** An integer literal (generate_series needs typed arguments). */
const int = (n: number) => sql.lit(Math.trunc(n));

/** Seeds the catalogue; returns how long it took (ms). Storage keys are the file ids; no bytes are written. */
export async function seedCatalogue(db: Db, o: SeedOptions): Promise<number> {
  const started = Date.now();
  const others = o.others ?? 100;
  const from = o.offset ?? 0;
  const to = from + o.files - 1;
  const expiringBelow = from + (o.expiring ?? 0);
  await sql`
    insert into users (email)
    select 'seed-owner-' || g || '@example.com' from generate_series(1, ${int(others)}) g
    on conflict do nothing
  `.execute(db);
  await sql`
    insert into hashtags (name) select 'tag' || g from generate_series(0, ${int(HASHTAGS - 1)}) g on conflict do nothing
  `.execute(db);
  await sql`
    create or replace function seed_uuid(g bigint) returns uuid language sql immutable as
    $$ select ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid $$
  `.execute(db);
  await db.connection().execute(async (conn) => {
    // Bulk load as pg_restore does: no per-row foreign-key checks or triggers (the rows are consistent by
    // construction); the kept counts are then added in one aggregated statement each, as the triggers would.
    await sql`set session_replication_role = replica`.execute(conn);
    try {
      // Word 7 is "forest"; the others are word<k>. Every 10th file is the caller's, every 5th public; three
      // distinct hashtags per file (0, 333 and 666 apart).
      await sql`
        with owners as (
          select array_agg(id order by email) as ids from users where email like 'seed-owner-%@example.com'
        ),
        f as (
          insert into files (id, owner_id, name, size, mime_type, storage_key, is_public, share_token, description,
                             hashtags, expires_at, created_at, updated_at)
          select
            seed_uuid(g),
            case when g % 10 = 0 then ${o.callerId}::uuid else owners.ids[1 + (g % ${int(others)})] end,
            'img_' || g || '.jpg',
            10240,
            'image/jpeg',
            seed_uuid(g)::text,
            g % 5 = 0,
            'seed' || md5('share' || g),
            'photo ' || (case when g % 1000 = 7 then 'forest' else 'word' || (g % 1000) end) || ' '
                     || (case when (g / 1000) % 1000 = 7 then 'forest' else 'word' || ((g / 1000) % 1000) end),
            array(select 'tag' || ((g + k * 333 + g / ${int(HASHTAGS)}) % ${int(HASHTAGS)})
                  from generate_series(0, 2) k order by 1),
            case when g < ${int(expiringBelow)} then ${o.expiresAt ?? null}::timestamptz else null end,
            now() - make_interval(secs => ${int(to + 1)} - g),
            now() - make_interval(secs => ${int(to + 1)} - g)
          from generate_series(${int(from)}, ${int(to)}) g, owners
          returning id, owner_id, is_public, created_at, expires_at, hashtags
        ),
        links as (
          insert into file_hashtags (file_id, hashtag_id, owner_id, is_public, created_at, expires_at)
          select f.id, h.id, f.owner_id, f.is_public, f.created_at, f.expires_at
          from f cross join unnest(f.hashtags) t(name) join hashtags h on h.name = t.name
          returning hashtag_id, owner_id, is_public
        ),
        totals as (
          insert into hashtag_counts as c (hashtag_id, public_count, total_count)
          select hashtag_id, count(*) filter (where is_public), count(*) from links group by hashtag_id
          on conflict (hashtag_id) do update
            set public_count = c.public_count + excluded.public_count,
                total_count = c.total_count + excluded.total_count
          returning 1
        )
        insert into hashtag_owner_counts as c (owner_id, hashtag_id, private_count)
        select owner_id, hashtag_id, count(*) from links where not is_public group by owner_id, hashtag_id
        on conflict (owner_id, hashtag_id) do update set private_count = c.private_count + excluded.private_count
      `.execute(conn);
    } finally {
      await sql`set session_replication_role = default`.execute(conn);
    }
  });
  if (process.env.SEED_DEBUG) console.log('seed: rows', Date.now() - started);
  await sql`analyze files`.execute(db);
  await sql`analyze file_hashtags`.execute(db);
  await sql`analyze hashtag_counts`.execute(db);
  return Date.now() - started;
}
