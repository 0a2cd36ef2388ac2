import { publicZipQuery, zipFilesBody, zipFilesQuery } from '@tagdrop/contracts';
import type { FileRow } from '@tagdrop/db';
import { create as contentDisposition } from 'content-disposition';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../deps.types.js';
import { errorResponses } from '../http/openapi.js';
import { requireUser } from '../http/request.js';
import { normalizeHashtag } from '../modules/files/hashtags.js';
import { USER_CONTENT_CSP } from './respond.js';
import { ownZipFiles, parseZipIds, publicZipFiles, zipStream } from './zip.js';

const zipResponse = {
  200: z.string().describe('application/zip, streamed (stored entries, ZIP64 past 4 GiB)'),
};

/** GET /api/files/zip/?ids=… (your files) and GET /api/public/files/zip/?hashtag=… (public ones). */
export const zipRest =
  (deps: AppDeps): FastifyPluginAsyncZod =>
  async (app) => {
    async function send(req: FastifyRequest, reply: FastifyReply, files: FileRow[], name: string) {
      const at = new Date();
      for (const file of files) {
        deps.stats.recordClick({ fileId: file.id, ip: req.ip, userAgent: req.headers['user-agent'], at });
      }
      const { stream, size } = zipStream(deps, files);
      const length = await size;
      reply.headers({
        'content-type': 'application/zip',
        'content-disposition': contentDisposition(name, { type: 'attachment' }),
        'x-content-type-options': 'nosniff',
        'content-security-policy': USER_CONTENT_CSP,
        'cache-control': 'private, no-store',
        ...(length >= 0 ? { 'content-length': String(length) } : {}),
      });
      return reply.send(stream);
    }

    app.get(
      '/files/zip/',
      {
        schema: {
          tags: ['files'],
          summary: 'Download several of your files (admins: any) as one ZIP, streamed as it is built',
          description:
            'All ids must be yours (else 404, or 410 for one that expired). Names are de-duplicated ' +
            '(`a.txt`, `a (1).txt`); each file counts one click.',
          security: [{ bearer: [] }],
          querystring: zipFilesQuery,
          produces: ['application/zip'],
          response: { ...zipResponse, ...errorResponses(400, 401, 404, 410) },
        },
      },
      async (req, reply) => {
        const user = await requireUser(deps, req);
        const files = await ownZipFiles(deps, user, parseZipIds(req.query.ids));
        return send(req, reply, files, `tagdrop-${files.length}-files.zip`);
      },
    );

    app.post(
      '/files/zip/',
      {
        schema: {
          tags: ['files'],
          summary: 'The same ZIP as GET /api/files/zip/, with the ids in a JSON body',
          description: 'For long selections: 500 ids make a URL longer than many proxies accept.',
          security: [{ bearer: [] }],
          body: zipFilesBody,
          produces: ['application/zip'],
          response: { ...zipResponse, ...errorResponses(400, 401, 404, 410) },
        },
      },
      async (req, reply) => {
        const user = await requireUser(deps, req);
        const files = await ownZipFiles(deps, user, parseZipIds(req.body.ids.join(',')));
        return send(req, reply, files, `tagdrop-${files.length}-files.zip`);
      },
    );

    app.get(
      '/public/files/zip/',
      {
        schema: {
          tags: ['files'],
          summary: 'Download the public files of a hashtag as one ZIP, streamed as it is built (no login needed)',
          description: 'Unexpired public files only; each counts one click. More files than the limit → 400.',
          querystring: publicZipQuery,
          produces: ['application/zip'],
          response: { ...zipResponse, ...errorResponses(400, 404) },
        },
      },
      async (req, reply) => {
        const files = await publicZipFiles(deps, req.query.hashtag);
        return send(req, reply, files, `${normalizeHashtag(req.query.hashtag) || 'files'}.zip`);
      },
    );
  };
