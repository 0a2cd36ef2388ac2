import * as tus from 'tus-js-client';
import { clientOptionsOf, type TagdropClient } from './client.js';
import type { FileDto } from './schemas/files.js';

export interface UploadMetadata {
  /** Shown name; defaults to the File's name in browsers. */
  filename?: string;
  description?: string;
  hashtags?: string[] | string;
  is_public?: boolean;
  expires_at?: Date | string | null;
  /**
   * Counted downloads (by anyone but the owner) before the file answers 410: a whole number ≥ 1; null or
   * omitted: no limit. New files only (a replacement keeps the file's limit; change it with `files.update`).
   */
  max_downloads?: number | null;
  /** Replace the content of this existing file (keeps its id, links and statistics). */
  file_id?: string;
}

export interface UploadOptions {
  /** Called as bytes are acknowledged by the server. */
  onProgress?: (bytesSent: number, bytesTotal: number) => void;
  /** Chunk size in bytes (default 8 MiB); required for Node streams, where it bounds memory use. */
  chunkSize?: number;
  /** Size of a Node stream, when known (otherwise the length is sent at the end). */
  size?: number;
  /** Cancels the upload (the server keeps the partial upload until it expires; retry with the same input resumes it). */
  signal?: AbortSignal;
  /** Delays between retries after network errors, in ms. */
  retryDelays?: number[];
  /**
   * Send the file as this many parts at once (tus concatenation: partial uploads joined into one file on the
   * server). Helps when one connection cannot fill the line (high latency, per-connection limits). Browser
   * `File`/`Blob` and `Uint8Array` only (a stream's parts cannot be read out of order); default 1.
   */
  parallel?: number;
}

/** Anything tus-js-client can read: a browser File/Blob, a Node Buffer or a Node Readable stream. */
export type UploadInput = Blob | Uint8Array | NodeJS.ReadableStream;

/**
 * Uploads a file resumably (tus) to a Tagdrop instance and returns the file object. Works in browsers
 * and Node. A dropped connection is retried and resumed from the last acknowledged byte.
 */
export async function uploadFile(
  client: TagdropClient,
  input: UploadInput,
  metadata: UploadMetadata = {},
  options: UploadOptions = {},
): Promise<FileDto> {
  const { url, getToken } = clientOptionsOf(client);
  const token = await getToken();
  if (!token) throw new Error('uploadFile needs a logged-in client (token or getToken).');
  const name = metadata.filename ?? (typeof File !== 'undefined' && input instanceof File ? input.name : 'file');
  const meta: Record<string, string> = { filename: name };
  if (metadata.description !== undefined) meta.description = metadata.description;
  if (metadata.hashtags !== undefined) {
    meta.hashtags = Array.isArray(metadata.hashtags) ? metadata.hashtags.join(',') : metadata.hashtags;
  }
  if (metadata.is_public !== undefined) meta.is_public = String(metadata.is_public);
  if (metadata.expires_at) {
    meta.expires_at = metadata.expires_at instanceof Date ? metadata.expires_at.toISOString() : metadata.expires_at;
  }
  if (metadata.max_downloads !== undefined && metadata.max_downloads !== null) {
    const max = metadata.max_downloads;
    if (!Number.isInteger(max) || max < 1 || max > 1_000_000_000) {
      throw new RangeError('uploadFile: max_downloads must be a whole number from 1 to 1000000000.');
    }
    meta.max_downloads = String(max);
  }
  if (metadata.file_id) meta.file_id = metadata.file_id;
  if (typeof Blob !== 'undefined' && input instanceof Blob && input.type) meta.filetype = input.type;

  const isStream = typeof (input as NodeJS.ReadableStream).pipe === 'function';
  const parallel = Math.max(1, Math.floor(options.parallel ?? 1));
  if (parallel > 1 && isStream) throw new Error('uploadFile: `parallel` needs a Blob or a Uint8Array, not a stream.');
  const id = await new Promise<string>((resolve, reject) => {
    const upload = new tus.Upload(input as never, {
      endpoint: `${url}/uploads/`,
      metadata: meta,
      chunkSize: options.chunkSize ?? (isStream ? 8 * 1024 * 1024 : Number.POSITIVE_INFINITY),
      retryDelays: options.retryDelays ?? [0, 1000, 3000, 5000, 10000],
      removeFingerprintOnSuccess: true,
      ...(options.size !== undefined && parallel === 1 ? { uploadSize: options.size } : {}),
      ...(isStream && options.size === undefined ? { uploadLengthDeferred: true } : {}),
      ...(parallel > 1 ? { parallelUploads: parallel } : {}),
      async onBeforeRequest(req) {
        // A fresh token for every request: long uploads outlive a 15-minute access token.
        const current = await getToken();
        if (current) req.setHeader('Authorization', `Bearer ${current}`);
      },
      onProgress: options.onProgress,
      onError: reject,
      onSuccess() {
        const location = upload.url ?? '';
        resolve(location.split('/').filter(Boolean).pop() ?? '');
      },
    });
    options.signal?.addEventListener('abort', () => {
      void upload.abort();
      reject(options.signal?.reason ?? new Error('upload aborted'));
    });
    if (isStream) {
      upload.start();
    } else {
      upload.findPreviousUploads().then((previous) => {
        if (previous[0]) upload.resumeFromPreviousUpload(previous[0]);
        upload.start();
      }, reject);
    }
  });
  return client.files.get.query({ id: metadata.file_id ?? id }) as Promise<FileDto>;
}
