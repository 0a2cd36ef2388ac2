import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { UploadRow } from '@tagdrop/db';
import { EVENTS, MemoryLocker, Server as TusServer } from '@tus/server';
import { ERRORS, HEADERS, Metadata } from '@tus/utils';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NodeRequest, sendNodeResponse } from 'srvx/node';
import type { AppDeps } from '../deps.types.js';
import { AppError, isOutage, serviceUnavailable, toErrorBody } from '../errors.js';
import { requireUser } from '../http/request.js';
import { allowedOrigins } from '../http/security.js';
import {
  checkUploadFits,
  declareUploadSize,
  reserveUpload,
  undeclareUploadSize,
  uploadAllowance,
} from '../modules/files/quota.js';
import { CHECKSUM_ALGORITHMS, expectedChecksumOf } from './checksum.js';
import {
  answerConsumedPartial,
  createFinalUpload,
  dropUploadRow,
  finalUploadHeaders,
  isFinal,
  isPartial,
  parseConcat,
  terminateFinalUpload,
} from './concat.js';
import { dropHeader, type TusRequest, tusError, tusRequests } from './context.js';
import { DrainingLocker } from './draining-locker.js';
import { prepareUploadMeta, terminateFinishedUpload } from './finish.js';
import {
  fromLibraryError,
  OFFSET_TYPE,
  TUS_EXTENSIONS,
  TUS_VERSION,
  UPLOAD_EXPIRY_MS,
  validateTusHeaders,
} from './protocol.js';
import { finishUpload, recoverUpload } from './recover.js';
import { RedisLocker } from './redis-locker.js';
import { GuardedStore } from './store.js';

/**
 * tus 1.0 at /uploads/ on @tus/server + the storage's datastore, with what the library leaves out:
 * checksum and checksum-trailer (uploads/store.ts), concatenation and concatenation-unfinished
 * (uploads/concat.ts), termination of finished uploads (deletes the file), and the protocol details the
 * library gets wrong or skips (OPTIONS 200, 412 with Tus-Version, 415, 400 for a PATCH without Upload-Offset,
 * the offset on a 409, Upload-Expires on HEAD, JSON error bodies with codes). Every request but OPTIONS
 * needs a Bearer token; only the uploader may continue or terminate an unfinished upload.
 */
export async function registerTus(app: FastifyInstance, deps: AppDeps): Promise<TusServer> {
  const datastore = new GuardedStore(deps.storage.tusDataStore({ expirationPeriodInMilliseconds: UPLOAD_EXPIRY_MS }), {
    storage: deps.storage,
    spoolDir: path.join(deps.config.dataDir, 'tus-spool'),
    declare: (ownerId, id, size) => declareUploadSize(deps, ownerId, id, size),
    undeclare: (ownerId, id, size) => undeclareUploadSize(deps, ownerId, id, size),
    log: deps.log,
  });
  const current = () => {
    const request = tusRequests.getStore();
    if (!request) throw tusError(new AppError('unauthorized', 'Log in first.'));
    return request;
  };
  const asTusError = (err: unknown) => (err instanceof AppError ? tusError(err) : err);
  // One lock per upload across every instance (Redis), or in this process without REDIS_URL.
  const shared = deps.redis.client ? new RedisLocker(deps.redis, deps.log) : undefined;
  // On shutdown, uploads in progress are asked to stop at a clean point (bytes so far kept, resumable); once
  // every request has ended, any lock still held is given back (another instance may continue at once).
  const locker = new DrainingLocker(shared ?? new MemoryLocker());
  app.addHook('preClose', async () => locker.drain());
  if (shared) app.addHook('onClose', async () => shared.close());

  const tus = new TusServer({
    path: '/uploads',
    datastore,
    locker,
    // The Location of an upload is built from deps.baseUrl, never from Host or X-Forwarded-* headers.
    respectForwardedHeaders: false,
    relativeLocation: false,
    allowedHeaders: ['Upload-Checksum'],
    exposedHeaders: ['Upload-Expires', 'Tagdrop-File-Id', 'Tus-Checksum-Algorithm'],
    generateUrl: (_req, { path: base, id }) => `${deps.baseUrl}${base}/${id}`,
    // Browsers on other origins may upload only from PUBLIC_URL's origin and CORS_ORIGINS (never `*`).
    allowedOrigins: (origin) => allowedOrigins(deps.config, deps.baseUrl).has(origin),
    namingFunction: () => randomUUID(),
    // The upload the route looked up and authorized, never one the library reads from the URL on its own (it
    // takes the last segment of the whole URL, query string included: `/uploads/<mine>?x=/<theirs>`).
    getFileIdFromRequest: () => tusRequests.getStore()?.row?.id,
    // The cap on the bytes of a request. A PATCH first checks the upload as it really is (its declared
    // length, from the store) against the size cap and the quota, under the owner's quota lock.
    async maxSize(req, uploadId) {
      const request = tusRequests.getStore();
      if (req.method === 'OPTIONS' || !request) return deps.config.MAX_UPLOAD_BYTES;
      let allowance: Awaited<ReturnType<typeof uploadAllowance>>;
      try {
        allowance =
          req.method === 'PATCH' && uploadId
            ? await checkUploadFits(deps, request.user.id, uploadId, (await datastore.getUpload(uploadId)).size ?? null)
            : await uploadAllowance(deps, request.user.id);
      } catch (err) {
        if (err instanceof AppError) request.quotaBound = err.code === 'quota_exceeded';
        throw asTusError(err);
      }
      request.quotaBound = allowance.remainingQuota < allowance.maxBytes;
      return Math.max(1, Math.min(allowance.maxBytes, allowance.remainingQuota));
    },
    async onIncomingRequest(req, uploadId) {
      // Termination: drop the row first, so the quota is free the moment the 204 arrives (the bytes follow;
      // anything left behind by a crash is removed by the sweeper).
      if (req.method !== 'DELETE') return;
      try {
        await dropUploadRow(deps, uploadId);
      } catch (err) {
        throw asTusError(err);
      }
    },
    async onUploadCreate(_req, upload) {
      const request = current();
      const raw = upload.metadata ?? {};
      try {
        const prepared = request.partial
          ? { metadata: raw, replaces: null } // never a file: its metadata means nothing
          : await prepareUploadMeta(deps, request.user, raw);
        await reserveUpload(deps, {
          id: upload.id,
          ownerId: request.user.id,
          size: upload.size ?? null,
          replaces: prepared.replaces,
          metadata: prepared.metadata,
          ...(request.partial ? { concat: 'partial' as const } : {}),
        });
        request.createdId = upload.id;
        return {};
      } catch (err) {
        throw asTusError(err);
      }
    },
    async onUploadFinish(_req, upload) {
      const row = await deps.db.selectFrom('uploads').selectAll().where('id', '=', upload.id).executeTakeFirst();
      if (!row) throw tusError(new AppError('not_found', 'No such upload.'));
      try {
        // A finished upload keeps its row and bookkeeping until it expires: a client that lost this response
        // asks HEAD, learns that the upload is complete, and does not send it all again.
        const fileId = await finishUpload(deps, row, upload.offset);
        return fileId ? { headers: { 'Tagdrop-File-Id': fileId } } : {};
      } catch (err) {
        throw asTusError(err);
      }
    },
    onResponseError(_req, err) {
      if ('status_code' in err && typeof err.body === 'string' && err.body.startsWith('{')) return undefined;
      const request = tusRequests.getStore();
      if (isOutage(err)) {
        deps.log.warn({ err: String(err) }, 'tus request failed: service unavailable');
        return tusError(serviceUnavailable(err));
      }
      if (!('status_code' in err) || err.status_code >= 500) deps.log.error({ err }, 'tus request failed');
      return tusError(
        'status_code' in err
          ? fromLibraryError(err, request)
          : new AppError('internal_error', 'Upload failed on our side.'),
      );
    },
  });
  tus.on(EVENTS.POST_TERMINATE, (_req, _res, id) => {
    deps.db
      .deleteFrom('uploads')
      .where('id', '=', id)
      .execute()
      .catch((err) => deps.log.error({ err, id }, 'could not drop terminated upload'));
  });

  const selectUpload = (id: string) =>
    deps.db.selectFrom('uploads').selectAll().where('id', '=', id).executeTakeFirst();
  const send = (reply: FastifyReply, status: number, headers: Record<string, string>, body?: unknown) =>
    reply
      .code(status)
      .headers({ 'tus-resumable': TUS_VERSION, ...headers })
      .send(body);
  const reject = (reply: FastifyReply, err: AppError) => {
    const { status, body, headers } = toErrorBody(err);
    return send(reply, status, { ...headers, ...err.headers }, body);
  };

  /** Runs @tus/server on the request and adds what its answer lacks. */
  const viaLibrary = async (req: FastifyRequest, reply: FastifyReply, request: TusRequest | undefined) => {
    reply.hijack();
    const run = () => tus.handleWeb(new NodeRequest({ req: req.raw, res: reply.raw }) as unknown as Request);
    let res: Response;
    try {
      res = await complete(req, request ? await tusRequests.run(request, run) : await run(), request);
    } catch (err) {
      // The reply is hijacked, so Fastify's error handler can no longer answer: this does (a failure in our
      // part of the answer, e.g. the database gone while a refused creation is undone, is never a hang).
      if (isOutage(err)) deps.log.warn({ err: String(err) }, 'tus request failed: service unavailable');
      else deps.log.error({ err }, 'tus request failed');
      const { status, body, headers } = toErrorBody(err);
      res = new Response(JSON.stringify(body), {
        status,
        headers: { ...headers, 'tus-resumable': TUS_VERSION, 'content-type': 'application/json; charset=utf-8' },
      });
    }
    await sendNodeResponse(reply.raw, res);
  };

  const complete = async (req: FastifyRequest, res: Response, request: TusRequest | undefined) => {
    const headers = new Headers(res.headers);
    let status = res.status;
    const row = request?.row;
    if (req.method === 'OPTIONS' && status === 204) {
      status = 200;
      headers.set('tus-extension', TUS_EXTENSIONS.join(','));
      headers.set('tus-checksum-algorithm', CHECKSUM_ALGORITHMS.join(','));
      headers.set('tus-max-size', String(deps.config.MAX_UPLOAD_BYTES));
    }
    if (req.method === 'PATCH' && status === 409 && row) {
      const now = await datastore.getUpload(row.id).catch(() => undefined);
      if (now) headers.set('upload-offset', String(now.offset));
    }
    if (req.method === 'HEAD' && status === 200 && row) {
      if (row.concat) headers.set('upload-concat', row.concat);
      const offset = Number(headers.get('upload-offset'));
      if (!row.completed_at && String(offset) !== headers.get('upload-length')) {
        headers.set('upload-expires', row.expires_at.toUTCString());
      }
    }
    // A creation that failed after the upload was made (its first bytes were refused): undo it.
    if (req.method === 'POST' && status >= 400 && request?.createdId) {
      const id = request.createdId;
      await deps.db.deleteFrom('uploads').where('id', '=', id).execute();
      await deps.storage.delete(id);
    }
    if (status >= 400) headers.set('content-type', 'application/json; charset=utf-8');
    return new Response(status === 204 || req.method === 'HEAD' ? null : await res.arrayBuffer(), { status, headers });
  };

  const handle = async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.method === 'OPTIONS') return viaLibrary(req, reply, undefined);
    reply.header('tus-resumable', TUS_VERSION);
    if (req.headers['tus-resumable'] !== TUS_VERSION) {
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
        new AppError('unsupported_media_type', `An upload in the creation request needs Content-Type: ${OFFSET_TYPE}.`),
      );
    }
    if (req.method === 'GET') {
      return reject(
        reply.header('allow', 'OPTIONS, HEAD, POST, PATCH, DELETE'),
        new AppError('method_not_allowed', 'Download files at /f/{id}.'),
      );
    }
    const user = await requireUser(deps, req);
    validateTusHeaders(req);
    const request: TusRequest = { raw: req.raw, user };
    if (req.method === 'POST' || req.method === 'PATCH') request.checksum = expectedChecksumOf(req.raw);

    if (req.method === 'POST') {
      const concat = req.headers['upload-concat'];
      if (typeof concat === 'string') {
        const parsed = parseConcat(concat, `${deps.baseUrl}${req.url}`);
        if (parsed.kind === 'final') return createFinal(req, reply, request, concat, parsed.ids);
        request.partial = true;
        dropHeader(req.raw, 'upload-concat'); // @tus/server refuses any Upload-Concat
      }
      return viaLibrary(req, reply, request);
    }

    const id = (req.params as { id?: string }).id ?? '';
    let row = await selectUpload(id);
    // A finished upload's DELETE deletes its file, with the file's own rule (owner or admin).
    if (req.method === 'DELETE' && row?.completed_at && !isPartial(row)) {
      await terminateFinishedUpload(deps, user, row);
      return send(reply, 204, {});
    }
    if (!row || row.owner_id !== user.id) return reject(reply, new AppError('not_found', 'No such upload.'));
    // All its bytes stored but never finished (the server stopped in between)? Finish it before HEAD says complete.
    if (req.method === 'HEAD' && !row.completed_at && row.size !== null && !isFinal(row)) {
      if (await recoverUpload(deps, datastore, locker, row.id)) row = (await selectUpload(row.id)) ?? row;
    }
    request.row = row;
    if (row.consumed_at) return consumedPartial(req, reply, row);
    if (isFinal(row)) {
      if (req.method === 'HEAD') return send(reply, 200, await finalUploadHeaders(deps, row));
      if (req.method === 'DELETE') {
        await terminateFinalUpload(deps, row.id);
        return send(reply, 204, {});
      }
      return reject(
        reply,
        new AppError('forbidden', 'A final upload takes no bytes: send them to its partial uploads.'),
      );
    }
    if (req.method === 'PATCH' && typeof req.headers['upload-length'] === 'string') {
      // The length of an upload is fixed once declared: the same value again is a no-op, any other is refused.
      const declared = (await datastore.getUpload(row.id).catch(() => undefined))?.size;
      if (declared !== undefined) {
        if (String(declared) !== req.headers['upload-length']) throw fromLibraryError(ERRORS.INVALID_LENGTH, request);
        dropHeader(req.raw, 'upload-length');
      } else if (Number(req.headers['upload-length']) < Number(req.headers['upload-offset'])) {
        throw fromLibraryError(ERRORS.INVALID_LENGTH, request);
      } else if (
        Number(req.headers['upload-offset']) + Number(req.headers['content-length'] ?? 0) >
        Number(req.headers['upload-length'])
      ) {
        // A body longer than the length it declares is refused before anything is declared.
        throw new AppError('payload_too_large', 'The body is longer than the declared Upload-Length.');
      }
    }
    return viaLibrary(req, reply, request);
  };

  const consumedPartial = async (req: FastifyRequest, reply: FastifyReply, row: UploadRow) => {
    const answer = await answerConsumedPartial(deps, req.method, row);
    return answer instanceof AppError ? reject(reply, answer) : send(reply, answer.status, answer.headers);
  };

  const createFinal = async (
    req: FastifyRequest,
    reply: FastifyReply,
    request: TusRequest,
    header: string,
    ids: string[],
  ) => {
    if (req.headers['upload-length'] !== undefined || req.headers['upload-defer-length'] !== undefined) {
      throw new AppError('validation_error', 'A final upload has no Upload-Length: it is the sum of its partials.', {
        fields: { 'upload-length': ['Not allowed on a final upload'] },
      });
    }
    if (Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined) {
      throw new AppError('forbidden', 'A final upload takes no bytes: send them to its partial uploads.');
    }
    const raw =
      typeof req.headers['upload-metadata'] === 'string' ? Metadata.parse(req.headers['upload-metadata']) : {};
    const { id, fileId, expiresAt } = await createFinalUpload(deps, request.user, { header, ids, metadata: raw });
    const headers: Record<string, string> = { location: `${deps.baseUrl}/uploads/${id}` };
    if (fileId) headers['tagdrop-file-id'] = fileId;
    else headers['upload-expires'] = expiresAt.toUTCString();
    return send(reply, 201, headers);
  };

  await app.register(async (scope) => {
    // tus reads the raw request body itself.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null));
    // Our own answers (final uploads, finished terminations, early refusals) carry the same CORS headers as
    // the library's, decided by the same rule, so a browser on an allowed origin can read them.
    const library = tus as unknown as { getCorsOrigin(origin: string | null): string | null };
    const exposed = [...HEADERS, 'Upload-Expires', 'Tagdrop-File-Id', 'Tus-Checksum-Algorithm'].join(', ');
    scope.addHook('onSend', async (req, reply, payload) => {
      const origin = library.getCorsOrigin(req.headers.origin ?? null);
      if (origin) reply.header('access-control-allow-origin', origin).header('access-control-expose-headers', exposed);
      return payload;
    });
    scope.setErrorHandler((err, _req, reply) => {
      const { status, body, headers } = toErrorBody(err);
      void reply.code(status).headers(headers).header('tus-resumable', TUS_VERSION).send(body);
    });
    for (const url of ['/uploads', '/uploads/:id']) {
      scope.route({ method: ['OPTIONS', 'HEAD', 'POST', 'PATCH', 'DELETE', 'GET'], url, handler: handle });
    }
    // OPTIONS answers for every path under /uploads/.
    scope.route({ method: 'OPTIONS', url: '/uploads/*', handler: handle });
  });
  return tus;
}
