import { type Kysely, sql } from 'kysely';

// Frozen in time: this file must not import application code.
// Expiry at scale: a sweep batch moves up to ~1,000 kept counters at once. Without an index on the counts
// those updates are HOT (no index writes); the hashtag list reads the ~1,000-row counts table directly.
// Deleting a file checks uploads.replaces_file_id (ON DELETE CASCADE): index it, so that is a lookup, not a scan.
// biome-ignore lint/suspicious/noExplicitAny: migrations run against an untyped database
export async function up(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists hashtag_counts_public_idx`.execute(db);
  await sql`alter table hashtag_counts set (fillfactor = 50)`.execute(db);
  await sql`alter table hashtag_owner_counts set (fillfactor = 70)`.execute(db);
  await sql`
    create index if not exists uploads_replaces_file_idx on uploads (replaces_file_id)
    where replaces_file_id is not null
  `.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run against an untyped database
export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists uploads_replaces_file_idx`.execute(db);
  await sql`alter table hashtag_owner_counts reset (fillfactor)`.execute(db);
  await sql`alter table hashtag_counts reset (fillfactor)`.execute(db);
  await sql`create index hashtag_counts_public_idx on hashtag_counts (public_count desc, hashtag_id)`.execute(db);
}
