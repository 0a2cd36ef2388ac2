import type { FastifyReply } from 'fastify';
import type { Config } from '../env.js';
import type { Storage } from '../storage/storage.js';
import { assertSafeKey } from '../storage/storage.js';

/**
 * DOWNLOAD_ACCEL=nginx: the API has authorized the request, checked expiry and link limits, counted the click and
 * answered conditional and unsatisfiable requests itself (304, 416). Instead of the bytes it answers an empty 200
 * with `X-Accel-Redirect: <DOWNLOAD_ACCEL_PREFIX><storage key>`, and nginx sends the file from its `internal`
 * location by sendfile, Range and HEAD included. The response headers set before this call (Content-Type,
 * Content-Disposition, CSP, ETag, …) stay on the answer: nginx keeps some by itself and its location adds the
 * others back from `$upstream_http_*` (README "Bytes served by the edge", deploy/nginx.conf).
 */
export type Accel = (reply: FastifyReply, key: string) => FastifyReply;

/** The offload of this configuration, or null (the API streams the bytes itself). */
export function createAccel(config: Pick<Config, 'DOWNLOAD_ACCEL' | 'DOWNLOAD_ACCEL_PREFIX'>, storage: Storage) {
  if (config.DOWNLOAD_ACCEL !== 'nginx') return null;
  // nginx reads the files from its own disk: only local storage has them there.
  if (storage.kind !== 'local') {
    throw new Error(`DOWNLOAD_ACCEL=nginx needs local storage (this instance stores on ${storage.kind})`);
  }
  const prefix = config.DOWNLOAD_ACCEL_PREFIX;
  const accel: Accel = (reply, key) =>
    reply
      .code(200)
      .header('x-accel-redirect', `${prefix}${assertSafeKey(key)}`)
      .removeHeader('content-length')
      // nginx announces ranges itself (deploy/nginx.conf); passed on too it would say "bytes, bytes".
      .removeHeader('accept-ranges')
      .send();
  return accel;
}
