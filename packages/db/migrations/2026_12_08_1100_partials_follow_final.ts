import { type Kysely, sql } from 'kysely';

// Frozen in time: this file must not import application code.
// A partial upload (tus concatenation) lives only to become part of its final upload: when that final upload's
// row goes, by any path (expiry sweep, termination, deletion of the file it made, the cascade from the file it was
// to replace), its partials go with it. Before, `final_id` was a bare column: a final upload swept at its expiry
// left its partials claimed by nothing that exists (DELETE → 409, never usable again, their bytes held against the
// quota until their own expiry). A foreign key with ON DELETE CASCADE makes that impossible to forget. (A client
// that terminates an unfinished final upload keeps its partials: that path unclaims them before the row goes.)
// Checked at commit (deferrable): a final upload claims its partials before its own row is written, in one
// transaction; the cascade itself is never deferred. The index serves the cascade (each deleted upload looks up
// the partials naming it) and is small: only claimed partials are in it.
// biome-ignore lint/suspicious/noExplicitAny: migrations run against an untyped database
export async function up(db: Kysely<any>): Promise<void> {
  // Partials already stranded (their final upload gone) go now, as they would have with the key in place; their
  // bytes are left to the orphan sweep of delete-expired-files (no row names them any more).
  await sql`
    delete from uploads p
    where p.final_id is not null and not exists (select 1 from uploads f where f.id = p.final_id)
  `.execute(db);
  await sql`create index if not exists uploads_final_id_idx on uploads (final_id) where final_id is not null`.execute(
    db,
  );
  await sql`
    alter table uploads add constraint uploads_final_id_fkey
      foreign key (final_id) references uploads (id) on delete cascade deferrable initially deferred
  `.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run against an untyped database
export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table uploads drop constraint if exists uploads_final_id_fkey`.execute(db);
  await sql`drop index if exists uploads_final_id_idx`.execute(db);
}
