import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../deps.types.js';
import { thumbnailVersion } from '../modules/files/thumbnails.js';
import type { Accel } from './accel.js';
import { type Reached, reachById, reachByToken } from './access.js';
import { placeholderSvg } from './placeholder.js';
import { matchesIfNoneMatch, USER_CONTENT_CSP, unavailable } from './respond.js';

/** A versioned thumbnail URL (`?v=` is the current content's) never changes: browsers keep it for a year. */
const IMMUTABLE = 'private, max-age=31536000, immutable';

/**
 * GET|HEAD /f/{id}/thumb and /s/{token}/thumb: the same access rules as /f and /s (a private file's thumbnail also
 * with a `thumb` grant), no click counted. The thumbnail when there is one; otherwise a generated placeholder of the
 * file's type. Cached privately (never by shared caches, so a file made private or deleted stops showing at once
 * for everyone else), keyed on the content by its ETag.
 */
export async function registerThumbnails(app: FastifyInstance, deps: AppDeps, accel: Accel | null): Promise<void> {
  async function thumb(req: FastifyRequest, reply: FastifyReply, reached: Reached | undefined) {
    const stop = unavailable(reply, reached);
    if (stop || !reached) return stop;
    const { file } = reached;
    reply.headers({
      'x-content-type-options': 'nosniff',
      'content-security-policy': USER_CONTENT_CSP,
      // Link previews (chat apps) may show the picture from another site; the URL itself is the capability.
      'cross-origin-resource-policy': 'cross-origin',
      vary: 'Authorization',
    });
    const version = thumbnailVersion(file);
    if (file.thumbnail_key && file.thumbnail_type) {
      const etag = `"thumb-${version}"`;
      const fresh = (req.query as { v?: string }).v === version;
      reply.headers({ etag, 'cache-control': fresh ? IMMUTABLE : 'private, no-cache' });
      if (matchesIfNoneMatch(req.headers['if-none-match'], etag)) return reply.code(304).send();
      const stored = await deps.storage.stat(file.thumbnail_key);
      if (stored) {
        reply.headers({ 'content-type': file.thumbnail_type, 'content-length': String(stored.size) });
        if (accel) return accel(reply, file.thumbnail_key);
        if (req.method === 'HEAD') return reply.send();
        return reply.send(await deps.storage.read(file.thumbnail_key));
      }
      deps.log.warn({ fileId: file.id }, 'thumbnail object missing; serving the placeholder');
    }
    const placeholder = placeholderSvg(file.mime_type, file.name);
    reply.headers({
      'content-type': 'image/svg+xml',
      etag: placeholder.etag,
      // No max-age: once the thumbnail is made, the next look shows it.
      'cache-control': 'private, no-cache',
      'content-length': String(Buffer.byteLength(placeholder.body)),
    });
    if (matchesIfNoneMatch(req.headers['if-none-match'], placeholder.etag)) return reply.code(304).send();
    return reply.send(req.method === 'HEAD' ? undefined : placeholder.body);
  }

  const methods: ['GET', 'HEAD'] = ['GET', 'HEAD'];
  app.route({
    method: methods,
    url: '/f/:id/thumb',
    schema: { hide: true },
    handler: async (req, reply) => thumb(req, reply, await reachById(deps, req, ['thumb', 'preview'])),
  });
  app.route({
    method: methods,
    url: '/s/:token/thumb',
    schema: { hide: true },
    handler: async (req, reply) => thumb(req, reply, await reachByToken(deps, req)),
  });
}
