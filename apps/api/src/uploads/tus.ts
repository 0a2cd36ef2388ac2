import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { EVENTS, Server as TusServer } from '@tus/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../deps.js';
import { AppError, toErrorBody } from '../errors.js';
import { requireUser } from '../http/request.js';
import type { AuthUser } from '../modules/auth/auth.service.js';
import {
  commitContent,
  getManagedFile,
  inspectStored,
  parseFileMeta,
  reserveUpload,
  UPLOAD_RESERVATION_MS,
  uploadAllowance,
} from '../modules/files/files.service.js';
import { sniff } from '../modules/files/inspect.js';

export const TUS_VERSION = '1.0.0';
/** Unfinished uploads expire after a day (tus expiration extension). */
export const UPLOAD_EXPIRY_MS = UPLOAD_RESERVATION_MS;
const OFFSET_TYPE = 'application/offset+octet-stream';

/** tus-compatible error: a status and a JSON body with our error code. */
const tusError = (err: AppError) => {
  const { status, body } = toErrorBody(err);
  return { status_code: status, body: JSON.stringify(body) };
};

/**
 * tus 1.0 at /uploads/ on @tus/server + the storage's datastore. Every request but OPTIONS needs a Bearer
 * token; only the uploader may continue or terminate an upload. Protocol checks that @tus/server leaves out
 * (412 with Tus-Version, 415 for a wrong Content-Type, Tus-Resumable on every response) happen first.
 */
export async function registerTus(app: FastifyInstance, deps: AppDeps): Promise<TusServer> {
  const users = new WeakMap<IncomingMessage, AuthUser>();
  /** Whether the 413 limit of a request was the owner's remaining quota (not the size cap). */
  const quotaBound = new WeakMap<IncomingMessage, boolean>();
  const userOf = (req: { runtime?: { node?: { req: IncomingMessage } } }) => {
    const raw = req.runtime?.node?.req;
    const user = raw && users.get(raw);
    if (!user) throw tusError(new AppError('unauthorized', 'Log in first.'));
    return user;
  };

  const tus = new TusServer({
    path: '/uploads',
    datastore: deps.storage.tusDataStore({ expirationPeriodInMilliseconds: UPLOAD_EXPIRY_MS }),
    respectForwardedHeaders: deps.config.TRUST_PROXY !== false,
    relativeLocation: false,
    disableTerminationForFinishedUploads: true,
    generateUrl: (_req, { proto, host, path, id }) =>
      `${deps.config.PUBLIC_URL ? deps.config.PUBLIC_URL.replace(/\/+$/, '') : `${proto}://${host}`}${path}/${id}`,
    namingFunction: () => randomUUID(),
    // Enforced while bytes arrive (PATCH and creation-with-upload): the size cap and the owner's quota.
    async maxSize(req, uploadId) {
      // OPTIONS is unauthenticated (Tus-Max-Size): the global cap.
      if (req.method === 'OPTIONS') return deps.config.MAX_UPLOAD_BYTES;
      const user = userOf(req as never);
      const allowance = await uploadAllowance(deps, user.id, uploadId ?? undefined);
      const raw = (req as { runtime?: { node?: { req: IncomingMessage } } }).runtime?.node?.req;
      if (raw) quotaBound.set(raw, allowance.remainingQuota < allowance.maxBytes);
      return Math.max(1, Math.min(allowance.maxBytes, allowance.remainingQuota));
    },
    async onIncomingRequest(req, uploadId) {
      const user = userOf(req as never);
      if (req.method === 'POST') return;
      const upload = await deps.db
        .selectFrom('uploads')
        .select(['owner_id', 'completed_at'])
        .where('id', '=', uploadId)
        .executeTakeFirst();
      if (!upload || upload.owner_id !== user.id) {
        throw tusError(new AppError('not_found', 'No such upload.'));
      }
      // Termination: drop the row first, so the quota is free the moment the 204 arrives (the bytes follow;
      // anything left behind by a crash is removed by the sweeper).
      // A deferred length declared now replaces the worst-case reservation.
      const declared = req.headers.get('upload-length');
      if (req.method === 'PATCH' && declared && /^\d+$/.test(declared) && !upload.completed_at) {
        await deps.db
          .updateTable('uploads')
          .set({ size: Number(declared) })
          .where('id', '=', uploadId)
          .execute();
      }
      if (req.method === 'DELETE' && !upload.completed_at) {
        await deps.db.deleteFrom('uploads').where('id', '=', uploadId).execute();
      }
    },
    async onUploadCreate(req, upload) {
      const user = userOf(req as never);
      const raw = upload.metadata ?? {};
      try {
        const meta = parseFileMeta(raw);
        let replaces: string | null = null;
        if (raw.file_id && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(raw.file_id)) {
          throw new AppError('invalid_metadata', 'file_id must be the id of one of your files.');
        }
        if (raw.file_id) {
          replaces = (await getManagedFile(deps, user, raw.file_id)).id;
        }
        await reserveUpload(deps, {
          id: upload.id,
          ownerId: user.id,
          size: upload.size ?? null,
          replaces,
          metadata: { ...raw, filename: meta.name },
        });
        return {};
      } catch (err) {
        if (err instanceof AppError)
          throw tusError(
            err.code === 'not_found' ? new AppError('invalid_metadata', 'file_id: no such file of yours.') : err,
          );
        throw err;
      }
    },
    async onUploadFinish(req, upload) {
      const user = userOf(req as never);
      const row = await deps.db.selectFrom('uploads').selectAll().where('id', '=', upload.id).executeTakeFirst();
      if (!row) throw tusError(new AppError('not_found', 'No such upload.'));
      if (row.completed_at) return { headers: { 'Tagdrop-File-Id': row.replaces_file_id ?? upload.id } };
      const digest = await deps.storage.takeUploadDigest(upload.id);
      const inspected =
        digest && digest.size === upload.offset
          ? { sha256: digest.sha256, mimeType: await sniff(digest.head), size: digest.size }
          : await inspectStored(deps, upload.id);
      const meta = parseFileMetaLenient(row.metadata);
      const fileId = await commitContent(deps, {
        key: upload.id,
        ownerId: user.id,
        newId: upload.id,
        replaces: row.replaces_file_id,
        meta,
        inspected,
      });
      // The upload's row and bookkeeping stay until it expires: a client that lost this response asks HEAD,
      // learns that the upload is complete, and does not send it all again.
      return { headers: { 'Tagdrop-File-Id': fileId } };
    },
    onResponseError(req, err) {
      if ('status_code' in err && typeof err.body === 'string' && err.body.startsWith('{')) return undefined;
      if ('status_code' in err && err.status_code === 413) {
        const raw = (req as { runtime?: { node?: { req: IncomingMessage } } }).runtime?.node?.req;
        return tusError(
          raw && quotaBound.get(raw)
            ? new AppError('quota_exceeded', 'Not enough quota left for this upload.')
            : new AppError('payload_too_large', `Files are limited to ${deps.config.MAX_UPLOAD_BYTES} bytes.`),
        );
      }
      if ('status_code' in err && err.status_code < 500) return undefined;
      deps.log.error({ err }, 'tus request failed');
      return tusError(new AppError('internal_error', 'Upload failed on our side.'));
    },
  });
  tus.on(EVENTS.POST_TERMINATE, (_req, _res, id) => {
    deps.db
      .deleteFrom('uploads')
      .where('id', '=', id)
      .execute()
      .catch((err) => deps.log.error({ err, id }, 'could not drop terminated upload'));
  });

  const reject = (reply: FastifyReply, err: AppError) => {
    const { status, body, headers } = toErrorBody(err);
    return reply
      .code(status)
      .headers({ ...headers, ...err.headers })
      .send(body);
  };

  const handle = async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.method !== 'OPTIONS') {
      reply.header('tus-resumable', TUS_VERSION);
      const version = req.headers['tus-resumable'];
      if (version !== TUS_VERSION) {
        return reject(
          reply,
          new AppError('precondition_failed', `Tus-Resumable ${TUS_VERSION} is required.`, {
            headers: { 'tus-version': TUS_VERSION },
          }),
        );
      }
      const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
      if (req.method === 'PATCH' && contentType !== OFFSET_TYPE) {
        return reject(
          reply,
          new AppError('unsupported_media_type', `PATCH requests must send Content-Type: ${OFFSET_TYPE}.`),
        );
      }
      if (req.method === 'POST' && hasBody && contentType !== OFFSET_TYPE) {
        return reject(
          reply,
          new AppError(
            'unsupported_media_type',
            `An upload in the creation request needs Content-Type: ${OFFSET_TYPE}.`,
          ),
        );
      }
      if (req.method === 'GET') {
        return reject(
          reply.header('allow', 'OPTIONS, HEAD, POST, PATCH, DELETE'),
          new AppError('method_not_allowed', 'Download files at /f/{id}.'),
        );
      }
      users.set(req.raw, await requireUser(deps, req));
    }
    reply.hijack();
    await tus.handle(req.raw, reply.raw);
  };

  await app.register(async (scope) => {
    // tus reads the raw request body itself.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null));
    scope.setErrorHandler((err, _req, reply) => {
      const { status, body, headers } = toErrorBody(err);
      void reply.code(status).headers(headers).header('tus-resumable', TUS_VERSION).send(body);
    });
    for (const url of ['/uploads', '/uploads/:id']) {
      scope.route({ method: ['OPTIONS', 'HEAD', 'POST', 'PATCH', 'DELETE', 'GET'], url, handler: handle });
    }
  });
  return tus;
}

/**
 * Metadata stored at creation was validated then; its expiry may have passed since (the file is then
 * born expired, which is what its owner asked for).
 */
function parseFileMetaLenient(raw: Record<string, string | null>) {
  const meta = parseFileMeta({ ...raw, expires_at: undefined });
  const expires = raw.expires_at ? new Date(raw.expires_at) : null;
  return { ...meta, expires_at: expires && !Number.isNaN(expires.getTime()) ? expires : null };
}
