import { type Kysely, sql } from 'kysely';

// Frozen in time: this file must not import application code.
// What became of a file's thumbnail, so that every image gets one eventually (a lost make-thumbnail job, images
// stored before thumbnails existed) and none is tried forever:
// - thumbnail_state: null while nothing is decided for the current content; 'made', 'refused' (the decoder
//   refused the image) or 'skipped' (not an image it renders, or too large). Cleared when the content changes.
// - thumbnail_attempts: how often the backfill job has tried the current content (it gives up after a few, so an
//   image that keeps failing, or crashes the worker, is not tried forever); reset when the content changes.
// The backfill finds its work through a partial index of the images still pending (small: once made, refused or
// skipped, a row leaves it). Its columns never change on a hot path (no HOT update is lost): attempts and
// created_at change only in the backfill, state and mime_type with the thumbnail or the content, which also
// change files_thumbnail_key_idx. Nothing heavy runs here: only rows that have a thumbnail are touched.
// biome-ignore lint/suspicious/noExplicitAny: migrations run against an untyped database
export async function up(db: Kysely<any>): Promise<void> {
  // A constant default (and a nullable column) is a catalogue change, not a table rewrite.
  await sql`
    alter table files
      add column thumbnail_state text,
      add column thumbnail_attempts smallint not null default 0
  `.execute(db);
  // Checked for every write from now on; existing rows (all null) need no validating scan.
  await sql`
    alter table files add constraint files_thumbnail_state_check
      check (thumbnail_state in ('made', 'refused', 'skipped')) not valid
  `.execute(db);
  // Only the rows with a thumbnail (through files_thumbnail_key_idx).
  await sql`update files set thumbnail_state = 'made' where thumbnail_key is not null`.execute(db);
  // The types the app thumbnails (JPEG, PNG, WebP, GIF, AVIF): the backfill's query names the same list.
  await sql`
    create index files_thumbnail_pending_idx on files (thumbnail_attempts, created_at)
    where thumbnail_state is null
      and mime_type in ('image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/avif')
  `.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run against an untyped database
export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists files_thumbnail_pending_idx`.execute(db);
  await sql`
    alter table files
      drop constraint if exists files_thumbnail_state_check,
      drop column if exists thumbnail_attempts,
      drop column if exists thumbnail_state
  `.execute(db);
}
