import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PageHead } from './page-head.js';

/** The repository (or image) root: the nearest folder above this module holding apps/api (src/http/ or dist/). */
function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'apps', 'api', 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from, '../../../..');
  }
}
const repoRoot = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)));
/** Paths that belong to the API and are never SPA routes. */
const apiPrefixes = ['/api', '/trpc', '/uploads', '/f/', '/s/', '/healthz', '/readyz', '/metrics'];

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

/** index.html with a page's own <title> and meta tags (every value escaped: a file name is data, never markup). */
export function withHead(html: string, head: PageHead): string {
  const tags = head.meta
    .map((m) => {
      const key = m.property ? `property="${escapeHtml(m.property)}"` : `name="${escapeHtml(m.name ?? '')}"`;
      return `    <meta ${key} content="${escapeHtml(m.content)}" />`;
    })
    .join('\n');
  return html
    .replace(/<title>[^<]*<\/title>/, () => `<title>${escapeHtml(head.title)}</title>`)
    .replace('</head>', () => `${tags}\n  </head>`);
}

export interface SpaOptions {
  enabled?: boolean;
  root?: string;
  /** The head of the private-link landing page /share/{token} (OpenGraph/Twitter tags for link previews). */
  shareHead?: (token: string, req: FastifyRequest) => Promise<PageHead>;
}

/**
 * Serves the built user SPA at / and the admin SPA at /admin (when `npm run build:spa` has produced them),
 * with index.html for client-side routes; /share/{token} with its link-preview tags rendered in.
 */
export async function mountSpas(
  app: FastifyInstance,
  { enabled = true, root = repoRoot, shareHead }: SpaOptions = {},
): Promise<void> {
  const web = path.join(root, 'apps/web/dist');
  const admin = path.join(root, 'apps/admin/dist');
  const hasWeb = enabled && existsSync(path.join(web, 'index.html'));
  const hasAdmin = enabled && existsSync(path.join(admin, 'index.html'));
  const spaHeaders = (reply: FastifyReply, file: string) => {
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
  if (hasWeb && shareHead) {
    const index = readFileSync(path.join(web, 'index.html'), 'utf8');
    // Whatever the Accept header says: link-preview crawlers often send */*.
    app.get('/share/:token', { schema: { hide: true } }, async (req, reply) => {
      const head = await shareHead((req.params as { token: string }).token, req);
      return reply
        .code(head.status)
        .header('cache-control', 'no-cache')
        .header('x-robots-tag', 'noindex, nofollow')
        .type('text/html; charset=utf-8')
        .send(withHead(index, head));
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
