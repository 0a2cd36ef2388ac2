import type { FileRow } from '@tagdrop/db';
import { create as contentDisposition } from 'content-disposition';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../deps.js';
import { AppError, toErrorBody } from '../errors.js';
import { optionalUser } from '../http/request.js';
import { findSharedFile, isExpired } from '../modules/files/files.service.js';

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

type Range = { start: number; end: number };

/** A single `bytes=` range; null = serve everything (absent, multiple ranges, or not bytes); 'invalid' = 416. */
export function parseRange(header: string | undefined, size: number): Range | null | 'invalid' {
  if (!header) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return header.includes(',') || !header.startsWith('bytes=') ? null : 'invalid';
  const [, a, b] = match;
  if (a === '' && b === '') return 'invalid';
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0 || size === 0) return 'invalid';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (start >= size || end < start) return 'invalid';
  return { start, end };
}

/** RFC 9110 §13.1.2: `*`, or any tag of the list equal to ours by weak comparison (W/ ignored). */
export function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

const notFound = () => new AppError('not_found', 'No such file.');

/**
 * GET|HEAD /f/{id} (public file, or private to its owner/an admin with a Bearer token) and /s/{token}
 * (private link): Range, ETag, RFC 6266 Content-Disposition, nosniff and a sandbox CSP; 404 unknown,
 * 410 expired (even before the sweeper runs).
 */
export async function registerDownloads(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const sendError = (reply: FastifyReply, err: AppError) => {
    const { status, body, headers } = toErrorBody(err);
    return reply.code(status).headers(headers).header('cache-control', 'no-store').send(body);
  };

  async function serve(req: FastifyRequest, reply: FastifyReply, file: FileRow | undefined) {
    if (!file) return sendError(reply, notFound());
    if (isExpired(file)) return sendError(reply, new AppError('gone', 'This file has expired.'));
    const size = Number(file.size);
    const etag = file.sha256 ? `"${file.sha256}"` : undefined;
    const mime = file.mime_type || 'application/octet-stream';
    const disposition = INLINE_TYPES.has(mime) ? 'inline' : 'attachment';
    reply.headers({
      'content-type': mime === 'text/plain' ? 'text/plain; charset=utf-8' : mime,
      'content-disposition': contentDisposition(file.name, { type: disposition }),
      'x-content-type-options': 'nosniff',
      'content-security-policy': 'sandbox',
      'cross-origin-resource-policy': 'same-origin',
      'accept-ranges': 'bytes',
      'last-modified': file.updated_at.toUTCString(),
      'cache-control': file.is_public ? 'public, no-cache' : 'private, no-cache',
      ...(etag ? { etag } : {}),
    });

    const range = parseRange(req.headers.range, size);
    const isGet = req.method === 'GET';
    // A click: a GET that starts at the first byte (a plain GET, or a Range from 0).
    if (isGet && (range === null || (range !== 'invalid' && range.start === 0))) {
      deps.stats.recordClick({ fileId: file.id, ip: req.ip, userAgent: req.headers['user-agent'], at: new Date() });
    }
    if (etag && matchesIfNoneMatch(req.headers['if-none-match'], etag)) return reply.code(304).send();
    if (range === 'invalid') {
      return reply
        .code(416)
        .header('content-range', `bytes */${size}`)
        .header('content-type', 'application/json')
        .send(toErrorBody(new AppError('range_not_satisfiable', 'That byte range is outside the file.')).body);
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
    const stream = await deps.storage.read(
      file.storage_key,
      range ?? (size > 0 ? { start: 0, end: size - 1 } : undefined),
    );
    return reply.send(stream);
  }

  const opts = { schema: { hide: true } };
  app.route({
    method: ['GET', 'HEAD'],
    url: '/f/:id',
    ...opts,
    handler: async (req, reply) => {
      const { id } = req.params as { id: string };
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id))
        return sendError(reply, notFound());
      const file = await deps.db.selectFrom('files').selectAll().where('id', '=', id.toLowerCase()).executeTakeFirst();
      if (file && !file.is_public) {
        const user = await optionalUser(deps, req).catch(() => null);
        if (!user || (user.id !== file.owner_id && user.role !== 'admin')) return sendError(reply, notFound());
      }
      return serve(req, reply, file);
    },
  });
  app.route({
    method: ['GET', 'HEAD'],
    url: '/s/:token',
    ...opts,
    handler: async (req, reply) =>
      serve(req, reply, await findSharedFile(deps.db, (req.params as { token: string }).token)),
  });
}
