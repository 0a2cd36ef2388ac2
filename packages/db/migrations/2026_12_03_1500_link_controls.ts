import { type Kysely, sql } from 'kysely';

// Frozen in time: this file must not import application code.
// Link controls: an optional password on the private link (argon2id hash) and an optional download limit, with the
// number of counted downloads so far (incremented by one conditional UPDATE, so the limit holds under concurrency).
// biome-ignore lint/suspicious/noExplicitAny: migrations run against an untyped database
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('files')
    .addColumn('link_password_hash', 'text')
    .addColumn('max_downloads', 'integer', (c) => c.check(sql`max_downloads >= 1`))
    .addColumn('download_count', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  // The sweeper finds exhausted files with a scan of the (few) limited ones.
  await sql`create index if not exists files_exhausted_idx on files (id) where max_downloads is not null`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run against an untyped database
export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists files_exhausted_idx`.execute(db);
  await db.schema
    .alterTable('files')
    .dropColumn('link_password_hash')
    .dropColumn('max_downloads')
    .dropColumn('download_count')
    .execute();
}
