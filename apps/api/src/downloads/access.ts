import type { FileRow } from '@tagdrop/db';
import type { FastifyRequest } from 'fastify';
import type { AppDeps } from '../deps.types.js';
import { optionalUser } from '../http/request.js';
import { isExpired } from '../modules/files/files.dto.js';
import { findSharedFile } from '../modules/files/files.listing.js';
import { type GrantScope, verifyGrant } from '../modules/files/grants.js';
import { linkOpen } from '../modules/files/link-rules.js';
import type { FileMetaCache } from './file-cache.js';
import { parseRange, startsDownload } from './range.js';

/** A file a download route may serve, and the grant that opened it (null: public, Bearer or private link). */
export interface Reached {
  file: FileRow;
  grant: GrantScope | null;
  /** Reached by its owner or an admin (Bearer) or through one of their grants: not limited, never counted. */
  privileged: boolean;
  /** A password-protected private link without a valid unlock grant (401 password_required, no bytes). */
  locked: boolean;
  /** Served from the instance's cached row: the click (if the request is one) was already counted. */
  counted?: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * /f/{id}…: a public file for everyone; a private one for its owner or an admin (Bearer), or with a grant
 * (`?grant=`) of one of `scopes`. Anything else is undefined (404: an id reveals nothing).
 */
export async function reachById(
  deps: AppDeps,
  req: FastifyRequest,
  scopes: readonly GrantScope[],
  cache?: FileMetaCache,
): Promise<Reached | undefined> {
  const { id: raw } = req.params as { id: string };
  if (!UUID.test(raw)) return undefined;
  const id = raw.toLowerCase();
  const read = () => deps.db.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirst();
  // An anonymous request without a grant may be served from the cached row of a public file: the click's own
  // Redis call confirms that the row is still current (file-cache.ts). Expired rows go to PostgreSQL (410/404).
  const plain = cache && !req.headers.authorization && (req.query as { grant?: unknown }).grant === undefined;
  if (plain) {
    const hit = cache.get(id);
    if (hit && !isExpired(hit.file)) {
      const click = startsDownload(req.method, parseRange(req.headers.range, Number(hit.file.size)))
        ? { fileId: id, ip: req.ip, userAgent: req.headers['user-agent'], at: new Date() }
        : null;
      if (await deps.stats.clickIfCurrent(id, hit.token, click)) {
        return { file: hit.file, grant: null, privileged: false, locked: false, counted: true };
      }
      cache.drop(id);
    }
  }
  const file = plain ? await cache.load(id, read) : await read();
  if (!file) return undefined;
  const scope = verifyGrant(deps.keys.grants, (req.query as { grant?: unknown }).grant, file.id);
  const grant = scope && scopes.includes(scope) ? scope : null;
  let privileged = grant !== null;
  // The caller's token matters for a private file (access) and for a public one it was sent for (its owner's
  // downloads are not limited or counted); anonymous public downloads skip the check.
  if (!grant && (!file.is_public || req.headers.authorization)) {
    const user = await optionalUser(deps, req).catch(() => null);
    const manages = Boolean(user && (user.id === file.owner_id || user.role === 'admin'));
    if (!file.is_public && !manages) return undefined;
    privileged = manages;
  }
  return { file, grant, privileged, locked: false };
}

/** /s/{token}…: the private file behind the link. */
export async function reachByToken(deps: AppDeps, req: FastifyRequest): Promise<Reached | undefined> {
  const file = await findSharedFile(deps.db, (req.params as { token: string }).token);
  if (!file) return undefined;
  const locked = !linkOpen(deps.keys.unlock, file, (req.query as { unlock?: unknown }).unlock);
  return { file, grant: null, privileged: false, locked };
}
