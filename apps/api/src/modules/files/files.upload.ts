import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline as streamPipeline } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Db } from '@tagdrop/db';
import type { AppDeps } from '../../deps.types.js';
import { AppError } from '../../errors.js';
import { audit } from '../../infra/audit.js';
import type { AuthUser } from '../auth/auth.service.js';
import { sanitizeFilename } from './filename.js';
import { notFound } from './files.listing.js';
import { setFileHashtags } from './files.queries.js';
import { newShareToken, parseExpiry } from './files.service.js';
import type { FilesDeps } from './files.types.js';
import { collectHashtags } from './hashtags.js';
import { Inspector } from './inspect.js';
import { reserveUpload } from './quota.js';
import { canThumbnail } from './thumbnails.js';

/** Uploads: quota reservations, metadata, and committing finished bytes as a file. */

/** What committing new content needs besides: the queue (an image's thumbnail is made by a job). */
type CommitDeps = FilesDeps & Pick<AppDeps, 'jobs'>;

export interface NewFileMeta {
  name: string;
  description: string;
  hashtags: string[];
  is_public: boolean;
  expires_at: Date | null;
  max_downloads: number | null;
  /** argon2id hash of the link's password (multipart only: tus metadata is not secret). */
  link_password_hash?: string | null;
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
  const maxRaw = (raw.max_downloads ?? '').trim();
  if (maxRaw !== '' && !(/^\d{1,10}$/.test(maxRaw) && Number(maxRaw) >= 1 && Number(maxRaw) <= 1_000_000_000)) {
    throw new AppError('invalid_metadata', 'max_downloads must be a whole number of at least 1.', {
      fields: { max_downloads: ['Must be a whole number ≥ 1'] },
    });
  }
  if (raw.link_password !== undefined && raw.link_password !== null && raw.link_password.length > 200) {
    throw new AppError('invalid_metadata', 'link_password is at most 200 characters.', {
      fields: { link_password: ['Too long'] },
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
    max_downloads: maxRaw === '' ? null : Number(maxRaw),
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

export interface CommitArgs {
  key: string;
  ownerId: string;
  newId: string;
  replaces: string | null;
  meta: Partial<NewFileMeta> & { name: string };
  inspected: { sha256: string; mimeType: string; size: number };
  actorIp?: string;
  /** Upload rows whose bytes this content is made of (tus partial uploads): marked consumed in the same step. */
  consumedUploads?: string[];
}

/** Content committed in a transaction: the file's id, and what follows once that transaction has committed. */
export interface Committed {
  fileId: string;
  afterCommit(): Promise<void>;
}

/**
 * Makes finished bytes (already in storage under `key`) a ready file: a new file with id `newId`, or the new
 * content of `replaces` (same id, links and statistics; the old bytes are removed).
 */
export async function commitContent(deps: CommitDeps, args: CommitArgs): Promise<string> {
  let committed: Committed;
  try {
    committed = await deps.db.transaction().execute((trx) => commitContentIn(deps, trx, args));
  } catch (err) {
    // The file it was to replace, or the upload itself, is gone: so are these bytes.
    if (err instanceof AppError && err.code === 'not_found') await deps.storage.delete(args.key);
    throw err;
  }
  await committed.afterCommit();
  return committed.fileId;
}

/**
 * The rows of commitContent, in the caller's transaction (one that already holds a lock, say: no second
 * connection is needed); what touches storage, the audit log and the queue waits for `afterCommit`, so a
 * transaction that fails still finds the old content's bytes where its rows say.
 *
 * The upload whose bytes these are is marked complete first, and only if it is not yet: of two requests
 * finishing the same upload at once (a PATCH and a HEAD after a restart, say) the second waits for the first's
 * row lock and then finds it done, so the file is made, and its old content replaced, exactly once. An upload
 * that is gone (terminated meanwhile) makes no file.
 */
export async function commitContentIn(deps: CommitDeps, trx: Db, args: CommitArgs): Promise<Committed> {
  const { key, inspected } = args;
  const done = (fileId: string): Committed => ({ fileId, afterCommit: async () => {} });
  const consume = async (): Promise<'consumed' | 'done'> => {
    const claimed = await trx
      .updateTable('uploads')
      .set({ completed_at: new Date() })
      .where('id', '=', key)
      .where('completed_at', 'is', null)
      .returning('id')
      .executeTakeFirst();
    if (!claimed) {
      const row = await trx.selectFrom('uploads').select('id').where('id', '=', key).executeTakeFirst();
      if (!row) throw new AppError('not_found', 'This upload was terminated.');
      return 'done';
    }
    if (args.consumedUploads?.length) {
      await trx
        .updateTable('uploads')
        .set({ consumed_at: new Date() })
        .where('id', 'in', args.consumedUploads)
        .execute();
    }
    return 'consumed';
  };
  if (args.replaces) {
    const replacedId = args.replaces;
    const old = await trx
      .selectFrom('files')
      .select(['storage_key', 'thumbnail_key'])
      .where('id', '=', replacedId)
      .forUpdate()
      .executeTakeFirst();
    if (!old) throw notFound();
    if ((await consume()) === 'done') return done(replacedId);
    await trx
      .updateTable('files')
      .set({
        storage_key: key,
        size: inspected.size,
        sha256: inspected.sha256,
        mime_type: inspected.mimeType,
        name: args.meta.name,
        // New content: nothing is decided about its thumbnail yet (so the backfill finds it if the job is lost).
        thumbnail_key: null,
        thumbnail_type: null,
        thumbnail_state: null,
        thumbnail_attempts: 0,
        updated_at: new Date(),
      })
      .where('id', '=', replacedId)
      .execute();
    return {
      fileId: replacedId,
      async afterCommit() {
        // Cached rows of the old content stop being served (downloads/file-cache.ts) before its bytes go.
        await deps.stats.dropTokens([replacedId]);
        // The old bytes and the old content's thumbnail; the new content gets its own.
        await Promise.all([old.storage_key, old.thumbnail_key ?? []].flat().map((k) => deps.storage.delete(k)));
        await queueThumbnail(deps, replacedId, key, inspected.mimeType);
        await audit(deps.db, {
          actorId: args.ownerId,
          action: 'file.replaced',
          targetType: 'file',
          targetId: replacedId,
          ip: args.actorIp,
        });
      },
    };
  }
  if ((await consume()) === 'done') return done(args.newId);
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
      max_downloads: args.meta.max_downloads ?? null,
      link_password_hash: args.meta.link_password_hash ?? null,
    })
    .execute();
  await setFileHashtags(trx, args.newId, args.meta.hashtags ?? []);
  return {
    fileId: args.newId,
    async afterCommit() {
      await audit(deps.db, {
        actorId: args.ownerId,
        action: 'file.created',
        targetType: 'file',
        targetId: args.newId,
        ip: args.actorIp,
        meta: { size: inspected.size },
      });
      await queueThumbnail(deps, args.newId, key, inspected.mimeType);
    },
  };
}

/**
 * Images get a thumbnail, made by the make-thumbnail job; a queue failure never fails the upload (the
 * backfill-thumbnails job finds the image later: its thumbnail_state is still null).
 */
async function queueThumbnail(deps: CommitDeps, fileId: string, storageKey: string, mimeType: string) {
  if (!canThumbnail(mimeType)) return;
  await deps.jobs.enqueue('make-thumbnail', { fileId, storageKey }).catch((err: unknown) => {
    deps.log.error({ err: String(err), fileId }, 'could not queue make-thumbnail');
  });
}

/** Bytes received into storage (and reserved against the quota) but not yet a file: commit or discard them. */
export interface StagedUpload {
  key: string;
  ownerId: string;
  replaces: string | null;
  inspected: { sha256: string; mimeType: string; size: number };
}

/** Removes staged bytes and their reservation. */
export async function discardStaged(deps: CommitDeps, key: string) {
  await deps.storage.delete(key);
  await deps.db.deleteFrom('uploads').where('id', '=', key).execute();
}

/**
 * Streams an upload (multipart) into storage under a new key, enforcing the size limit and the quota while bytes
 * arrive (never buffering the file). Nothing is visible until commitStaged; on failure nothing is left behind.
 */
export async function stageStream(
  deps: CommitDeps,
  args: {
    owner: AuthUser;
    body: Readable;
    /** Upper bound of the size when known (the request's Content-Length). */
    sizeHint?: number;
    replaces: string | null;
    name: string;
  },
): Promise<StagedUpload> {
  const key = randomUUID();
  const hint = args.sizeHint !== undefined ? Math.min(args.sizeHint, deps.config.MAX_UPLOAD_BYTES) : null;
  const allowance = await reserveUpload(deps, {
    id: key,
    ownerId: args.owner.id,
    size: hint,
    replaces: args.replaces,
    metadata: { filename: args.name },
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
    return { key, ownerId: args.owner.id, replaces: args.replaces, inspected: await inspector.result() };
  } catch (err) {
    args.body.resume();
    await discardStaged(deps, key);
    throw err;
  }
}

/** Makes staged bytes a new file (id = the key) or the new content of the file they replace. */
export async function commitStaged(
  deps: CommitDeps,
  staged: StagedUpload,
  meta: Partial<NewFileMeta> & { name: string },
  ip?: string,
): Promise<string> {
  try {
    return await commitContent(deps, {
      key: staged.key,
      ownerId: staged.ownerId,
      newId: staged.key,
      replaces: staged.replaces,
      meta,
      inspected: staged.inspected,
      actorIp: ip,
    });
  } catch (err) {
    await discardStaged(deps, staged.key);
    throw err;
  }
}
