import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { type FastifyTRPCPluginOptions, fastifyTRPCPlugin } from '@trpc/server/adapters/fastify';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import { sql } from 'kysely';
import { createDeps, listenUrl } from './deps.js';
import type { AppDeps } from './deps.types.js';
import { withDownloadPaths } from './downloads/openapi.js';
import { registerDownloads } from './downloads/routes.js';
import { zipRest } from './downloads/zip.rest.js';
import type { Config } from './env.js';
import { AppError, isOutage, serviceUnavailable, toErrorBody, toTRPCError } from './errors.js';
import { createMetrics } from './http/metrics.js';
import { optionalUser } from './http/request.js';
import { docsCsp, metricsAllowed, registerSecurityHeaders } from './http/security.js';
import { createSerializerCompiler } from './http/serializer.js';
import { mountSpas } from './http/spa.js';
import { createLogger, type Logger } from './infra/logger.js';
import { authRest } from './modules/auth/auth.rest.js';
import { passkeysRest } from './modules/auth/passkeys.rest.js';
import { filesRest } from './modules/files/files.rest.js';
import { shareHead } from './modules/files/share-meta.js';
import { createContextInner } from './trpc/context.js';
import { type AppRouter, appRouter } from './trpc/router.js';
import { registerTus } from './uploads/tus.js';

export interface TagdropServer {
  /** Listens on config.HOST:config.PORT (0 picks a free port) and returns the base URL. */
  start(): Promise<{ url: string; port: number }>;
  /**
   * Stops accepting requests, lets running ones finish (uploads in progress stop at a clean point and stay
   * resumable), stops jobs, closes pools: all within timeoutMs (default SHUTDOWN_TIMEOUT_SECONDS).
   */
  stop(options?: { timeoutMs?: number }): Promise<void>;
  /** Available after start(). */
  readonly deps: AppDeps;
  readonly app: FastifyInstance;
}

export interface ServerOptions {
  log?: Logger;
  /** Process jobs in this process (default: config.JOBS_IN_PROCESS). */
  runJobs?: boolean;
  /** Serve the built SPAs when present (default true). */
  serveSpas?: boolean;
}

const fastifyErrorCode = (status: number) =>
  (
    ({
      400: 'validation_error',
      401: 'unauthorized',
      403: 'forbidden',
      404: 'not_found',
      405: 'method_not_allowed',
      413: 'payload_too_large',
      415: 'unsupported_media_type',
      429: 'rate_limited',
    }) as const
  )[status as 400] ?? 'validation_error';

/**
 * Stops listening and waits for the requests in flight (Fastify answers 503 to any new one on a kept-alive
 * connection, and its preClose hooks ask uploads to stop at a clean point). A connection is closed as soon as its
 * last response is out; whatever is still open at `cutAt` (epoch ms) is cut.
 */
async function closeHttp(app: FastifyInstance, cutAt: number) {
  const sweep = setInterval(() => app.server.closeIdleConnections(), 100);
  const cut = setTimeout(() => app.server.closeAllConnections(), Math.max(0, cutAt - Date.now()));
  try {
    await app.close();
  } finally {
    clearInterval(sweep);
    clearTimeout(cut);
  }
}

/** Fastify ignores a plain hop count (fails closed), so hops become a function of the hop index. */
function trustProxyOption(value: Config['TRUST_PROXY']) {
  if (typeof value === 'number') return (_address: string, hop: number) => hop < value;
  return value;
}

export function createServer(config: Config, options: ServerOptions = {}): TagdropServer {
  const log = options.log ?? createLogger(config);
  let deps: AppDeps | undefined;
  let app: FastifyInstance | undefined;

  async function build(): Promise<FastifyInstance> {
    deps = await createDeps(config, log);
    const d = deps;
    const metrics = createMetrics();
    const server = Fastify({
      loggerInstance: log as FastifyBaseLogger,
      trustProxy: trustProxyOption(config.TRUST_PROXY),
      routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
      bodyLimit: 1024 * 1024,
      requestTimeout: 0,
    });
    server.setValidatorCompiler(validatorCompiler);
    // Responses: fast-json-stringify from each zod schema; checked against zod itself outside production.
    server.setSerializerCompiler(createSerializerCompiler({ check: config.NODE_ENV !== 'production' }));

    // Security headers of every response (CSP, nosniff, no-referrer, framing, HSTS behind https): http/security.ts.
    await registerSecurityHeaders(server, config);
    server.addHook('onResponse', async (req, reply) => {
      metrics.httpRequests
        .labels(req.method, req.routeOptions.url ?? 'unmatched', String(reply.statusCode))
        .observe(reply.elapsedTime / 1000);
    });

    server.setErrorHandler((err: FastifyError, req, reply) => {
      let error: unknown = err;
      if (hasZodFastifySchemaValidationErrors(err)) {
        const fields: Record<string, string[]> = {};
        for (const v of err.validation) {
          const key = (v.instancePath || '/').replace(/^\//, '').replaceAll('/', '.') || '_';
          fields[key] = [...(fields[key] ?? []), v.message ?? 'Invalid value'];
        }
        error = new AppError('validation_error', 'Some fields are invalid.', { fields });
      } else if (!(err instanceof AppError) && err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
        error = new AppError(fastifyErrorCode(err.statusCode), err.message);
      }
      const { status, body, headers } = toErrorBody(error);
      if (status === 503) req.log.warn({ err: err.message }, 'request failed: service unavailable');
      else if (status >= 500) req.log.error({ err }, 'request failed');
      void reply.code(status).headers(headers).send(body);
    });

    server.get('/healthz', async () => ({ status: 'ok' }));
    server.get('/readyz', async (_req, reply) => {
      const [pg, redis] = await Promise.all([
        sql`select 1`.execute(d.db).then(
          () => true,
          () => false,
        ),
        d.redis.ping(),
      ]);
      const ok = pg && redis;
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', postgres: pg, redis });
    });
    server.get('/metrics', async (req, reply) => {
      // Not found rather than forbidden: the endpoint does not reveal itself to strangers.
      if (!metricsAllowed(config, req)) throw new AppError('not_found', 'Not found.');
      reply.header('content-type', metrics.registry.contentType);
      return metrics.registry.metrics();
    });

    await server.register(fastifyTRPCPlugin, {
      prefix: '/trpc',
      trpcOptions: {
        router: appRouter,
        async createContext({ req }) {
          const base = createContextInner({
            deps: d,
            ip: req.ip,
            userAgent: req.headers['user-agent'],
          });
          try {
            // A bad token is kept for later: public procedures still answer, protected ones throw it.
            return { ...base, user: await optionalUser(d, req) };
          } catch (err) {
            if (err instanceof AppError) return { ...base, authError: err };
            if (isOutage(err)) throw toTRPCError(serviceUnavailable(err));
            throw err;
          }
        },
        responseMeta({ errors }) {
          const retry = errors
            .map((e) => (e.cause instanceof AppError ? e.cause.retryAfterSeconds : undefined))
            .find(Boolean);
          return retry ? { headers: { 'retry-after': String(retry) } } : {};
        },
      } satisfies FastifyTRPCPluginOptions<AppRouter>['trpcOptions'],
    });

    await server.register(
      async (api) => {
        await api.register(fastifySwagger, {
          openapi: {
            openapi: '3.1.0',
            info: {
              title: 'Tagdrop API',
              version: '1.0.0',
              description:
                'REST API of Tagdrop. Log in with a one-time code (`/api/otp-login/`, `/api/verify-otp/`), then send ' +
                '`Authorization: Bearer <access>`. Errors are `{"error": {"code", "message", "fields"?}}`.',
            },
            // Filled in per request below: deps.baseUrl is known only once the server listens.
            servers: [],
            components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
          },
          transform: jsonSchemaTransform,
          transformObject: jsonSchemaTransformObject,
        });
        // The download routes (/f, /s) live outside /api and answer bytes: described in downloads/openapi.ts.
        const withServers = (doc: object) => ({ ...withDownloadPaths(doc), servers: [{ url: d.baseUrl }] });
        await api.register(fastifySwaggerUi, {
          routePrefix: '/docs',
          staticCSP: docsCsp(config),
          // The standalone layout's top bar draws an SVG logo with an inline <style>, which the CSP refuses.
          uiConfig: { layout: 'BaseLayout' },
          transformSpecification: withServers,
        });
        api.get('/openapi.json', { schema: { hide: true } }, async () => withServers(api.swagger() as object));
        await api.register(authRest(d));
        await api.register(passkeysRest(d));
        await api.register(filesRest(d));
        await api.register(zipRest(d));
      },
      { prefix: '/api' },
    );

    await registerTus(server, d);
    await registerDownloads(server, d);
    await mountSpas(server, {
      enabled: options.serveSpas !== false,
      shareHead: (token) => shareHead(d, token, d.baseUrl),
    });
    return server;
  }

  let started = false;
  return {
    get deps() {
      if (!deps) throw new Error('server not started');
      return deps;
    },
    get app() {
      if (!app) throw new Error('server not started');
      return app;
    },
    async start() {
      app = await build();
      if (options.runJobs ?? config.JOBS_IN_PROCESS) await deps?.jobs.start();
      const address = await app.listen({ port: config.PORT, host: config.HOST });
      started = true;
      const port = (app.server.address() as { port: number }).port;
      if (deps && !config.PUBLIC_URL) deps.baseUrl = listenUrl(config.HOST, port);
      log.info({ address, publicUrl: config.PUBLIC_URL }, 'tagdrop listening');
      return { url: `http://127.0.0.1:${port}`, port };
    },
    async stop({ timeoutMs = config.SHUTDOWN_TIMEOUT_SECONDS * 1000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      if (app && started) {
        started = false;
        // Requests may finish until shortly before the deadline (what is left is for jobs and pools).
        await closeHttp(app, deadline - Math.min(3_000, timeoutMs / 4));
      }
      await deps?.close({ deadline });
    },
  };
}
