import fastifyMultipart from '@fastify/multipart';
import {
  bulkFilesInput,
  bulkFilesOutput,
  fileId,
  fileListOutput,
  fileSchema,
  hashtagListOutput,
  listFilesInput,
  previewLinksOutput,
  unlockLinkInput,
  unlockLinkOutput,
  updateFileInput,
} from '@tagdrop/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../../deps.types.js';
import { AppError, validationError } from '../../errors.js';
import { errorResponses } from '../../http/openapi.js';
import { optionalUser, requireUser } from '../../http/request.js';
import { bulkFiles } from './files.bulk.js';
import { getFile, getManagedFile, getPreviewLinks, listFiles } from './files.listing.js';
import { changesOf, multipartBody, receiveMultipart } from './files.multipart.js';
import { deleteFile, rotateLink, updateFile } from './files.service.js';
import { commitStaged, discardStaged } from './files.upload.js';
import { listHashtags } from './hashtags.service.js';
import { unlockLink } from './link-controls.js';
import { checkPasswordVisibility } from './link-rules.js';

const idParams = z.object({ id: fileId });
/** The Django service's file paths on the same services and schemas as tRPC. */
export const filesRest =
  (deps: AppDeps): FastifyPluginAsyncZod =>
  async (app) => {
    await app.register(fastifyMultipart, {
      limits: { fileSize: deps.config.MAX_UPLOAD_BYTES, files: 1, fields: 20, fieldSize: 64 * 1024, parts: 30 },
      throwFileSizeLimit: true,
    });
    const baseUrl = () => deps.baseUrl;
    const security = [{ bearer: [] }];

    app.get(
      '/files/',
      {
        schema: {
          tags: ['files'],
          summary: 'Your files, newest first',
          security,
          querystring: listFilesInput,
          response: { 200: fileListOutput, ...errorResponses(400, 401) },
        },
      },
      async (req) => {
        const user = await requireUser(deps, req);
        return listFiles(deps, { kind: 'own', user }, req.query, user, baseUrl());
      },
    );

    app.post(
      '/files/',
      {
        schema: {
          tags: ['files'],
          summary: 'Upload a file (multipart/form-data; for large files use tus at /uploads/)',
          security,
          consumes: ['multipart/form-data'],
          body: multipartBody,
          response: { 201: fileSchema, ...errorResponses(400, 401, 413, 415) },
        },
        // The body is streamed by the handler, not parsed up front; the schema documents it.
        validatorCompiler: () => () => ({ value: undefined }),
      },
      async (req, reply) => {
        const user = await requireUser(deps, req);
        if (!req.isMultipart()) {
          throw new AppError('unsupported_media_type', 'Send multipart/form-data with a "file" field.');
        }
        const { staged, meta } = await receiveMultipart(deps, req, user, null);
        if (!staged)
          throw new AppError('validation_error', 'The "file" field is missing.', { fields: { file: ['Required'] } });
        const id = await commitStaged(deps, staged, meta, req.ip);
        const file = await getFile(deps, user, id, baseUrl());
        return reply.code(201).send(file);
      },
    );

    app.post(
      '/files/bulk/',
      {
        schema: {
          tags: ['files'],
          summary: 'One action on many files (at most 500), all or nothing',
          description:
            'Every id must be yours (admins: any file), else 404 and nothing changes. `add_hashtags` and ' +
            "`remove_hashtags` take `hashtags` (a #word of a file's description stays on it); `set_expiry` " +
            'takes `expires_at` (future, or null to remove it).',
          security,
          body: bulkFilesInput,
          response: { 200: bulkFilesOutput, ...errorResponses(400, 401, 404) },
        },
      },
      async (req) => bulkFiles(deps, await requireUser(deps, req), req.body),
    );

    app.get(
      '/files/:id/',
      {
        schema: {
          tags: ['files'],
          summary: 'One of your files (admins: any file)',
          security,
          params: idParams,
          response: { 200: fileSchema, ...errorResponses(401, 404) },
        },
      },
      async (req) => getFile(deps, await requireUser(deps, req), req.params.id, baseUrl()),
    );

    app.patch(
      '/files/:id/',
      {
        schema: {
          tags: ['files'],
          summary: 'Change metadata',
          security,
          params: idParams,
          body: updateFileInput,
          response: { 200: fileSchema, ...errorResponses(400, 401, 404) },
        },
      },
      async (req) => updateFile(deps, await requireUser(deps, req), req.params.id, req.body, baseUrl()),
    );

    app.put(
      '/files/:id/',
      {
        schema: {
          tags: ['files'],
          summary: 'Replace the content (multipart, keeps id, links and statistics) or the metadata (JSON)',
          security,
          consumes: ['multipart/form-data', 'application/json'],
          params: idParams,
          body: z.union([multipartBody, updateFileInput]),
          response: { 200: fileSchema, ...errorResponses(400, 401, 404, 413) },
        },
        validatorCompiler: ({ httpPart }) =>
          httpPart === 'params'
            ? (data: unknown) => {
                const parsed = idParams.safeParse(data);
                return parsed.success ? { value: parsed.data } : { error: validationError(parsed.error) };
              }
            : // The JSON body is checked in the handler (a multipart body is streamed there); keep it as sent.
              (data: unknown) => ({ value: data }),
      },
      async (req) => {
        const user = await requireUser(deps, req);
        const { id } = req.params as { id: string };
        const file = await getManagedFile(deps, user, id);
        if (req.isMultipart()) {
          const received = await receiveMultipart(deps, req, user, id);
          if (!received.staged && Object.keys(received.fields).length === 0) {
            throw new AppError('validation_error', 'Send a "file" part, metadata fields, or both.');
          }
          const changes = changesOf(received);
          // Refused metadata (a password on a public file) leaves the content as it was, too.
          try {
            checkPasswordVisibility(file, changes);
          } catch (err) {
            if (received.staged) await discardStaged(deps, received.staged.key);
            throw err;
          }
          if (received.staged) await commitStaged(deps, received.staged, received.meta, req.ip);
          return Object.keys(changes).length > 0
            ? updateFile(deps, user, id, changes, baseUrl())
            : getFile(deps, user, id, baseUrl());
        }
        const parsed = updateFileInput.safeParse(req.body ?? {});
        if (!parsed.success) throw validationError(parsed.error);
        return updateFile(deps, user, id, parsed.data, baseUrl());
      },
    );

    app.delete(
      '/files/:id/',
      {
        schema: {
          tags: ['files'],
          summary: 'Delete a file (bytes, links and statistics)',
          security,
          params: idParams,
          response: { 204: z.null().describe('Deleted'), ...errorResponses(401, 404) },
        },
      },
      async (req, reply) => {
        await deleteFile(deps, await requireUser(deps, req), req.params.id);
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/files/:id/preview-links/',
      {
        schema: {
          tags: ['files'],
          summary: 'Short-lived links to the bytes, for a page that cannot send a Bearer token (players, previews)',
          security,
          params: idParams,
          response: { 200: previewLinksOutput, ...errorResponses(401, 404) },
        },
      },
      async (req) => getPreviewLinks(deps, await requireUser(deps, req), req.params.id, baseUrl()),
    );

    app.post(
      '/files/:id/rotate-link/',
      {
        schema: {
          tags: ['files'],
          summary: 'Replace the private link; the old one stops working at once',
          security,
          params: idParams,
          response: { 200: fileSchema, ...errorResponses(401, 404) },
        },
      },
      async (req) => rotateLink(deps, await requireUser(deps, req), req.params.id, baseUrl()),
    );

    app.post(
      '/share/:token/unlock/',
      {
        schema: {
          tags: ['files'],
          summary: 'Unlock a password-protected private link: the link with a short-lived grant',
          params: z.object({ token: z.string().min(1).max(100) }),
          body: unlockLinkInput,
          response: { 200: unlockLinkOutput, ...errorResponses(400, 404, 410, 429) },
        },
      },
      async (req) => unlockLink(deps, req.params.token, req.body.password, req.ip),
    );

    app.get(
      '/public/files/',
      {
        schema: {
          tags: ['files'],
          summary: 'Public files of everyone (no login needed)',
          querystring: listFilesInput,
          response: { 200: fileListOutput, ...errorResponses(400) },
        },
      },
      async (req) => {
        const viewer = await optionalUser(deps, req).catch(() => null);
        return listFiles(deps, { kind: 'public' }, req.query, viewer, baseUrl());
      },
    );

    app.get(
      '/hashtags/',
      {
        schema: {
          tags: ['files'],
          summary: 'Hashtags with the number of files you can see',
          response: { 200: hashtagListOutput },
        },
      },
      async (req) => ({ results: await listHashtags(deps.db, await optionalUser(deps, req).catch(() => null)) }),
    );
  };
