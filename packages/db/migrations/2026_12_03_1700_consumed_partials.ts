import type { Kysely } from 'kysely';

// Frozen in time: this file must not import application code.
// A partial upload whose final upload became a file is "consumed": its bytes live on in that file (and count
// there), its own are gone, and its row stays until it expires so that a client retrying the upload (HEAD on the
// partial, then the same final upload again) learns that it is complete instead of sending it all again.
// biome-ignore lint/suspicious/noExplicitAny: migrations run against an untyped database
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('uploads').addColumn('consumed_at', 'timestamptz').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run against an untyped database
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('uploads').dropColumn('consumed_at').execute();
}
