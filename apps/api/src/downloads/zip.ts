import type { PassThrough } from 'node:stream';
import { MAX_BULK_FILES } from '@tagdrop/contracts';
import type { FileRow } from '@tagdrop/db';
import { sql } from 'kysely';
import yazl from 'yazl';
import type { AppDeps } from '../deps.types.js';
import { AppError } from '../errors.js';
import type { AuthUser } from '../modules/auth/auth.service.js';
import { sanitizeFilename } from '../modules/files/filename.js';
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
 * The public, unexpired files of a hashtag that have downloads left, newest first (400 past the limit, 404 for
 * none). Nothing is taken here: see takeZipDownloads.
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
  if (rows.length === 0) throw noPublicFiles(hashtag);
  return rows;
}

export const noPublicFiles = (hashtag: string) => new AppError('not_found', `No public files with #${hashtag}.`);

/**
 * Files with a download limit take one of their downloads, atomically in one statement (a ZIP is a whole download
 * of each file in it); those with none left by now are dropped. Called once the archive's entries are prepared,
 * for a GET only (HEAD takes nothing).
 */
export async function takeZipDownloads(deps: Pick<AppDeps, 'db'>, rows: FileRow[]): Promise<FileRow[]> {
  const limited = rows.filter((f) => f.max_downloads !== null).map((f) => f.id);
  if (limited.length === 0) return rows;
  const { rows: taken } = await sql<{ id: string }>`
    update files set download_count = download_count + 1
    where id = any(${limited}::uuid[]) and max_downloads is not null and download_count < max_downloads
    returning id
  `.execute(deps.db);
  const ok = new Set(taken.map((r) => r.id));
  return rows.filter((f) => f.max_downloads === null || ok.has(f.id));
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

/** Characters Windows forbids in a file name (and the path separators): never in an entry name. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are among those replaced
const FORBIDDEN = /[<>:"/\\|?*\u0000-\u001f\u007f]/g;
/** Names Windows keeps for devices, whatever the extension (`nul.txt` too). */
const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\.|$)/i;

/**
 * A file's name as a ZIP entry: always one valid relative name that every unzip tool extracts inside its target
 * directory. Names of stored files are sanitized already (filename.ts), but older rows, imports and admin edits
 * may hold anything: `A: notes.txt` (yazl and Windows read `X:` as a drive), `..\evil.txt`, `/etc/passwd`. Leading
 * dots, slashes and spaces go, each character Windows forbids (`<>:"/\\|?*`, controls) becomes `_`, trailing dots
 * and spaces go, device names get a `_` in front, and an empty result is `file`.
 */
export function zipEntryName(raw: string): string {
  const cleaned = sanitizeFilename(raw.replace(/^[\s./\\]+/, '').replace(FORBIDDEN, '_'), '')
    .replace(/[\s.]+$/, '')
    .trim();
  if (!cleaned) return 'file';
  return RESERVED.test(cleaned) ? `_${cleaned}` : cleaned;
}

/** What yazl refuses (an absolute or drive path, `..`, empty): never true of zipEntryName's names. */
const invalidEntryName = (name: string) => {
  const path = name.replace(/\\/g, '/');
  return name === '' || /^[a-zA-Z]:/.test(path) || path.startsWith('/') || path.split('/').includes('..');
};

export interface ZipEntry {
  file: FileRow;
  name: string;
}

/**
 * The archive's entries: safe names (zipEntryName), de-duplicated, each checked as yazl checks them. Prepared
 * before anything is taken or counted, so a name can never fail the archive after downloads were taken.
 */
export function zipEntries(files: FileRow[]): ZipEntry[] {
  const names = uniqueNames(files.map((f) => zipEntryName(f.name)));
  return files.map((file, i) => {
    const name = names[i] as string;
    if (invalidEntryName(name)) throw new Error(`unsafe ZIP entry name for file ${file.id}`);
    return { file, name };
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
export function zipStream(deps: Pick<AppDeps, 'storage' | 'log'>, entries: ZipEntry[]): ZipStream {
  const zip = new yazl.ZipFile();
  for (const { file, name } of entries) {
    zip.addReadStreamLazy(
      name,
      { size: Number(file.size), mtime: file.updated_at, mode: 0o100644, compress: false },
      (cb) => {
        deps.storage.read(file.storage_key).then(
          (stream) => cb(null, stream),
          (err: Error) => cb(err, undefined as never),
        );
      },
    );
  }
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

/**
 * The length the archive of these entries would have, for HEAD: the same yazl layout, whose entries are never
 * opened (no storage read, nothing streamed; the unfinished archive is dropped).
 */
export function zipLength(entries: ZipEntry[]): Promise<number> {
  const zip = new yazl.ZipFile();
  for (const { file, name } of entries) {
    zip.addReadStreamLazy(
      name,
      { size: Number(file.size), mtime: file.updated_at, mode: 0o100644, compress: false },
      () => {},
    );
  }
  const sizeKnown = (resolve: (n: number) => void) => ((total: number) => resolve(total)) as () => void;
  return new Promise<number>((resolve) => zip.end(undefined, sizeKnown(resolve)));
}
