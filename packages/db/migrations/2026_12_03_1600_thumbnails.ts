import { type Kysely, sql } from 'kysely';

// Frozen in time: this file must not import application code.
// A file may have a thumbnail (made by a job after the upload), stored as its own object beside the file's bytes.
// biome-ignore lint/suspicious/noExplicitAny: migrations run against an untyped database
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('files').addColumn('thumbnail_key', 'text').addColumn('thumbnail_type', 'text').execute();
  // The orphan sweeper asks which listed objects are thumbnails of a file.
  await db.schema
    .createIndex('files_thumbnail_key_idx')
    .on('files')
    .column('thumbnail_key')
    .where(sql.ref('thumbnail_key'), 'is not', null)
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run against an untyped database
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('files_thumbnail_key_idx').execute();
  await db.schema.alterTable('files').dropColumn('thumbnail_key').dropColumn('thumbnail_type').execute();
}
