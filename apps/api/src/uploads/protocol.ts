import { ERRORS, Metadata } from '@tus/utils';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import { UPLOAD_RESERVATION_MS } from '../modules/files/quota.js';
import type { TusRequest } from './context.js';

/** tus protocol details shared by the route: versions, extensions, header checks, library errors as ours. */

export const TUS_VERSION = '1.0.0';
/** Unfinished uploads expire after a day (tus expiration extension). */
export const UPLOAD_EXPIRY_MS = UPLOAD_RESERVATION_MS;
/** What OPTIONS announces (a fixed surface, see DESIGN.md). */
export const TUS_EXTENSIONS = [
  'creation',
  'creation-with-upload',
  'creation-defer-length',
  'expiration',
  'termination',
  'checksum',
  'checksum-trailer',
  'concatenation',
  'concatenation-unfinished',
];
export const OFFSET_TYPE = 'application/offset+octet-stream';
const NON_NEGATIVE = /^(0|[1-9]\d{0,15})$/;

/** @tus/server's errors (plain text) as our JSON errors with codes. */
export function fromLibraryError(
  err: { status_code: number; body: string },
  request: TusRequest | undefined,
): AppError {
  switch (err) {
    case ERRORS.INVALID_LENGTH:
      return new AppError(
        'validation_error',
        'Upload-Length is declared once (at creation or in one PATCH), never changed, and never below the bytes received.',
        {
          fields: { 'upload-length': ['Invalid'] },
        },
      );
    case ERRORS.INVALID_OFFSET:
      return new AppError('conflict', "Upload-Offset is not the upload's offset (ask HEAD).");
    case ERRORS.FILE_NOT_FOUND:
      return new AppError('not_found', 'No such upload.');
    case ERRORS.FILE_NO_LONGER_EXISTS:
      return new AppError('gone', 'This upload has expired.');
    case ERRORS.INVALID_METADATA:
      return new AppError('invalid_metadata', 'Upload-Metadata must be comma-separated "key base64value" pairs.');
    case ERRORS.ABORTED:
      return new AppError('conflict', 'The request was cut short; ask HEAD for the offset and continue.');
    case ERRORS.ERR_LOCK_TIMEOUT:
      return new AppError('service_unavailable', 'The upload is busy; try again.');
  }
  if (err.status_code === 413) {
    return request?.quotaBound
      ? new AppError('quota_exceeded', 'Not enough quota left for this upload.')
      : new AppError('payload_too_large', 'The upload is larger than allowed (or than its declared length).');
  }
  if (err.status_code < 500) return new AppError('validation_error', 'This tus request is not valid.');
  return new AppError('internal_error', 'Upload failed on our side.');
}

/** Checks what @tus/server would answer in plain text (or not at all), before it sees the request. */
export function validateTusHeaders(req: FastifyRequest) {
  const h = req.headers;
  const invalid = (name: string, why: string) =>
    new AppError('validation_error', `${name}: ${why}.`, { fields: { [name.toLowerCase()]: [why] } });
  for (const name of ['upload-offset', 'upload-length'] as const) {
    const value = h[name];
    if (value !== undefined && !NON_NEGATIVE.test(String(value))) throw invalid(name, 'must be a non-negative integer');
  }
  if (h['upload-defer-length'] !== undefined && h['upload-defer-length'] !== '1') {
    throw invalid('Upload-Defer-Length', 'must be 1');
  }
  if (typeof h['upload-metadata'] === 'string') {
    try {
      Metadata.parse(h['upload-metadata']);
    } catch {
      throw new AppError('invalid_metadata', 'Upload-Metadata must be comma-separated "key base64value" pairs.');
    }
  }
  if (req.method === 'PATCH' && h['upload-offset'] === undefined) throw invalid('Upload-Offset', 'required');
}
