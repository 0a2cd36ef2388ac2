import { type BulkFilesInput, type BulkFilesOutput, MAX_HASHTAGS } from '@tagdrop/contracts';
import type { Db } from '@tagdrop/db';
import { sql } from 'kysely';
import { AppError } from '../../errors.js';
import type { AuthUser } from '../auth/auth.service.js';
import { auditFiles, deleteManagedFiles, type LockedFile, lockManagedFiles, parseExpiry } from './files.service.js';
import type { FilesDeps } from './files.types.js';
import { collectHashtags, hashtagsInText } from './hashtags.js';

/**
 * One action on up to 500 files (POST /api/files/bulk/, files.bulk), all or nothing: the rows are locked and
 * checked first (any id not the caller's, admins aside, → 404 and nothing changes), then the change is a handful
 * of set-based statements in the same transaction, whatever the number of files. The kept hashtag counts move
 * through the same triggers as single-file changes; every file gets the audit entry a single change writes.
 */
export async function bulkFiles(deps: FilesDeps, viewer: AuthUser, input: BulkFilesInput): Promise<BulkFilesOutput> {
  const ids = [...new Set(input.ids.map((id) => id.toLowerCase()))];
  if (input.action === 'delete') return { updated: await deleteManagedFiles(deps, viewer, ids) };
  // Arguments are checked before anything is locked.
  const names = 'hashtags' in input ? hashtagArgument(input.hashtags) : [];
  const expiresAt = input.action === 'set_expiry' ? (parseExpiry(input.expires_at) ?? null) : null;
  const fields: Record<string, string[]> = {
    add_hashtags: ['hashtags'],
    remove_hashtags: ['hashtags'],
    make_public: ['is_public'],
    make_private: ['is_public'],
    set_expiry: ['expires_at'],
  };
  await deps.db.transaction().execute(async (trx) => {
    const files = await lockManagedFiles(trx, viewer, ids);
    switch (input.action) {
      case 'make_public': {
        // A password protects the private link only: making public a file that has one is refused (nothing
        // changes); remove its password first (README "Link controls").
        const locked = await trx
          .selectFrom('files')
          .select('name')
          .where(sql<boolean>`id = any(${ids}::uuid[])`)
          .where('link_password_hash', 'is not', null)
          .where('is_public', '=', false)
          .limit(1)
          .executeTakeFirst();
        if (locked) {
          throw new AppError(
            'link_password_requires_private',
            'Some of these files have a link password, which protects the private link only: remove it before ' +
              'making them public. Nothing was changed.',
            { fields: { ids: [`"${locked.name}" has a link password: remove it before making the file public`] } },
          );
        }
        await touchFiles(trx, ids, { is_public: true });
        break;
      }
      case 'make_private':
        // Every file has its private link from the start (share_token is never null): making one private
        // needs no new link, and the triggers move its links (and the counts) to the private side.
        await touchFiles(trx, ids, { is_public: false });
        break;
      case 'set_expiry':
        await touchFiles(trx, ids, { expires_at: expiresAt });
        break;
      case 'add_hashtags':
        await addHashtags(trx, ids, names);
        break;
      case 'remove_hashtags':
        await removeHashtags(trx, files, names);
        break;
    }
    await auditFiles(trx, viewer, files, 'file.updated', () => ({ fields: fields[input.action], bulk: input.action }));
  });
  // As after a single change: every instance's cached download rows of these files stop being served at once.
  await deps.stats.dropTokens(ids);
  return { updated: ids.length };
}

function hashtagArgument(raw: string[] | string): string[] {
  const names = collectHashtags(raw, undefined);
  if (names.length === 0) {
    throw new AppError('validation_error', 'Name at least one hashtag.', { fields: { hashtags: ['Required'] } });
  }
  return names;
}

async function touchFiles(trx: Db, ids: string[], set: { is_public?: boolean; expires_at?: Date | null }) {
  await trx
    .updateTable('files')
    .set({ ...set, updated_at: new Date() })
    .where(sql<boolean>`id = any(${ids}::uuid[])`)
    .execute();
}

/** The files' sorted hashtag names, kept on their rows, recomputed from their links in one statement. */
async function storeHashtagNames(trx: Db, ids: string[]) {
  await sql`
    update files f
    set hashtags = coalesce((select array_agg(h.name order by h.name) from file_hashtags fh
                             join hashtags h on h.id = fh.hashtag_id where fh.file_id = f.id), '{}'),
        updated_at = now()
    where f.id = any(${ids}::uuid[])
  `.execute(trx);
}

async function addHashtags(trx: Db, ids: string[], names: string[]) {
  await trx
    .insertInto('hashtags')
    .values(names.map((name) => ({ name })))
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  // New links copy each file's owner, visibility and times, as setFileHashtags does for one file.
  await sql`
    insert into file_hashtags (file_id, hashtag_id, owner_id, is_public, created_at, expires_at)
    select f.id, h.id, f.owner_id, f.is_public, f.created_at, f.expires_at
    from files f join hashtags h on h.name = any(${names}::text[])
    where f.id = any(${ids}::uuid[])
    on conflict (file_id, hashtag_id) do nothing
  `.execute(trx);
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from (
      select file_id from file_hashtags where file_id = any(${ids}::uuid[])
      group by file_id having count(*) > ${MAX_HASHTAGS}
    ) t
  `.execute(trx);
  const over = rows[0]?.n ?? 0;
  if (over > 0) {
    // Thrown inside the transaction: nothing is kept.
    throw new AppError('validation_error', `A file has at most ${MAX_HASHTAGS} hashtags.`, {
      fields: { hashtags: [`${over} of these files would have more than ${MAX_HASHTAGS} hashtags`] },
    });
  }
  await storeHashtagNames(trx, ids);
}

/**
 * Unlinks the hashtags, except where a file's description names one as a #word: as with a single-file change,
 * a file always carries the #words of its description (edit the description to drop those).
 */
async function removeHashtags(trx: Db, files: LockedFile[], names: string[]) {
  const fileIds: string[] = [];
  const tagNames: string[] = [];
  for (const f of files) {
    const written = new Set(hashtagsInText(f.description));
    for (const name of names) {
      if (written.has(name)) continue;
      fileIds.push(f.id);
      tagNames.push(name);
    }
  }
  if (fileIds.length > 0) {
    await sql`
      delete from file_hashtags fh
      using unnest(${fileIds}::uuid[], ${tagNames}::text[]) as p(file_id, name), hashtags h
      where h.name = p.name and fh.hashtag_id = h.id and fh.file_id = p.file_id
    `.execute(trx);
  }
  await storeHashtagNames(
    trx,
    files.map((f) => f.id),
  );
}
