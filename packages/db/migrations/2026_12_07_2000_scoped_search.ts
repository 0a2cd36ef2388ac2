import { type Kysely, sql } from 'kysely';

// Frozen in time: this file must not import application code.
// Search within a scope without reading the whole catalogue's matches. The trigram index on
// `name || ' ' || description` finds every file that mentions a word, whoever owns it; an own or a public search
// then intersected those candidates with all of the owner's (or all public) files: both grow with the catalogue
// (1,000,000 files, `?search=forest`: 1,632 buffers, 9.5 ms). Two scoped trigram indexes read only the scope's
// candidates (89 buffers, 0.7 ms; public 2,136 → 46 buffers, 14.3 → 0.5 ms):
// - owner_id and the text in one GIN index (btree_gin puts the uuid beside the trigrams);
// - the text of public files only (a partial index).
// The unscoped index stays for the admin's search over every file.
// biome-ignore lint/suspicious/noExplicitAny: migrations run against an untyped database
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create extension if not exists btree_gin`.execute(db);
  await sql`
    create index if not exists files_owner_search_idx
    on files using gin (owner_id, (name || ' ' || description) gin_trgm_ops) with (fastupdate = off)
  `.execute(db);
  await sql`
    create index if not exists files_public_search_idx
    on files using gin ((name || ' ' || description) gin_trgm_ops) with (fastupdate = off) where is_public
  `.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run against an untyped database
export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists files_public_search_idx`.execute(db);
  await sql`drop index if exists files_owner_search_idx`.execute(db);
}
