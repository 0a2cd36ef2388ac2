import type { ZipLink } from '@tagdrop/contracts';
import type { FileRow } from '@tagdrop/db';
import type { AppDeps } from '../deps.types.js';
import { AppError } from '../errors.js';
import type { AuthUser } from '../modules/auth/auth.service.js';
import { ownZipFiles, parseZipIds } from './zip.js';
import { zipGrants } from './zip-grants.js';

type LinkDeps = Pick<AppDeps, 'db' | 'redis' | 'baseUrl'>;

/**
 * POST /api/files/zip/link/ (files.zipLink): the caller's files (all theirs, admins any; else 404, 410 for an
 * expired one, nothing issued) → a link to their ZIP that works once, within ZIP_LINK_TTL_SECONDS, without a token.
 */
export async function createZipLink(deps: LinkDeps, user: AuthUser, rawIds: string[]): Promise<ZipLink> {
  const ids = parseZipIds(rawIds.join(','));
  await ownZipFiles(deps, user, ids);
  const { token, expiresAt } = await zipGrants(deps.redis).issue({
    userId: user.id,
    sessionId: user.sessionId,
    role: user.role,
    ids,
  });
  return { download_url: `${deps.baseUrl}/api/files/zip/?grant=${token}`, expires_at: expiresAt.toISOString() };
}

const unusable = () =>
  new AppError('not_found', 'This ZIP link is unknown, expired or already used: ask for a new one.');

/**
 * The files of a ZIP link, checked again now as the grant's caller: their session still open, their account
 * active, every file still theirs (admins: only while still admins) and unexpired. A GET uses the link up; HEAD
 * only looks (`use: false`).
 */
export async function openZipLink(deps: LinkDeps, token: string, use: boolean): Promise<FileRow[]> {
  const grant = await zipGrants(deps.redis).open(token, { use });
  if (!grant) throw unusable();
  const session = await deps.db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select(['users.role', 'sessions.method'])
    .where('sessions.id', '=', grant.sessionId)
    .where('sessions.user_id', '=', grant.userId)
    .where('sessions.revoked_at', 'is', null)
    .where('sessions.expires_at', '>', new Date())
    .where('users.is_active', '=', true)
    .executeTakeFirst();
  if (!session) throw unusable();
  const viewer: AuthUser = {
    id: grant.userId,
    sessionId: grant.sessionId,
    role: grant.role === 'admin' && session.role === 'admin' ? 'admin' : 'user',
    method: session.method,
  };
  return ownZipFiles(deps, viewer, grant.ids);
}
