import { type Kysely, sql } from 'kysely';

// Frozen in time: this file must not import application code.
// biome-ignore lint/suspicious/noExplicitAny: migrations run against an untyped database
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('files')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('owner_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('mime_type', 'text', (c) => c.notNull())
    .addColumn('sha256', 'text')
    .addColumn('storage_key', 'text', (c) => c.notNull().unique())
    .addColumn('is_public', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('share_token', 'text', (c) => c.notNull().unique())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('expires_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('files_owner_created_idx')
    .on('files')
    .columns(['owner_id', 'created_at desc', 'id desc'])
    .execute();
  await db.schema
    .createIndex('files_public_created_idx')
    .on('files')
    .columns(['created_at desc', 'id desc'])
    .where(sql.ref('is_public'), '=', true)
    .execute();
  await db.schema
    .createIndex('files_expires_idx')
    .on('files')
    .column('expires_at')
    .where(sql.ref('expires_at'), 'is not', null)
    .execute();

  await db.schema
    .createTable('hashtags')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createTable('file_hashtags')
    .addColumn('file_id', 'uuid', (c) => c.notNull().references('files.id').onDelete('cascade'))
    .addColumn('hashtag_id', 'bigint', (c) => c.notNull().references('hashtags.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('file_hashtags_pk', ['file_id', 'hashtag_id'])
    .execute();
  await db.schema
    .createIndex('file_hashtags_hashtag_idx')
    .on('file_hashtags')
    .columns(['hashtag_id', 'file_id'])
    .execute();

  // Resumable uploads in progress (tus). The row disappears when the upload finishes or expires.
  await db.schema
    .createTable('uploads')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('owner_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('replaces_file_id', 'uuid', (c) => c.references('files.id').onDelete('cascade'))
    .addColumn('size', 'bigint')
    .addColumn('metadata', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('uploads_owner_idx').on('uploads').column('owner_id').execute();
  await db.schema.createIndex('uploads_expires_idx').on('uploads').column('expires_at').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run against an untyped database
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['uploads', 'file_hashtags', 'hashtags', 'files']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
