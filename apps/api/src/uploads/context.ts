import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage } from 'node:http';
import type { UploadRow } from '@tagdrop/db';
import { type AppError, toErrorBody } from '../errors.js';
import type { AuthUser } from '../modules/auth/auth.service.js';
import type { ExpectedChecksum } from './checksum.js';

/**
 * What one tus request carries beyond the library's view of it: the caller, the upload's row, the checksum
 * its bytes must match. Set by the route around @tus/server's handler and read by the hooks and the
 * datastore wrapper (AsyncLocalStorage follows the request through the library's promise chain).
 */
export interface TusRequest {
  raw: IncomingMessage;
  user: AuthUser;
  /** The upload's row (every method but POST). */
  row?: UploadRow;
  /** A PATCH's Upload-Length for a deferred-length upload: declared with its chunk (uploads/store.ts). */
  declaredLength?: { id: string; size: number };
  /** The checksum the bytes of this request must match: from the header, or announced as a trailer. */
  checksum?: ExpectedChecksum;
  /** POST of a partial upload (Upload-Concat: partial). */
  partial?: boolean;
  /** The id of the upload this POST created (so a failed creation-with-upload is undone). */
  createdId?: string;
  /** Whether the 413 limit of this request was the owner's remaining quota (not the size cap). */
  quotaBound?: boolean;
}

export const tusRequests = new AsyncLocalStorage<TusRequest>();

/** Removes a request header before @tus/server sees it (it reads both `headers` and `rawHeaders`). */
export function dropHeader(raw: IncomingMessage, name: string) {
  delete raw.headers[name];
  for (let i = raw.rawHeaders.length - 2; i >= 0; i -= 2) {
    if (raw.rawHeaders[i]?.toLowerCase() === name) raw.rawHeaders.splice(i, 2);
  }
}

/** An AppError as @tus/server throws errors: a status and our JSON error body. */
export function tusError(err: AppError) {
  const { status, body } = toErrorBody(err);
  return { status_code: status, body: JSON.stringify(body) };
}
