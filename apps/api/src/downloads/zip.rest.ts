import { Readable } from 'node:stream';
import { publicZipQuery, ZIP_LINK_TTL_SECONDS, zipFilesBody, zipFilesQuery, zipLinkOutput } from '@tagdrop/contracts';
import type { FileRow } from '@tagdrop/db';
import { create as contentDisposition } from 'content-disposition';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../deps.types.js';
import { AppError } from '../errors.js';
import { errorResponses } from '../http/openapi.js';
import { requireUser } from '../http/request.js';
import { normalizeHashtag } from '../modules/files/hashtags.js';
import { USER_CONTENT_CSP } from './respond.js';
import {
  noPublicFiles,
  ownZipFiles,
  parseZipIds,
  publicZipFiles,
  takeZipDownloads,
  zipEntries,
  zipLength,
  zipStream,
} from './zip.js';
import { createZipLink, openZipLink } from './zip-link.js';

const zipResponse = {
  200: z.string().describe('application/zip, streamed (stored entries, ZIP64 past 4 GiB); HEAD: its headers only'),
};

/**
 * GET /api/files/zip/?ids=… (your files; or ?grant=… of a ZIP link), POST /api/files/zip/ (ids in a body), POST
 * /api/files/zip/link/ (a link for browsers) and GET /api/public/files/zip/?hashtag=… (public ones).
 */
export const zipRest =
  (deps: AppDeps): FastifyPluginAsyncZod =>
  async (app) => {
    /**
     * The entries are prepared (safe, unique names) before anything is taken or counted. A GET then takes one
     * download of each limited file (public ZIP: `take`), counts one click per file in the archive and streams it.
     * HEAD (Fastify runs GET handlers for it) answers the same headers, Content-Length included, and changes
     * nothing: no download taken, no click, no link used up.
     */
    async function send(
      req: FastifyRequest,
      reply: FastifyReply,
      candidates: FileRow[],
      name: string,
      options: { take?: boolean; none?: () => AppError } = {},
    ) {
      let entries = zipEntries(candidates);
      const head = req.method === 'HEAD';
      if (!head && options.take) {
        const files = await takeZipDownloads(deps, candidates);
        if (files.length === 0) throw options.none?.() ?? new AppError('not_found', 'No files left to download.');
        if (files.length !== candidates.length) entries = zipEntries(files);
      }
      const zip = head ? null : zipStream(deps, entries);
      const length = zip ? await zip.size : await zipLength(entries);
      reply.headers({
        'content-type': 'application/zip',
        'content-disposition': contentDisposition(name, { type: 'attachment' }),
        'x-content-type-options': 'nosniff',
        'content-security-policy': USER_CONTENT_CSP,
        'cache-control': 'private, no-store',
        ...(length >= 0 ? { 'content-length': String(length) } : {}),
      });
      // (An empty stream, not nothing: Fastify's HEAD route would otherwise set Content-Length: 0.)
      if (!zip) return reply.send(Readable.from([]));
      const at = new Date();
      for (const { file } of entries) {
        deps.stats.recordClick({ fileId: file.id, ip: req.ip, userAgent: req.headers['user-agent'], at });
      }
      return reply.send(zip.stream);
    }
    const archiveName = (files: FileRow[]) => `tagdrop-${files.length}-files.zip`;

    app.get(
      '/files/zip/',
      {
        schema: {
          tags: ['files'],
          summary: 'Download several of your files (admins: any) as one ZIP, streamed as it is built',
          description:
            'With a Bearer token and `ids`, or with the `grant` of a ZIP link (POST /api/files/zip/link/) and ' +
            'nothing else. All ids must be yours (else 404, or 410 for one that expired). Entry names are made safe ' +
            'for every unzip tool (`:` `\\` and the other characters Windows forbids become `_`, no leading dots or ' +
            'slashes) and de-duplicated (`a.txt`, `a (1).txt`); each file counts one click. HEAD answers the ' +
            'headers only and counts nothing (a grant is not used up).',
          security: [{ bearer: [] }, {}],
          querystring: zipFilesQuery,
          produces: ['application/zip'],
          response: { ...zipResponse, ...errorResponses(400, 401, 404, 410) },
        },
      },
      async (req, reply) => {
        if (req.query.grant !== undefined) {
          if (req.query.ids !== undefined) {
            throw new AppError('validation_error', 'Send either ids or a grant, not both.', {
              fields: { grant: ['Not with ids'] },
            });
          }
          const files = await openZipLink(deps, req.query.grant, req.method !== 'HEAD');
          return send(req, reply, files, archiveName(files));
        }
        const user = await requireUser(deps, req);
        const files = await ownZipFiles(deps, user, parseZipIds(req.query.ids ?? ''));
        return send(req, reply, files, archiveName(files));
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
        return send(req, reply, files, archiveName(files));
      },
    );

    app.post(
      '/files/zip/link/',
      {
        schema: {
          tags: ['files'],
          summary: 'A short-lived link to the ZIP of your files, for a browser to download (streamed to disk)',
          description:
            `The same checks as GET /api/files/zip/ now (404, 410, 400), then \`download_url\`: ` +
            `GET /api/files/zip/?grant=…, no token needed, bound to you, your session and these ids, valid once ` +
            `within ${ZIP_LINK_TTL_SECONDS} s (an unknown, expired or used grant → 404). tRPC: files.zipLink.`,
          security: [{ bearer: [] }],
          body: zipFilesBody,
          response: { 200: zipLinkOutput, ...errorResponses(400, 401, 404, 410) },
        },
      },
      async (req) => createZipLink(deps, await requireUser(deps, req), req.body.ids),
    );

    app.get(
      '/public/files/zip/',
      {
        schema: {
          tags: ['files'],
          summary: 'Download the public files of a hashtag as one ZIP, streamed as it is built (no login needed)',
          description:
            'Unexpired public files with downloads left; each counts one click and a file with a download limit ' +
            'takes one of its downloads. More files than the limit → 400. HEAD answers the headers only and ' +
            'takes and counts nothing.',
          querystring: publicZipQuery,
          produces: ['application/zip'],
          response: { ...zipResponse, ...errorResponses(400, 404) },
        },
      },
      async (req, reply) => {
        const hashtag = normalizeHashtag(req.query.hashtag);
        const files = await publicZipFiles(deps, req.query.hashtag);
        return send(req, reply, files, `${hashtag || 'files'}.zip`, {
          take: true,
          none: () => noPublicFiles(hashtag),
        });
      },
    );
  };
