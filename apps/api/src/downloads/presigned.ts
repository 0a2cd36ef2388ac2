import type { FastifyReply } from 'fastify';
import type { Config } from '../env.js';
import type { Storage } from '../storage/storage.js';

/** How long a presigned download URL works: long enough to follow the redirect, too short to pass around. */
export const PRESIGNED_TTL_SECONDS = 60;

/**
 * DOWNLOAD_REDIRECT=presigned: the API has authorized the request, checked expiry and link limits, counted the
 * click and answered conditional and unsatisfiable requests itself (304, 416). A GET is then answered 302 to a
 * presigned GET of the object, valid for 60 s, whose Content-Type and Content-Disposition the object store is told
 * to send (response overrides), so the bytes come from the store with the headers the API would have sent. A Range
 * header is re-sent by the client to the store. HEAD is answered by the API (a presigned GET does not take HEAD).
 */
export type Redirect = (
  reply: FastifyReply,
  key: string,
  headers: { contentType: string; contentDisposition: string },
) => Promise<FastifyReply>;

/** The redirect of this configuration, or null (the API streams the bytes itself). */
export function createRedirect(config: Pick<Config, 'DOWNLOAD_REDIRECT'>, storage: Storage): Redirect | null {
  if (config.DOWNLOAD_REDIRECT !== 'presigned') return null;
  const presign = storage.presignDownload?.bind(storage);
  if (!presign)
    throw new Error(`DOWNLOAD_REDIRECT=presigned needs object storage (this instance stores on ${storage.kind})`);
  return async (reply, key, headers) => {
    const url = await presign(key, { ...headers, expiresInSeconds: PRESIGNED_TTL_SECONDS });
    for (const name of [
      'content-type',
      'content-disposition',
      'content-length',
      'accept-ranges',
      'etag',
      'last-modified',
    ]) {
      reply.removeHeader(name);
    }
    return reply.code(302).header('location', url).header('cache-control', 'no-store').send();
  };
}
