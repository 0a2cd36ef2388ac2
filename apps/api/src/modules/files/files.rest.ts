import type { MultipartFile } from '@fastify/multipart';
import fastifyMultipart from '@fastify/multipart';
import {
  fileId,
  fileListOutput,
  fileSchema,
  hashtagListOutput,
  listFilesInput,
  updateFileInput,
} from '@tagdrop/contracts';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../../deps.js';
import { AppError, validationError } from '../../errors.js';
import { errorResponses } from '../../http/openapi.js';
import { optionalUser, requireUser } from '../../http/request.js';
import type { AuthUser } from '../auth/auth.service.js';
import * as files from './files.service.js';
import { listHashtags } from './hashtags.service.js';

const idParams = z.object({ id: fileId });
const multipartBody = z
  .object({
    file: z.string().describe('The file content (binary)').meta({ format: 'binary' }),
    description: z.string().optional(),
    hashtags: z.string().optional().describe('Comma separated'),
    is_public: z.enum(['true', 'false']).optional(),
    expires_at: z.string().optional().describe('ISO 8601 date-time'),
    name: z.string().optional().describe('Display name (defaults to the uploaded filename)'),
  })
  .meta({ id: 'FileUpload' });

/** Reads a multipart request: streams the one `file` part to storage, collects the fields. */
async function receiveMultipart(
  deps: AppDeps,
  req: FastifyRequest,
  user: AuthUser,
  replaces: string | null,
): Promise<{ id: string | null; fields: Record<string, string> }> {
  const fields: Record<string, string> = {};
  let stored: string | null = null;
  let filePart: MultipartFile | null = null;
  let filename: string | undefined;
  try {
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file' || filePart) {
          part.file.resume();
          throw new AppError('validation_error', 'Send exactly one file, in the field "file".', {
            fields: { file: ['One file expected'] },
          });
        }
        filePart = part;
        filename = part.filename;
        // Metadata fields sent before the file are validated before any byte is stored.
        const early = files.parseFileMeta({ ...fields, filename: fields.name ?? filename });
        const length = Number(req.headers['content-length']);
        stored = await files.storeStream(deps, {
          owner: user,
          body: part.file,
          replaces,
          meta: early,
          ip: req.ip,
          // The whole request's length bounds the file's: reserve that much quota while it streams.
          sizeHint: Number.isFinite(length) && length > 0 ? length : undefined,
        });
      } else if (typeof part.value === 'string') {
        fields[part.fieldname] = part.value;
      }
    }
  } catch (err) {
    if (stored && !replaces) await files.deleteFiles(deps, [stored]);
    if (err instanceof Error && 'code' in err && err.code === 'FST_REQ_FILE_TOO_LARGE') {
      throw new AppError('payload_too_large', `Files are limited to ${deps.config.MAX_UPLOAD_BYTES} bytes.`);
    }
    throw err;
  }
  return { id: stored, fields };
}

/** Applies the metadata fields that arrived after the file part (or all of them, for a metadata-only PUT). */
async function applyFields(deps: AppDeps, user: AuthUser, id: string, fields: Record<string, string>, baseUrl: string) {
  const meta = files.parseFileMeta({ ...fields, filename: fields.name ?? 'x' });
  const changes: z.infer<typeof updateFileInput> = {};
  if (fields.name !== undefined) changes.name = meta.name;
  if (fields.description !== undefined) changes.description = meta.description;
  if (fields.hashtags !== undefined) changes.hashtags = meta.hashtags;
  if (fields.is_public !== undefined) changes.is_public = meta.is_public;
  if (fields.expires_at !== undefined) changes.expires_at = meta.expires_at?.toISOString() ?? null;
  return Object.keys(changes).length > 0
    ? files.updateFile(deps, user, id, changes, baseUrl)
    : files.getFile(deps, user, id, baseUrl);
}

/** The Django service's file paths on the same services and schemas as tRPC. */
export const filesRest =
  (deps: AppDeps): FastifyPluginAsyncZod =>
  async (app) => {
    await app.register(fastifyMultipart, {
      limits: { fileSize: deps.config.MAX_UPLOAD_BYTES, files: 1, fields: 20, fieldSize: 64 * 1024, parts: 30 },
      throwFileSizeLimit: true,
    });
    const baseUrl = (req: FastifyRequest) => files.baseUrlOf(deps, `${req.protocol}://${req.host}`);
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
        return files.listFiles(deps, { kind: 'own', user }, req.query, user, baseUrl(req));
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
        const { id, fields } = await receiveMultipart(deps, req, user, null);
        if (!id)
          throw new AppError('validation_error', 'The "file" field is missing.', { fields: { file: ['Required'] } });
        const late = await applyFields(deps, user, id, fields, baseUrl(req)).catch(async (err) => {
          await files.deleteFiles(deps, [id]);
          throw err;
        });
        return reply.code(201).send(late);
      },
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
      async (req) => files.getFile(deps, await requireUser(deps, req), req.params.id, baseUrl(req)),
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
      async (req) => files.updateFile(deps, await requireUser(deps, req), req.params.id, req.body, baseUrl(req)),
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
        await files.getManagedFile(deps, user, id);
        if (req.isMultipart()) {
          const { fields } = await receiveMultipart(deps, req, user, id);
          return applyFields(deps, user, id, fields, baseUrl(req));
        }
        const parsed = updateFileInput.safeParse(req.body ?? {});
        if (!parsed.success) throw validationError(parsed.error);
        return files.updateFile(deps, user, id, parsed.data, baseUrl(req));
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
        await files.deleteFile(deps, await requireUser(deps, req), req.params.id);
        return reply.code(204).send(null);
      },
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
      async (req) => files.rotateLink(deps, await requireUser(deps, req), req.params.id, baseUrl(req)),
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
        return files.listFiles(deps, { kind: 'public' }, req.query, viewer, baseUrl(req));
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
