import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
/** Paths that belong to the API and are never SPA routes. */
const apiPrefixes = ['/api', '/trpc', '/uploads', '/f/', '/s/', '/healthz', '/readyz', '/metrics'];

/**
 * Serves the built user SPA at / and the admin SPA at /admin (when `npm run build:spa` has produced them),
 * with index.html for client-side routes.
 */
export async function mountSpas(
  app: FastifyInstance,
  { enabled = true, root = repoRoot }: { enabled?: boolean; root?: string } = {},
): Promise<void> {
  const web = path.join(root, 'apps/web/dist');
  const admin = path.join(root, 'apps/admin/dist');
  const hasWeb = enabled && existsSync(path.join(web, 'index.html'));
  const hasAdmin = enabled && existsSync(path.join(admin, 'index.html'));
  const spaHeaders = (reply: FastifyReply, file: string) => {
    reply.header('x-frame-options', 'DENY');
    reply.header('cache-control', file.endsWith('index.html') ? 'no-cache' : 'public, max-age=31536000, immutable');
  };
  // The first registration decorates reply.sendFile; the second must not decorate again.
  if (hasWeb) await app.register(fastifyStatic, { root: web, prefix: '/', setHeaders: spaHeaders, wildcard: false });
  if (hasAdmin) {
    await app.register(fastifyStatic, {
      root: admin,
      prefix: '/admin/',
      decorateReply: !hasWeb,
      setHeaders: spaHeaders,
      wildcard: false,
    });
  }
  app.setNotFoundHandler((req, reply) => {
    const url = req.url.split('?')[0] ?? '/';
    const isApi = apiPrefixes.some(
      (p) => url === p || url.startsWith(p.endsWith('/') ? p : `${p}/`) || url === p.replace(/\/$/, ''),
    );
    const wantsHtml = req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');
    if (!isApi && wantsHtml) {
      const isAdmin = url === '/admin' || url.startsWith('/admin/');
      const dir = isAdmin ? admin : web;
      if (isAdmin ? hasAdmin : hasWeb) {
        return reply.header('cache-control', 'no-cache').type('text/html').sendFile('index.html', dir);
      }
    }
    return reply.code(404).send({ error: { code: 'not_found', message: `No route for ${req.method} ${url}` } });
  });
}
