import { type Kysely, sql } from 'kysely';

// Frozen in time: this file must not import application code.
//
// Hot paths that stay flat at a million files:
// - files.hashtags: the file's hashtag names (sorted), kept beside the links, so a page needs no aggregation.
// - file_hashtags carries the file's owner, visibility, creation and expiry time, so a hashtag page (public, own,
//   or the admin's) is one index range scan in (created_at, file_id) order that stops after a page.
// - Trigram indexes (pg_trgm) for search on name and description.
// - Kept hashtag counts (hashtag_counts: public and total; hashtag_owner_counts: each owner's private files),
//   maintained by statement-level triggers on file_hashtags (one aggregated update per statement, in the same
//   transaction), so GET /api/hashtags/ never groups over the catalogue. A trigger on files copies
//   visibility/expiry/owner changes into file_hashtags, which moves the counts.

// biome-ignore lint/suspicious/noExplicitAny: migrations run against an untyped database
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create extension if not exists pg_trgm`.execute(db);

  await sql`alter table files add column hashtags text[] not null default '{}'`.execute(db);
  await sql`
    update files set hashtags = t.names
    from (
      select fh.file_id, array_agg(h.name order by h.name) as names
      from file_hashtags fh join hashtags h on h.id = fh.hashtag_id
      group by fh.file_id
    ) t
    where t.file_id = files.id
  `.execute(db);

  await sql`
    alter table file_hashtags
      add column owner_id uuid,
      add column is_public boolean,
      add column created_at timestamptz,
      add column expires_at timestamptz
  `.execute(db);
  await sql`
    update file_hashtags fh
    set owner_id = f.owner_id, is_public = f.is_public, created_at = f.created_at, expires_at = f.expires_at
    from files f where f.id = fh.file_id
  `.execute(db);
  await sql`
    alter table file_hashtags
      alter column owner_id set not null,
      alter column is_public set not null,
      alter column created_at set not null
  `.execute(db);
  await sql`drop index if exists file_hashtags_hashtag_idx`.execute(db);
  await sql`create index file_hashtags_tag_created_idx on file_hashtags (hashtag_id, created_at desc, file_id desc)`.execute(
    db,
  );
  await sql`
    create index file_hashtags_tag_public_created_idx on file_hashtags (hashtag_id, created_at desc, file_id desc)
    where is_public
  `.execute(db);
  await sql`
    create index file_hashtags_tag_owner_created_idx
    on file_hashtags (hashtag_id, owner_id, created_at desc, file_id desc)
  `.execute(db);

  // One trigram index over name and description together: a query filters on the same expression (a superset
  // of the matches) and then on each column, so a match never spans the two.
  await sql`create index files_search_trgm_idx on files using gin ((name || ' ' || description) gin_trgm_ops)`.execute(
    db,
  );

  await sql`
    create table hashtag_counts (
      hashtag_id bigint primary key references hashtags(id) on delete cascade,
      public_count bigint not null default 0,
      total_count bigint not null default 0
    )
  `.execute(db);
  await sql`create index hashtag_counts_public_idx on hashtag_counts (public_count desc, hashtag_id)`.execute(db);
  await sql`
    create table hashtag_owner_counts (
      owner_id uuid not null references users(id) on delete cascade,
      hashtag_id bigint not null references hashtags(id) on delete cascade,
      private_count bigint not null default 0,
      primary key (owner_id, hashtag_id)
    )
  `.execute(db);
  await sql`create index hashtag_owner_counts_hashtag_idx on hashtag_owner_counts (hashtag_id)`.execute(db);

  // Signed deltas of link rows (`d`: hashtag_id, owner_id, is_public, sign), aggregated and applied in key
  // order (a fixed lock order, so concurrent writers never deadlock on the counters).
  const apply = (deltas: string) => `
      with d as (${deltas}),
      totals as (
        insert into hashtag_counts as c (hashtag_id, public_count, total_count)
        select hashtag_id, sum(case when is_public then sign else 0 end), sum(sign)
        from d group by hashtag_id order by hashtag_id
        on conflict (hashtag_id) do update
          set public_count = c.public_count + excluded.public_count,
              total_count = c.total_count + excluded.total_count
        returning 1
      )
      insert into hashtag_owner_counts as o (owner_id, hashtag_id, private_count)
      select owner_id, hashtag_id, sum(sign) from d where not is_public
      group by owner_id, hashtag_id order by owner_id, hashtag_id
      on conflict (owner_id, hashtag_id) do update set private_count = o.private_count + excluded.private_count;`;
  const changed = `
      from old_links o join new_links n on n.file_id = o.file_id and n.hashtag_id = o.hashtag_id
      where (o.owner_id, o.is_public) is distinct from (n.owner_id, n.is_public)`;
  // Statement-level triggers with transition tables: one aggregated counter update per statement.
  await sql
    .raw(`
    create function tagdrop_file_hashtags_counts() returns trigger language plpgsql as $$
    begin
      if tg_op = 'INSERT' then
        ${apply('select hashtag_id, owner_id, is_public, 1 as sign from new_links')}
      elsif tg_op = 'DELETE' then
        ${apply('select hashtag_id, owner_id, is_public, -1 as sign from old_links')}
      else
        ${apply(`select o.hashtag_id, o.owner_id, o.is_public, -1 as sign ${changed}
          union all select n.hashtag_id, n.owner_id, n.is_public, 1 as sign ${changed}`)}
      end if;
      return null;
    end $$
  `)
    .execute(db);
  await sql`
    create trigger file_hashtags_counts_insert after insert on file_hashtags
    referencing new table as new_links for each statement execute function tagdrop_file_hashtags_counts()
  `.execute(db);
  await sql`
    create trigger file_hashtags_counts_delete after delete on file_hashtags
    referencing old table as old_links for each statement execute function tagdrop_file_hashtags_counts()
  `.execute(db);
  await sql`
    create trigger file_hashtags_counts_update after update on file_hashtags
    referencing old table as old_links new table as new_links
    for each statement execute function tagdrop_file_hashtags_counts()
  `.execute(db);

  // A file's owner, visibility, creation or expiry time changed: its links follow (and with them the counts).
  await sql`
    create function tagdrop_files_sync_links() returns trigger language plpgsql as $$
    begin
      update file_hashtags fh
      set owner_id = n.owner_id, is_public = n.is_public, created_at = n.created_at, expires_at = n.expires_at
      from old_files o join new_files n on n.id = o.id
      where fh.file_id = n.id
        and (o.owner_id, o.is_public, o.created_at, o.expires_at)
            is distinct from (n.owner_id, n.is_public, n.created_at, n.expires_at);
      return null;
    end $$
  `.execute(db);
  await sql`
    create trigger files_sync_links after update on files
    referencing old table as old_files new table as new_files
    for each statement execute function tagdrop_files_sync_links()
  `.execute(db);

  // The counts of what exists now.
  await sql`
    insert into hashtag_counts (hashtag_id, public_count, total_count)
    select hashtag_id, count(*) filter (where is_public), count(*) from file_hashtags group by hashtag_id
  `.execute(db);
  await sql`
    insert into hashtag_owner_counts (owner_id, hashtag_id, private_count)
    select owner_id, hashtag_id, count(*) from file_hashtags where not is_public group by owner_id, hashtag_id
  `.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run against an untyped database
export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger if exists files_sync_links on files`.execute(db);
  await sql`drop function if exists tagdrop_files_sync_links()`.execute(db);
  for (const t of ['insert', 'delete', 'update']) {
    await sql.raw(`drop trigger if exists file_hashtags_counts_${t} on file_hashtags`).execute(db);
  }
  await sql`drop function if exists tagdrop_file_hashtags_counts()`.execute(db);
  await sql`drop table if exists hashtag_owner_counts`.execute(db);
  await sql`drop table if exists hashtag_counts`.execute(db);
  await sql`drop index if exists files_search_trgm_idx`.execute(db);
  await sql`drop index if exists file_hashtags_tag_owner_created_idx`.execute(db);
  await sql`drop index if exists file_hashtags_tag_public_created_idx`.execute(db);
  await sql`drop index if exists file_hashtags_tag_created_idx`.execute(db);
  await sql`create index file_hashtags_hashtag_idx on file_hashtags (hashtag_id, file_id)`.execute(db);
  await sql`
    alter table file_hashtags
      drop column owner_id, drop column is_public, drop column created_at, drop column expires_at
  `.execute(db);
  await sql`alter table files drop column hashtags`.execute(db);
}
