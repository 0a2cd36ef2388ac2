import type { PassThrough } from 'node:stream';
import { MAX_BULK_FILES } from '@tagdrop/contracts';
import type { FileRow } from '@tagdrop/db';
import { sql } from 'kysely';
import yazl from 'yazl';
import type { AppDeps } from '../deps.types.js';
import { AppError } from '../errors.js';
import type { AuthUser } from '../modules/auth/auth.service.js';
import { canManage, isExpired } from '../modules/files/files.dto.js';
import { normalizeHashtag } from '../modules/files/hashtags.js';

/**
 * ZIP downloads of many files (GET /api/files/zip/, GET /api/public/files/zip/): the archive is written as the
 * bytes are read from storage, one file at a time (no temporary copy, one storage stream open at once), entries
 * stored as they are (most shared files are compressed already), ZIP64 where an entry or the archive passes
 * 4 GiB. Each file in it counts one click, as a download through /f/{id} does.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const tooMany = (field: string, n: number | string) =>
  new AppError('validation_error', `A ZIP holds at most ${MAX_BULK_FILES} files (${n} asked for).`, {
    fields: { [field]: [`At most ${MAX_BULK_FILES} files`] },
  });

/** `a,b,c` → distinct, valid file ids (400 for none, a malformed one, or more than the limit). */
export function parseZipIds(raw: string): string[] {
  const ids = [...new Set(raw.split(',').map((s) => s.trim().toLowerCase()))].filter(Boolean);
  if (ids.length === 0) {
    throw new AppError('validation_error', 'Name at least one file id.', { fields: { ids: ['Required'] } });
  }
  if (ids.length > MAX_BULK_FILES) throw tooMany('ids', ids.length);
  const bad = ids.find((id) => !UUID.test(id));
  if (bad) {
    throw new AppError('validation_error', 'ids must be file ids, comma separated.', {
      fields: { ids: [`"${bad.slice(0, 40)}" is not a file id`] },
    });
  }
  return ids;
}

/** The viewer's files (admins: any), all of them or 404; an expired one (not swept yet) is 410, as on /f/{id}. */
export async function ownZipFiles(deps: Pick<AppDeps, 'db'>, viewer: AuthUser, ids: string[]): Promise<FileRow[]> {
  const rows = await deps.db
    .selectFrom('files')
    .selectAll()
    .where(sql<boolean>`id = any(${ids}::uuid[])`)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  if (rows.length !== ids.length || !rows.every((f) => canManage(viewer, f))) {
    throw new AppError('not_found', 'Some of these files do not exist or are not yours.');
  }
  const expired = rows.find((f) => isExpired(f));
  if (expired) throw new AppError('gone', `"${expired.name}" has expired.`);
  return rows;
}

/**
 * The public, unexpired files of a hashtag, newest first (400 past the limit). Files with a download limit take
 * one of their downloads, atomically in one statement; those with none left are not in the archive.
 */
export async function publicZipFiles(deps: Pick<AppDeps, 'db'>, rawHashtag: string): Promise<FileRow[]> {
  const hashtag = normalizeHashtag(rawHashtag);
  const rows = await deps.db
    .selectFrom('files')
    .innerJoin('file_hashtags as fh', 'fh.file_id', 'files.id')
    .selectAll('files')
    .where(sql<boolean>`fh.hashtag_id = (select id from hashtags where name = ${hashtag})`)
    .where('fh.is_public', '=', true)
    .where(sql<boolean>`(fh.expires_at is null or fh.expires_at > now())`)
    .where((eb) =>
      eb.or([eb('files.max_downloads', 'is', null), eb('files.download_count', '<', eb.ref('files.max_downloads'))]),
    )
    .orderBy('fh.created_at', 'desc')
    .orderBy('fh.file_id', 'desc')
    .limit(MAX_BULK_FILES + 1)
    .execute();
  if (rows.length > MAX_BULK_FILES) throw tooMany('hashtag', `more than ${MAX_BULK_FILES}`);
  const limited = rows.filter((f) => f.max_downloads !== null).map((f) => f.id);
  const none = () => new AppError('not_found', `No public files with #${hashtag}.`);
  if (limited.length === 0) {
    if (rows.length === 0) throw none();
    return rows;
  }
  const { rows: taken } = await sql<{ id: string }>`
    update files set download_count = download_count + 1
    where id = any(${limited}::uuid[]) and max_downloads is not null and download_count < max_downloads
    returning id
  `.execute(deps.db);
  const ok = new Set(taken.map((r) => r.id));
  const files = rows.filter((f) => f.max_downloads === null || ok.has(f.id));
  if (files.length === 0) throw none();
  return files;
}

/** Names unique inside the archive, ignoring case (as Windows and macOS do): a.txt, a (1).txt, a (2).txt. */
export function uniqueNames(names: string[]): string[] {
  const used = new Set<string>();
  return names.map((name) => {
    const dot = name.lastIndexOf('.');
    const [base, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
    let candidate = name;
    for (let i = 1; used.has(candidate.toLowerCase()); i++) candidate = `${base} (${i})${ext}`;
    used.add(candidate.toLowerCase());
    return candidate;
  });
}

export interface ZipStream {
  stream: PassThrough;
  /** The archive's exact length in bytes (known up front: every entry is stored with its size). */
  size: Promise<number>;
}

/**
 * Streams the files as one archive. Bytes come from the storage interface's read stream, opened lazily, one entry
 * at a time; a storage failure mid-way ends the stream with an error (the client sees a cut-off download,
 * never a ZIP that looks whole).
 */
export function zipStream(deps: Pick<AppDeps, 'storage' | 'log'>, files: FileRow[]): ZipStream {
  const zip = new yazl.ZipFile();
  const names = uniqueNames(files.map((f) => f.name));
  files.forEach((file, i) => {
    zip.addReadStreamLazy(
      names[i] as string,
      { size: Number(file.size), mtime: file.updated_at, mode: 0o100644, compress: false },
      (cb) => {
        deps.storage.read(file.storage_key).then(
          (stream) => cb(null, stream),
          (err: Error) => cb(err, undefined as never),
        );
      },
    );
  });
  const stream = zip.outputStream as PassThrough;
  zip.on('error', (err: Error) => {
    deps.log.warn({ err }, 'zip download failed');
    stream.destroy(err);
  });
  // (@types/yazl leaves out the callback's argument: the archive's total size, or -1 when not known up front.)
  const sizeKnown = (resolve: (n: number) => void) => ((total: number) => resolve(total)) as () => void;
  const size = new Promise<number>((resolve) => zip.end(undefined, sizeKnown(resolve)));
  return { stream, size };
}
