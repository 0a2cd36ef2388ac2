import type { Kysely } from 'kysely';
import { sql } from 'kysely';

// Frozen in time: this file must not import application code.
// tus concatenation: an upload is a partial one (`concat` = 'partial'), a final one (`concat` = the
// 'final;<url> <url>…' header it was created with, `parts` = the partial upload ids in order) or a plain one
// (null). A partial records the final upload that claimed it (`final_id`), so it is used at most once.
// biome-ignore lint/suspicious/noExplicitAny: migrations run against an untyped database
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('uploads')
    .addColumn('concat', 'text')
    .addColumn('parts', 'jsonb')
    .addColumn('final_id', 'text')
    .execute();
  await db.schema
    .alterTable('uploads')
    .addCheckConstraint(
      'uploads_concat_check',
      sql`concat is null or concat = 'partial' or (concat like 'final;%' and parts is not null)`,
    )
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run against an untyped database
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('uploads').dropConstraint('uploads_concat_check').execute();
  await db.schema.alterTable('uploads').dropColumn('concat').dropColumn('parts').dropColumn('final_id').execute();
}
