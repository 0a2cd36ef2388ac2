import type { UpdateFileInput } from '@tagdrop/contracts';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppDeps } from '../../deps.types.js';
import { AppError } from '../../errors.js';
import type { AuthUser } from '../auth/auth.service.js';
import { discardStaged, type NewFileMeta, parseFileMeta, type StagedUpload, stageStream } from './files.upload.js';
import { checkPasswordVisibility, hashLinkPassword } from './link-rules.js';

/** Multipart uploads (POST /api/files/, PUT /api/files/{id}/): the one `file` part streamed, the fields collected. */

export const multipartBody = z
  .object({
    file: z.string().describe('The file content (binary)').meta({ format: 'binary' }),
    description: z.string().optional(),
    hashtags: z.string().optional().describe('Comma separated'),
    is_public: z.enum(['true', 'false']).optional(),
    expires_at: z.string().optional().describe('ISO 8601 date-time'),
    name: z.string().optional().describe('Display name (defaults to the uploaded filename)'),
    link_password: z.string().optional().describe('Write-only: a password for the private link (empty: none)'),
    max_downloads: z.string().optional().describe('Counted downloads before the file answers 410 (empty: no limit)'),
  })
  .meta({ id: 'FileUpload' });

const oneFile = () =>
  new AppError('validation_error', 'Send exactly one file, in the field "file".', {
    fields: { file: ['One file expected'] },
  });
const malformed = () =>
  new AppError(
    'validation_error',
    'The multipart/form-data body is malformed or incomplete (check the boundary and that the body was sent whole).',
  );

/** Errors of @fastify/multipart and busboy about the request body, as the 4xx they are (never their own text). */
const BODY_ERROR_MESSAGES = [
  /^Multipart: Boundary not found$/,
  /^Boundary required$/,
  /^Unsupported Content-Type\.$/,
  /^Unexpected end of multipart data$/,
  /terminated early due to unexpected end of multipart data$/,
  /^Malformed part header$/,
];

export function multipartError(err: unknown, maxBytes: number): AppError | undefined {
  if (err instanceof AppError || !(err instanceof Error)) return undefined;
  switch ((err as { code?: string }).code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return new AppError('payload_too_large', `Files are limited to ${maxBytes} bytes.`);
    case 'FST_FILES_LIMIT':
      return oneFile();
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new AppError('validation_error', 'Too many fields in the multipart body.');
    case 'FST_PROTO_VIOLATION':
    case 'FST_INVALID_JSON_FIELD_ERROR':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
    case 'FST_MP_PREMATURE_CLOSE':
      return malformed();
  }
  return BODY_ERROR_MESSAGES.some((re) => re.test(err.message)) ? malformed() : undefined;
}

export interface ReceivedMultipart {
  /** The file part's bytes, staged (not yet visible), or null when the body had no file. */
  staged: StagedUpload | null;
  /** The metadata fields as sent. */
  fields: Record<string, string>;
  /** All metadata, validated (the display name: `name`, else the uploaded filename). */
  meta: NewFileMeta;
}

/**
 * Reads a whole multipart request before anything changes: streams the one `file` part into staged storage and
 * validates every field. A malformed, truncated or invalid body leaves nothing behind.
 */
export async function receiveMultipart(
  deps: AppDeps,
  req: FastifyRequest,
  user: AuthUser,
  replaces: string | null,
): Promise<ReceivedMultipart> {
  const fields: Record<string, string> = {};
  let staged: StagedUpload | null = null;
  let sawFile = false;
  let filename: string | undefined;
  try {
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file' || sawFile) {
          part.file.resume();
          throw oneFile();
        }
        sawFile = true;
        filename = part.filename;
        // Metadata fields sent before the file are validated before any byte is stored.
        const early = parseFileMeta({ ...fields, filename: fields.name ?? filename });
        if (replaces === null) checkNewFilePassword(fields, early);
        const length = Number(req.headers['content-length']);
        staged = await stageStream(deps, {
          owner: user,
          body: part.file,
          replaces,
          name: early.name,
          // The whole request's length bounds the file's: reserve that much quota while it streams.
          sizeHint: Number.isFinite(length) && length > 0 ? length : undefined,
        });
      } else if (typeof part.value === 'string') {
        fields[part.fieldname] = part.value;
      }
    }
    const meta = parseFileMeta({ ...fields, filename: fields.name ?? filename });
    if (replaces === null) checkNewFilePassword(fields, meta);
    if (fields.link_password) meta.link_password_hash = await hashLinkPassword(fields.link_password);
    return { staged, fields, meta };
  } catch (err) {
    if (staged) await discardStaged(deps, staged.key);
    throw multipartError(err, deps.config.MAX_UPLOAD_BYTES) ?? err;
  }
}

/** A new file: a password protects the private link only (a public upload with one is refused, README). */
function checkNewFilePassword(fields: Record<string, string>, meta: NewFileMeta) {
  checkPasswordVisibility(
    { is_public: false, link_password_hash: null },
    { is_public: meta.is_public, link_password: fields.link_password || undefined },
  );
}

/** The metadata changes a multipart PUT asks for: only the fields it sent. */
export function changesOf(received: ReceivedMultipart): UpdateFileInput {
  const { fields, meta } = received;
  const changes: UpdateFileInput = {};
  if (fields.name !== undefined) changes.name = meta.name;
  if (fields.description !== undefined) changes.description = meta.description;
  if (fields.hashtags !== undefined) changes.hashtags = meta.hashtags;
  if (fields.is_public !== undefined) changes.is_public = meta.is_public;
  if (fields.expires_at !== undefined) changes.expires_at = meta.expires_at?.toISOString() ?? null;
  if (fields.max_downloads !== undefined) changes.max_downloads = meta.max_downloads;
  // An empty link_password removes the password.
  if (fields.link_password !== undefined) changes.link_password = fields.link_password || null;
  return changes;
}
