import { type Kysely, sql } from 'kysely';

// Frozen in time: this file must not import application code.
// The hashtag list subtracts files that are past their expiry but not swept yet (normally a minute's worth):
// index the links that expire, so finding those is a short range scan.
// biome-ignore lint/suspicious/noExplicitAny: migrations run against an untyped database
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create index if not exists file_hashtags_expires_idx on file_hashtags (expires_at)
    where expires_at is not null
  `.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run against an untyped database
export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists file_hashtags_expires_idx`.execute(db);
}
