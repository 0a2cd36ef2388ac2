import { type Kysely, sql } from 'kysely';

// Frozen in time: this file must not import application code.
// biome-ignore lint/suspicious/noExplicitAny: migrations run against an untyped database
export async function up(db: Kysely<any>): Promise<void> {
  // Durable click history, one row per file and UTC day, written by the flush-click-stats job.
  await db.schema
    .createTable('file_click_daily')
    .addColumn('file_id', 'uuid', (c) => c.notNull().references('files.id').onDelete('cascade'))
    .addColumn('day', 'date', (c) => c.notNull())
    .addColumn('clicks', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('unique_visitors', 'bigint', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('file_click_daily_pk', ['file_id', 'day'])
    .execute();
  // Instance-wide charts and "top files" read by day.
  await db.schema.createIndex('file_click_daily_day_idx').on('file_click_daily').columns(['day', 'file_id']).execute();

  // Lifetime totals per file (all-time clicks, unique estimate, last click).
  await db.schema
    .createTable('file_click_totals')
    .addColumn('file_id', 'uuid', (c) => c.primaryKey().references('files.id').onDelete('cascade'))
    .addColumn('clicks', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('unique_visitors', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('last_click_at', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // Which flush batch was applied to which file: re-applying a batch after a crash is a no-op.
  await db.schema
    .createTable('stats_flush_applied')
    .addColumn('batch_id', 'text', (c) => c.notNull())
    .addColumn('file_id', 'uuid', (c) => c.notNull())
    .addColumn('applied_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('stats_flush_applied_pk', ['batch_id', 'file_id'])
    .execute();
  await db.schema.createIndex('stats_flush_applied_at_idx').on('stats_flush_applied').column('applied_at').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run against an untyped database
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['stats_flush_applied', 'file_click_totals', 'file_click_daily']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
