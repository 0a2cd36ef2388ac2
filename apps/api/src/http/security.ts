import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import helmet from 'helmet';
import type { Config } from '../env.js';

/**
 * The one place that decides the security headers: the Content-Security-Policy of the SPAs, of the API docs and
 * of user content (downloads), HSTS, framing. Everything else takes its policy from here.
 */

type Directives = Record<string, string[]>;

const serialize = (directives: Directives) =>
  Object.entries(directives)
    .map(([name, values]) => (values.length > 0 ? `${name} ${values.join(' ')}` : name))
    .join('; ');

const httpsOnly = (config: Pick<Config, 'PUBLIC_URL'>) => config.PUBLIC_URL?.startsWith('https:') ?? false;

/**
 * The SPAs (`/`, `/admin` and every client route) and every API answer: scripts and styles only from this origin
 * (no inline script, no eval), nothing framed from elsewhere and never framed; images also as data:/blob: URLs
 * (thumbnails, QR codes, chart exports), media from this origin (previews with Range), frames from this origin only
 * (the PDF preview of a download).
 */
export function appCspDirectives(config: Pick<Config, 'PUBLIC_URL'>): Directives {
  return {
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    'style-src': ["'self'"],
    'img-src': ["'self'", 'data:', 'blob:'],
    'media-src': ["'self'"],
    'font-src': ["'self'"],
    'connect-src': ["'self'"],
    'frame-src': ["'self'"],
    'worker-src': ["'self'"],
    'manifest-src': ["'self'"],
    'object-src': ["'none'"],
    'base-uri': ["'none'"],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
    ...(httpsOnly(config) ? { 'upgrade-insecure-requests': [] } : {}),
  };
}

/** The interactive API reference (swagger-ui at /api/docs): its own scripts and styles, nothing inline either. */
export function docsCsp(config: Pick<Config, 'PUBLIC_URL'>): string {
  return serialize({
    ...appCspDirectives(config),
    'img-src': ["'self'", 'data:'],
    'frame-src': ["'none'"],
    'media-src': ["'none'"],
  });
}

/**
 * User content (`/f/{id}`, `/s/{token}` and their thumbnails): a sandbox (no script runs, no same-origin access,
 * even for HTML a browser decides to render) and never framed by another page. `framable: true` is for a preview
 * that the app's own pages embed (the PDF preview at /f/{id}/view): it loads nothing, and only this origin may
 * frame it.
 */
export function userContentCsp({ framable = false }: { framable?: boolean } = {}): string {
  if (framable) return serialize({ 'default-src': ["'none'"], sandbox: [], 'frame-ancestors': ["'self'"] });
  return serialize({ sandbox: [], 'frame-ancestors': ["'none'"] });
}

/**
 * Helmet's headers on every response: the app CSP, HSTS only behind https, no framing. The middleware is built once
 * and applied in an onRequest hook: @fastify/helmet (used before) builds a new helmet middleware for every request,
 * parsing the CSP directives again each time (profiled: ~2.5% of a list request's CPU under load).
 */
export async function registerSecurityHeaders(app: FastifyInstance, config: Config): Promise<void> {
  const headers = helmet({
    contentSecurityPolicy: { useDefaults: false, directives: appCspDirectives(config) },
    strictTransportSecurity: httpsOnly(config) ? { maxAge: 365 * 24 * 3600, includeSubDomains: true } : false,
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // Downloads set their own Cross-Origin-Resource-Policy; the API may be read by allowed CORS origins.
    crossOriginResourcePolicy: { policy: 'same-origin' },
    crossOriginEmbedderPolicy: false,
  });
  app.addHook('onRequest', (req, reply, done) => {
    headers(req.raw, reply.raw, (err?: unknown) => done(err instanceof Error ? err : undefined));
  });
}

/** Exact origins allowed to call the API from a browser on another origin: PUBLIC_URL's and CORS_ORIGINS. */
export function allowedOrigins(config: Pick<Config, 'PUBLIC_URL' | 'CORS_ORIGINS'>, listenUrl: string): Set<string> {
  return new Set([new URL(config.PUBLIC_URL ?? listenUrl).origin, ...config.CORS_ORIGINS]);
}

const digest = (value: string) => createHash('sha256').update(value).digest();

function isLoopback(ip: string): boolean {
  const plain = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  if (isIP(plain) === 4) return plain.startsWith('127.');
  return plain === '::1';
}

/**
 * /metrics: with METRICS_TOKEN, only `Authorization: Bearer <METRICS_TOKEN>`; without it, only from loopback (the
 * client address after TRUST_PROXY, and no forwarding header that an untrusted proxy could have passed along).
 */
export function metricsAllowed(config: Pick<Config, 'METRICS_TOKEN' | 'TRUST_PROXY'>, req: FastifyRequest): boolean {
  if (config.METRICS_TOKEN) {
    const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    return Boolean(match?.[1] && timingSafeEqual(digest(match[1]), digest(config.METRICS_TOKEN)));
  }
  const forwarded = req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded !== undefined;
  if (forwarded && config.TRUST_PROXY === false) return false;
  return isLoopback(req.ip);
}
