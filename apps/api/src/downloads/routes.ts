import type { FileRow } from '@tagdrop/db';
import { create as contentDisposition } from 'content-disposition';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../deps.types.js';
import { AppError, toErrorBody } from '../errors.js';
import { exhausted, takeDownload } from '../modules/files/link-rules.js';
import { createAccel } from './accel.js';
import { type Reached, reachById, reachByToken } from './access.js';
import { fileMetaCache } from './file-cache.js';
import { createRedirect } from './presigned.js';
import { parseRange, startsDownload } from './range.js';
import { matchesIfNoneMatch, PDF_VIEW_CSP, sendError, USER_CONTENT_CSP, unavailable } from './respond.js';
import { smallFileCache } from './small-files.js';
import { registerThumbnails } from './thumbnails.js';

/** Types a browser may show inline; everything else (HTML and SVG included) is an attachment. */
const INLINE_TYPES = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/bmp',
  'video/mp4',
  'video/webm',
  'video/ogg',
  'audio/mpeg',
  'audio/ogg',
  'audio/wav',
  'audio/webm',
  'audio/flac',
  'audio/mp4',
  'application/pdf',
  'text/plain',
]);

/** The headers of a file's content, computed once per row object (a cached row serves many requests). */
const headersOf = new WeakMap<FileRow, Record<string, string>>();
function contentHeaders(file: FileRow, view: boolean): Record<string, string> {
  const memo = view ? undefined : headersOf.get(file);
  if (memo) return memo;
  const mime = file.mime_type || 'application/octet-stream';
  const headers: Record<string, string> = {
    'content-type': mime === 'text/plain' ? 'text/plain; charset=utf-8' : mime,
    'content-disposition': contentDisposition(file.name, { type: INLINE_TYPES.has(mime) ? 'inline' : 'attachment' }),
    'x-content-type-options': 'nosniff',
    'content-security-policy': view ? PDF_VIEW_CSP : USER_CONTENT_CSP,
    ...(view ? { 'x-frame-options': 'SAMEORIGIN' } : {}),
    'cross-origin-resource-policy': 'same-origin',
    'accept-ranges': 'bytes',
    'last-modified': file.updated_at.toUTCString(),
    'cache-control': file.is_public ? 'public, no-cache' : 'private, no-cache',
    ...(file.sha256 ? { etag: `"${file.sha256}"` } : {}),
  };
  if (!view) headersOf.set(file, headers);
  return headers;
}

/**
 * GET|HEAD /f/{id} (public file, or private to its owner/an admin with a Bearer token or a grant) and /s/{token}
 * (private link): Range, ETag, RFC 6266 Content-Disposition, nosniff and a sandbox CSP; 404 unknown,
 * 410 expired (even before the sweeper runs). /f/{id}/view and /s/{token}/view: PDFs for the preview frame.
 */
export async function registerDownloads(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const smallFiles = smallFileCache(deps.storage);
  const rows = fileMetaCache(deps.stats);
  const accel = createAccel(deps.config, deps.storage);
  const redirect = createRedirect(deps.config, deps.storage);
  async function serve(
    req: FastifyRequest,
    reply: FastifyReply,
    reached: Reached | undefined,
    options: { view?: boolean } = {},
  ) {
    const stop = unavailable(reply, reached);
    if (stop || !reached) return stop;
    const { file } = reached;
    const size = Number(file.size);
    const etag = file.sha256 ? `"${file.sha256}"` : undefined;
    const mime = file.mime_type || 'application/octet-stream';
    if (options.view && mime !== 'application/pdf') {
      return sendError(reply, new AppError('not_found', 'Only PDFs have a viewer page.'));
    }
    const limited = file.max_downloads !== null && !reached.privileged;
    // A limited file (for anyone but its owner or an admin) is always sent whole: Range is ignored and no
    // Accept-Ranges is announced, so every GET that sends content is a whole download and takes one; a range can
    // never fetch it (or its last bytes) for free.
    const range = limited ? null : parseRange(req.headers.range, size);
    const isGet = req.method === 'GET';
    const starts = startsDownload(req.method, range);
    const notModified = etag !== undefined && matchesIfNoneMatch(req.headers['if-none-match'], etag);
    // A limited file: every GET that sends the content takes one of its downloads, atomically; when none is left
    // the answer is 410 and no byte goes out. HEAD and a 304 send no content and take none.
    if (starts && limited && !notModified) {
      if (!(await takeDownload(deps.db, file.id))) return sendError(reply, exhausted());
    }
    const content = contentHeaders(file, Boolean(options.view));
    reply.headers(content);
    if (limited) reply.removeHeader('accept-ranges');

    // A click: a GET that starts at the first byte (a plain GET, a Range from 0, any GET of a limited file), unless
    // the owner is looking at their own file through a preview grant. HEAD never counts.
    const counts = reached.grant !== 'preview';
    if (counts && starts && !reached.counted) {
      deps.stats.recordClick({ fileId: file.id, ip: req.ip, userAgent: req.headers['user-agent'], at: new Date() });
    }
    if (notModified) return reply.code(304).send();
    if (range === 'invalid') {
      return reply
        .code(416)
        .header('content-range', `bytes */${size}`)
        .header('content-type', 'application/json')
        .send(toErrorBody(new AppError('range_not_satisfiable', 'That byte range is outside the file.')).body);
    }
    // nginx sends the bytes (Range and HEAD included) from its internal location. Not for a limited file: nginx
    // would answer the client's Range itself, and such a file is sent whole (above), so it is streamed from here.
    if (accel && !limited) return accel(reply, file.storage_key);
    // The object store sends the bytes (a GET only: HEAD is answered here). Not for a limited file: a presigned URL
    // could be fetched again and again for its 60 s, so the download taken above is streamed from here instead.
    if (redirect && isGet && !limited) {
      return redirect(reply, file.storage_key, {
        contentType: content['content-type'] as string,
        contentDisposition: content['content-disposition'] as string,
      });
    }
    const headers: Record<string, string> = {};
    let status = 200;
    let length = size;
    if (range) {
      status = 206;
      length = range.end - range.start + 1;
      headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`;
    }
    headers['content-length'] = String(length);
    reply.code(status).headers(headers);
    if (!isGet || length === 0) return reply.send();
    const small = await smallFiles.get(file.storage_key, size);
    if (small) return reply.send(range ? small.subarray(range.start, range.end + 1) : small);
    const stream = await deps.storage.read(
      file.storage_key,
      range ?? (size > 0 ? { start: 0, end: size - 1 } : undefined),
    );
    return reply.send(stream);
  }

  const opts = { schema: { hide: true } };
  const methods: ['GET', 'HEAD'] = ['GET', 'HEAD'];
  const contentScopes = ['preview', 'download'] as const;
  app.route({
    method: methods,
    url: '/f/:id',
    ...opts,
    handler: async (req, reply) => serve(req, reply, await reachById(deps, req, contentScopes, rows)),
  });
  app.route({
    method: methods,
    url: '/s/:token',
    ...opts,
    handler: async (req, reply) => serve(req, reply, await reachByToken(deps, req)),
  });
  app.route({
    method: methods,
    url: '/f/:id/view',
    ...opts,
    handler: async (req, reply) => serve(req, reply, await reachById(deps, req, ['preview']), { view: true }),
  });
  app.route({
    method: methods,
    url: '/s/:token/view',
    ...opts,
    handler: async (req, reply) => serve(req, reply, await reachByToken(deps, req), { view: true }),
  });
  await registerThumbnails(app, deps, accel);
}
