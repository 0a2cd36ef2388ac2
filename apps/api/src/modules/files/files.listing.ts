import type { ListFilesInput } from '@tagdrop/contracts';
import type { Db, FileRow } from '@tagdrop/db';
import { sql } from 'kysely';
import type { AppDeps } from '../../deps.types.js';
import { AppError } from '../../errors.js';
import type { AuthUser } from '../auth/auth.service.js';
import { canManage, isExpired, toFileDto, toListItems } from './files.dto.js';
import { matchesSearch, selectFiles } from './files.queries.js';
import type { FilesDeps, FileWithTags, Scope } from './files.types.js';
import { normalizeHashtag } from './hashtags.js';
import { exhausted, isExhausted, linkOpen, passwordRequired } from './link-rules.js';
import { previewLinks } from './links.js';

// Cursor: base64url("<created_at with microseconds>|<id>") of the last row of the page. PostgreSQL keeps
// microseconds and a JS Date only milliseconds, so the timestamp travels as text.
const encodeCursor = (f: { cursor_at: string; id: string }) =>
  Buffer.from(`${f.cursor_at}|${f.id}`).toString('base64url');
function decodeCursor(cursor: string): { createdAt: string; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const validId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id ?? '');
  if (!at || !validId || !/^\d{4}-\d{2}-\d{2}T[\d:.]+Z$/.test(at) || Number.isNaN(Date.parse(at))) {
    throw new AppError('validation_error', 'That cursor is not valid.', { fields: { cursor: ['Invalid cursor'] } });
  }
  return { createdAt: at, id: id as string };
}

/**
 * A page of files, newest first, keyset-paginated on (created_at, id). With a hashtag, the page is read from
 * the hashtag's links in (created_at, file_id) order (they carry owner, visibility and expiry), so the query
 * reads about one page of rows whatever the catalogue's size; otherwise from files by (owner or public,
 * created_at). Search uses the trigram index on name and description (3 characters or more).
 */
export async function listFiles(
  deps: FilesDeps,
  scope: Scope,
  input: Partial<ListFilesInput> & { owner_id?: string },
  viewer: AuthUser | null,
  baseUrl: string,
) {
  const limit = input.limit ?? 20;
  const tagged = input.hashtag !== undefined;
  const hashtag = tagged ? normalizeHashtag(input.hashtag ?? '') : '';
  const search = input.search?.trim();
  const cursor = input.cursor ? decodeCursor(input.cursor) : undefined;
  // The columns filtered and ordered on: the link's copy when listing a hashtag, else the file's own.
  const t = tagged ? 'fh' : 'files';
  const col = (c: 'owner_id' | 'is_public' | 'expires_at' | 'created_at') => sql.ref(`${t}.${c}`);
  const idCol = sql.ref(tagged ? 'fh.file_id' : 'files.id');
  let q = selectFiles(deps.db).$if(tagged, (qb) =>
    qb.innerJoin('file_hashtags as fh', (join) =>
      join
        .onRef('fh.file_id', '=', 'files.id')
        .on(sql<boolean>`fh.hashtag_id = (select id from hashtags where name = ${hashtag})`),
    ),
  );
  if (scope.kind === 'own') q = q.where(sql<boolean>`${col('owner_id')} = ${scope.user.id}`);
  if (scope.kind === 'public') q = q.where(sql<boolean>`${col('is_public')}`);
  if (scope.kind !== 'all') {
    q = q.where(sql<boolean>`(${col('expires_at')} is null or ${col('expires_at')} > now())`);
  }
  if (input.owner_id) q = q.where(sql<boolean>`${col('owner_id')} = ${input.owner_id}`);
  if (search) q = q.where((eb) => matchesSearch(eb, search));
  if (cursor) {
    q = q.where(
      sql<boolean>`(${col('created_at')}, ${idCol}) < (${cursor.createdAt}::timestamptz, ${cursor.id}::uuid)`,
    );
  }
  const rows = await q
    .select(sql<string>`to_char(files.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('cursor_at'))
    .orderBy(col('created_at'), 'desc')
    .orderBy(idCol, 'desc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    results: await toListItems(deps, page, viewer, baseUrl),
    next: rows.length > limit && last ? encodeCursor(last) : null,
  };
}

export const notFound = () => new AppError('not_found', 'No such file.');

/** A file the viewer may manage (owner or admin); anyone else gets 404, not 403, so ids reveal nothing. */
export async function getManagedFile(deps: FilesDeps, viewer: AuthUser, id: string): Promise<FileWithTags> {
  const file = await selectFiles(deps.db).where('files.id', '=', id).executeTakeFirst();
  if (!file || !canManage(viewer, file)) throw notFound();
  return file;
}

export async function getFile(deps: FilesDeps, viewer: AuthUser, id: string, baseUrl: string) {
  return toFileDto(deps, await getManagedFile(deps, viewer, id), viewer, baseUrl);
}

/** A public, unexpired file (for everyone). */
export async function getPublicFile(deps: FilesDeps, id: string, viewer: AuthUser | null, baseUrl: string) {
  const file = await selectFiles(deps.db)
    .where('files.id', '=', id)
    .where('files.is_public', '=', true)
    .executeTakeFirst();
  if (!file) throw notFound();
  if (isExpired(file)) throw new AppError('gone', 'This file has expired.');
  return toFileDto(deps, file, viewer, baseUrl);
}

const isShareToken = (token: string) => /^[A-Za-z0-9_-]{20,64}$/.test(token);

/** The private file behind a share link, as the API's file object. */
export async function getSharedFile(
  deps: FilesDeps & Pick<AppDeps, 'keys'>,
  token: string,
  viewer: AuthUser | null,
  baseUrl: string,
  unlock?: string,
) {
  const file = isShareToken(token)
    ? await selectFiles(deps.db)
        .where('files.share_token', '=', token)
        .where('files.is_public', '=', false)
        .executeTakeFirst()
    : undefined;
  if (!file) throw notFound();
  if (isExpired(file)) throw new AppError('gone', 'This file has expired.');
  // What the link shows follows the same rules as its bytes (downloads/access.ts): its password and its limit.
  const privileged = canManage(viewer, file);
  if (!privileged && isExhausted(file)) throw exhausted();
  if (!privileged && !linkOpen(deps.keys.unlock, file, unlock)) throw passwordRequired();
  return toFileDto(deps, file, viewer, baseUrl, token, file.link_password_hash ? unlock : undefined);
}

/** Signed links to a file's bytes for its owner's (or an admin's) browser: previews, players, the download. */
export async function getPreviewLinks(deps: FilesDeps, viewer: AuthUser, id: string, baseUrl: string) {
  return previewLinks(deps, await getManagedFile(deps, viewer, id), baseUrl);
}

/** The row behind a share link, for downloads (no hashtags needed on that path). */
export async function findSharedFile(db: Db, token: string): Promise<FileRow | undefined> {
  if (!isShareToken(token)) return undefined;
  return db
    .selectFrom('files')
    .selectAll()
    .where('share_token', '=', token)
    .where('is_public', '=', false)
    .executeTakeFirst();
}
