import type { Kysely } from 'kysely';

// Frozen in time: this file must not import application code.
// A finished tus upload keeps its row (marked completed) until it expires, so a client that lost the last
// response can still ask HEAD for its offset instead of uploading everything again.
// biome-ignore lint/suspicious/noExplicitAny: migrations run against an untyped database
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('uploads').addColumn('completed_at', 'timestamptz').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run against an untyped database
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('uploads').dropColumn('completed_at').execute();
}
