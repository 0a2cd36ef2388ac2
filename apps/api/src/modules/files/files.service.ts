import { randomBytes, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline as streamPipeline } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FileDto, ListFilesInput, UpdateFileInput } from '@tagdrop/contracts';
import type { Db, FileRow } from '@tagdrop/db';
import { sql } from 'kysely';
import type { AppDeps } from '../../deps.js';
import { AppError } from '../../errors.js';
import { audit } from '../../infra/audit.js';
import type { AuthUser } from '../auth/auth.service.js';
import { emptyStats } from '../stats/stats.types.js';
import { sanitizeFilename } from './filename.js';
import { bytesUsed, hasHashtag, matchesSearch, notExpired, selectFiles, setFileHashtags } from './files.queries.js';
import { collectHashtags, normalizeHashtag } from './hashtags.js';
import { Inspector } from './inspect.js';

export type FilesDeps = Pick<AppDeps, 'db' | 'config' | 'storage' | 'stats' | 'log'>;
type FileWithTags = FileRow & { hashtags: string[] };

/** 192 random bits, URL-safe: the secret of a private link. */
export const newShareToken = () => randomBytes(24).toString('base64url');

const iso = (d: Date) => d.toISOString();

export function baseUrlOf(deps: Pick<AppDeps, 'config'>, requestOrigin: string): string {
  return (deps.config.PUBLIC_URL ?? requestOrigin).replace(/\/+$/, '');
}

export function isExpired(file: Pick<FileRow, 'expires_at'>, now = new Date()): boolean {
  return file.expires_at !== null && file.expires_at <= now;
}

const canManage = (user: AuthUser | null, file: Pick<FileRow, 'owner_id'>) =>
  Boolean(user && (user.id === file.owner_id || user.role === 'admin'));

/** The API's file object; the private link only for the owner and admins, and only for private files. */
export async function toFileDtos(
  deps: FilesDeps,
  files: FileWithTags[],
  viewer: AuthUser | null,
  baseUrl: string,
): Promise<FileDto[]> {
  const stats = await deps.stats.summaries(files.map((f) => f.id));
  return files.map((f) => ({
    id: f.id,
    name: f.name,
    size: Number(f.size),
    mime_type: f.mime_type,
    sha256: f.sha256,
    description: f.description,
    hashtags: f.hashtags,
    is_public: f.is_public,
    expires_at: f.expires_at ? iso(f.expires_at) : null,
    created_at: iso(f.created_at),
    updated_at: iso(f.updated_at),
    download_url: `${baseUrl}/f/${f.id}`,
    share_url: !f.is_public && canManage(viewer, f) ? `${baseUrl}/s/${f.share_token}` : null,
    stats: stats.get(f.id) ?? emptyStats(),
  }));
}

async function toFileDto(deps: FilesDeps, file: FileWithTags, viewer: AuthUser | null, baseUrl: string) {
  const [dto] = await toFileDtos(deps, [file], viewer, baseUrl);
  return dto as FileDto;
}

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

export type Scope = { kind: 'own'; user: AuthUser } | { kind: 'public' } | { kind: 'all' };

/** A page of files, newest first, keyset-paginated on (created_at, id). */
export async function listFiles(
  deps: FilesDeps,
  scope: Scope,
  input: Partial<ListFilesInput> & { owner_id?: string },
  viewer: AuthUser | null,
  baseUrl: string,
) {
  const limit = input.limit ?? 20;
  const hashtag = input.hashtag ? normalizeHashtag(input.hashtag) : undefined;
  const search = input.search?.trim();
  const cursor = input.cursor ? decodeCursor(input.cursor) : undefined;
  let q = selectFiles(deps.db);
  if (scope.kind === 'own') q = q.where('files.owner_id', '=', scope.user.id);
  if (scope.kind === 'public') q = q.where('files.is_public', '=', true);
  if (scope.kind !== 'all') q = q.where(notExpired);
  if (input.owner_id) q = q.where('files.owner_id', '=', input.owner_id);
  if (input.hashtag !== undefined) q = q.where((eb) => hasHashtag(eb, hashtag ?? ''));
  if (search) q = q.where((eb) => matchesSearch(eb, search));
  if (cursor) {
    q = q.where(sql<boolean>`(files.created_at, files.id) < (${cursor.createdAt}::timestamptz, ${cursor.id}::uuid)`);
  }
  const rows = await q
    .select(sql<string>`to_char(files.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('cursor_at'))
    .orderBy('files.created_at', 'desc')
    .orderBy('files.id', 'desc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    results: await toFileDtos(deps, page, viewer, baseUrl),
    next: rows.length > limit && last ? encodeCursor(last) : null,
  };
}

const notFound = () => new AppError('not_found', 'No such file.');

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
export async function getSharedFile(deps: FilesDeps, token: string, viewer: AuthUser | null, baseUrl: string) {
  const file = isShareToken(token)
    ? await selectFiles(deps.db)
        .where('files.share_token', '=', token)
        .where('files.is_public', '=', false)
        .executeTakeFirst()
    : undefined;
  if (!file) throw notFound();
  if (isExpired(file)) throw new AppError('gone', 'This file has expired.');
  return toFileDto(deps, file, viewer, baseUrl);
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

export function parseExpiry(value: string | null | undefined, field = 'expires_at'): Date | null | undefined {
  if (value === undefined) return undefined;
  if (value === null || value === '') return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new AppError('validation_error', 'expires_at must be an ISO 8601 date-time.', {
      fields: { [field]: ['Invalid date'] },
    });
  }
  if (date.getTime() <= Date.now()) {
    throw new AppError('validation_error', 'expires_at must be in the future.', {
      fields: { [field]: ['Must be in the future'] },
    });
  }
  return date;
}

export async function updateFile(
  deps: FilesDeps,
  viewer: AuthUser,
  id: string,
  input: UpdateFileInput,
  baseUrl: string,
) {
  const file = await getManagedFile(deps, viewer, id);
  const expiresAt = parseExpiry(input.expires_at);
  const description = input.description ?? file.description;
  const hashtagsChanged = input.hashtags !== undefined || input.description !== undefined;
  const hashtags = hashtagsChanged ? collectHashtags(input.hashtags ?? file.hashtags, description) : file.hashtags;
  await deps.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('files')
      .set({
        ...(input.name !== undefined ? { name: sanitizeFilename(input.name) } : {}),
        ...(input.description !== undefined ? { description } : {}),
        ...(input.is_public !== undefined ? { is_public: input.is_public } : {}),
        ...(expiresAt !== undefined ? { expires_at: expiresAt } : {}),
        updated_at: new Date(),
      })
      .where('id', '=', id)
      .execute();
    if (hashtagsChanged) await setFileHashtags(trx, id, hashtags);
  });
  await audit(deps.db, {
    actorId: viewer.id,
    action: 'file.updated',
    targetType: 'file',
    targetId: id,
    meta: { fields: Object.keys(input) },
  });
  return getFile(deps, viewer, id, baseUrl);
}

export async function rotateLink(deps: FilesDeps, viewer: AuthUser, id: string, baseUrl: string) {
  await getManagedFile(deps, viewer, id);
  await deps.db
    .updateTable('files')
    .set({ share_token: newShareToken(), updated_at: new Date() })
    .where('id', '=', id)
    .execute();
  await audit(deps.db, { actorId: viewer.id, action: 'file.link_rotated', targetType: 'file', targetId: id });
  return getFile(deps, viewer, id, baseUrl);
}

/**
 * Deletes files: rows first (so nothing can reach them any more), then the bytes, then the cached
 * statistics. A crash in between leaves only an orphaned object, which the sweeper removes.
 */
export async function deleteFiles(deps: FilesDeps, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const removed = await deps.db.deleteFrom('files').where('id', 'in', ids).returning(['id', 'storage_key']).execute();
  if (removed.length > 0) {
    // The finished tus uploads that produced these bytes.
    await deps.db
      .deleteFrom('uploads')
      .where(
        'id',
        'in',
        removed.map((r) => r.storage_key),
      )
      .execute();
  }
  await Promise.all(removed.map((r) => deps.storage.delete(r.storage_key)));
  await deps.stats.forget(removed.map((r) => r.id));
  return removed.map((r) => r.id);
}

export async function deleteFile(deps: FilesDeps, viewer: AuthUser, id: string) {
  const file = await getManagedFile(deps, viewer, id);
  await deleteFiles(deps, [id]);
  await audit(deps.db, {
    actorId: viewer.id,
    action: 'file.deleted',
    targetType: 'file',
    targetId: id,
    meta: { name: file.name, owner_id: file.owner_id },
  });
  return { detail: 'File deleted.' };
}

/** Limits for one more upload by this user: the size cap and what is left of the quota. */
export async function uploadAllowance(deps: FilesDeps, ownerId: string, exceptUploadId?: string, db: Db = deps.db) {
  const used = await bytesUsed(db, ownerId, deps.config.MAX_UPLOAD_BYTES, exceptUploadId);
  return { maxBytes: deps.config.MAX_UPLOAD_BYTES, remainingQuota: Math.max(0, deps.config.USER_QUOTA_BYTES - used) };
}

/**
 * Reserves room for an upload: checks the size cap and the quota and records the upload in one transaction
 * serialised per owner, so parallel uploads cannot together overrun the quota. `size` null: not known yet (the
 * reservation then counts as the largest allowed file until the length is declared).
 */
export async function reserveUpload(
  deps: FilesDeps,
  args: {
    id: string;
    ownerId: string;
    size: number | null;
    replaces: string | null;
    metadata: Record<string, string | null>;
  },
) {
  return deps.db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext(${`quota:${args.ownerId}`}))`.execute(trx);
    const allowance = await uploadAllowance(deps, args.ownerId, undefined, trx);
    if (args.size === null && allowance.remainingQuota === 0) {
      throw new AppError('quota_exceeded', 'No quota left for another upload.');
    }
    assertWithinLimits(args.size ?? 0, allowance);
    await trx
      .insertInto('uploads')
      .values({
        id: args.id,
        owner_id: args.ownerId,
        replaces_file_id: args.replaces,
        size: args.size,
        metadata: JSON.stringify(args.metadata),
        expires_at: new Date(Date.now() + UPLOAD_RESERVATION_MS),
      })
      .execute();
    return allowance;
  });
}

/** Unfinished uploads expire after a day (tus expiration extension); multipart reservations likewise. */
export const UPLOAD_RESERVATION_MS = 24 * 60 * 60 * 1000;

export function assertWithinLimits(size: number, allowance: { maxBytes: number; remainingQuota: number }) {
  if (size > allowance.maxBytes) {
    throw new AppError('payload_too_large', `Files are limited to ${allowance.maxBytes} bytes.`);
  }
  if (size > allowance.remainingQuota) {
    throw new AppError('quota_exceeded', `Not enough quota left: ${allowance.remainingQuota} bytes remain.`);
  }
}

export interface NewFileMeta {
  name: string;
  description: string;
  hashtags: string[];
  is_public: boolean;
  expires_at: Date | null;
}

/** Validates upload metadata (from tus Upload-Metadata or multipart fields) into a NewFileMeta. */
export function parseFileMeta(raw: Record<string, string | null | undefined>): NewFileMeta {
  const description = raw.description ?? '';
  if (description.length > 5000) {
    throw new AppError('invalid_metadata', 'The description is at most 5000 characters.', {
      fields: { description: ['Too long'] },
    });
  }
  const isPublicRaw = (raw.is_public ?? 'false').toLowerCase();
  if (!['true', 'false', '1', '0', ''].includes(isPublicRaw)) {
    throw new AppError('invalid_metadata', 'is_public must be true or false.', {
      fields: { is_public: ['Must be true or false'] },
    });
  }
  let hashtags: string[];
  let expiresAt: Date | null | undefined;
  try {
    hashtags = collectHashtags(raw.hashtags ?? undefined, description);
    expiresAt = parseExpiry(raw.expires_at ?? undefined);
  } catch (err) {
    if (err instanceof AppError) throw new AppError('invalid_metadata', err.message, { fields: err.fields });
    throw err;
  }
  return {
    name: sanitizeFilename(raw.filename ?? raw.name),
    description,
    hashtags,
    is_public: isPublicRaw === 'true' || isPublicRaw === '1',
    expires_at: expiresAt ?? null,
  };
}

/** Reads a stored object once: sha256, sniffed content type, size. */
export async function inspectStored(deps: Pick<AppDeps, 'storage'>, key: string) {
  const inspector = new Inspector();
  const source = await deps.storage.read(key);
  await pipeline(source, inspector, async (stream: AsyncIterable<Buffer>) => {
    for await (const _ of stream) {
      // drain
    }
  });
  return inspector.result();
}

/**
 * Makes finished bytes (already in storage under `key`) a ready file: a new file with id `newId`, or the new
 * content of `replaces` (same id, links and statistics; the old bytes are removed).
 */
export async function commitContent(
  deps: FilesDeps,
  args: {
    key: string;
    ownerId: string;
    newId: string;
    replaces: string | null;
    meta: Partial<NewFileMeta> & { name: string };
    inspected: { sha256: string; mimeType: string; size: number };
    actorIp?: string;
  },
): Promise<string> {
  const { key, inspected } = args;
  if (args.replaces) {
    const replacedId = args.replaces;
    const old = await deps.db.transaction().execute(async (trx) => {
      const current = await trx
        .selectFrom('files')
        .select(['storage_key'])
        .where('id', '=', replacedId)
        .forUpdate()
        .executeTakeFirst();
      if (!current) return undefined;
      await trx
        .updateTable('files')
        .set({
          storage_key: key,
          size: inspected.size,
          sha256: inspected.sha256,
          mime_type: inspected.mimeType,
          name: args.meta.name,
          updated_at: new Date(),
        })
        .where('id', '=', replacedId)
        .execute();
      await trx.updateTable('uploads').set({ completed_at: new Date() }).where('id', '=', key).execute();
      return current;
    });
    if (!old) {
      await deps.storage.delete(key);
      throw notFound();
    }
    await deps.storage.delete(old.storage_key);
    await audit(deps.db, {
      actorId: args.ownerId,
      action: 'file.replaced',
      targetType: 'file',
      targetId: replacedId,
      ip: args.actorIp,
    });
    return replacedId;
  }
  await deps.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('files')
      .values({
        id: args.newId,
        owner_id: args.ownerId,
        name: args.meta.name,
        size: inspected.size,
        mime_type: inspected.mimeType,
        sha256: inspected.sha256,
        storage_key: key,
        is_public: args.meta.is_public ?? false,
        share_token: newShareToken(),
        description: args.meta.description ?? '',
        expires_at: args.meta.expires_at ?? null,
      })
      .execute();
    await setFileHashtags(trx, args.newId, args.meta.hashtags ?? []);
    await trx.updateTable('uploads').set({ completed_at: new Date() }).where('id', '=', key).execute();
  });
  await audit(deps.db, {
    actorId: args.ownerId,
    action: 'file.created',
    targetType: 'file',
    targetId: args.newId,
    ip: args.actorIp,
    meta: { size: inspected.size },
  });
  return args.newId;
}

/**
 * Streams an upload (multipart) into storage under a new key, enforcing the size limit and the quota
 * while bytes arrive (never buffering the file), then commits it as a new file or new content of `replaces`.
 */
export async function storeStream(
  deps: FilesDeps,
  args: {
    owner: AuthUser;
    body: Readable;
    /** Upper bound of the size when known (the request's Content-Length). */
    sizeHint?: number;
    replaces: string | null;
    meta: Partial<NewFileMeta> & { name: string };
    ip?: string;
  },
): Promise<string> {
  const key = randomUUID();
  const hint = args.sizeHint !== undefined ? Math.min(args.sizeHint, deps.config.MAX_UPLOAD_BYTES) : null;
  const allowance = await reserveUpload(deps, {
    id: key,
    ownerId: args.owner.id,
    size: hint,
    replaces: args.replaces,
    metadata: { filename: args.meta.name },
  });
  const limit = Math.min(allowance.maxBytes, allowance.remainingQuota);
  const quotaBound = allowance.remainingQuota < allowance.maxBytes;
  const inspector = new Inspector({
    bytes: limit,
    onLimit: () =>
      quotaBound
        ? new AppError('quota_exceeded', `Not enough quota left: ${allowance.remainingQuota} bytes remain.`)
        : new AppError('payload_too_large', `Files are limited to ${allowance.maxBytes} bytes.`),
  });
  const abandon = async () => {
    await deps.storage.delete(key);
    await deps.db.deleteFrom('uploads').where('id', '=', key).execute();
  };
  try {
    // pipeline (not pipe): a client that goes away mid-upload fails the write, which frees the file handle.
    await deps.storage.put(
      key,
      streamPipeline(args.body, inspector, () => {}),
    );
    // A multipart parser may cut the file at its own size limit and end the stream normally: never commit that.
    if ((args.body as Readable & { truncated?: boolean }).truncated) {
      throw new AppError('payload_too_large', `Files are limited to ${allowance.maxBytes} bytes.`);
    }
  } catch (err) {
    args.body.resume();
    await abandon();
    throw err;
  }
  try {
    const inspected = await inspector.result();
    return await commitContent(deps, {
      key,
      ownerId: args.owner.id,
      newId: key,
      replaces: args.replaces,
      meta: args.meta,
      inspected,
      actorIp: args.ip,
    });
  } catch (err) {
    await abandon();
    throw err;
  }
}
