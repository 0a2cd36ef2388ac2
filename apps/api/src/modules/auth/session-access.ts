/**
 * Who may use a session, on the hot path and when it changes. Authentication reads one cache entry (Redis, one
 * round trip; no PostgreSQL) and asks the database only when the entry is missing or the cache cannot answer. Every
 * change is written through: changes that take access away go to the cache first and again after the database
 * (for sessions that appeared meanwhile); while the cache cannot be written they answer 503 and change nothing, so
 * the cache never lets in a session the database has ended.
 */
import type { Role } from '@tagdrop/contracts';
import type { SessionMethod } from '@tagdrop/db';
import type { AppDeps } from '../../deps.types.js';
import type { Config } from '../../env.js';
import { AppError } from '../../errors.js';
import { sessionWithUser } from './auth.queries.js';
import type { AuthUser } from './auth.types.js';
import { OPEN_MARK_TTL_SECONDS, REVOKED_MARK_TTL_SECONDS, type SessionMark } from './session-cache.types.js';
import { verifyAccessToken } from './tokens.js';

/** What changing someone's access needs: the database and the session cache it writes through. */
export type AccessChangeDeps = Pick<AppDeps, 'db' | 'sessionCache' | 'log'>;

const ended = () => new AppError('invalid_token', 'This session has ended. Log in again.');
export const accountBlocked = () =>
  new AppError('account_blocked', 'This account is blocked. Contact the administrator.');

/** How long an open session may stay cached: never past its own expiry. */
export const openMarkTtl = (expiresAt: Date) =>
  Math.min(OPEN_MARK_TTL_SECONDS, Math.floor((expiresAt.getTime() - Date.now()) / 1000));

/**
 * The caller a session acts as. With ADMIN_REQUIRE_PASSKEY an admin whose session began with a code acts as a
 * user (no admin power anywhere), flagged so that admin procedures can say a passkey is needed.
 */
function actingAs(config: Config, id: string, role: Role, sessionId: string, method: SessionMethod): AuthUser {
  if (role === 'admin' && config.ADMIN_REQUIRE_PASSKEY && method !== 'passkey') {
    return { id, role: 'user', sessionId, method, adminNeedsPasskey: true };
  }
  return { id, role, sessionId, method };
}

/** Resolves a Bearer token to its user; the session must still be open and the user active. */
export async function authenticate(
  deps: Pick<AppDeps, 'db' | 'keys' | 'sessionCache' | 'config'>,
  token: string,
): Promise<AuthUser> {
  const claims = await verifyAccessToken(deps.keys.jwt, token);
  const cached = await deps.sessionCache.get(claims.sub, claims.sid);
  if (cached === 'revoked') throw ended();
  if (cached) return actingAs(deps.config, claims.sub, cached, claims.sid, claims.mth);

  // Not cached (first use, expired entry, Redis restarted) or the cache cannot answer: the database decides.
  const row = await sessionWithUser(deps.db, claims.sid);
  if (!row || row.id !== claims.sub) throw ended();
  if (row.revoked_at || row.expires_at <= new Date()) {
    if (cached === undefined) await deps.sessionCache.remember(row.id, claims.sid, 'revoked', REVOKED_MARK_TTL_SECONDS);
    throw ended();
  }
  if (!row.is_active) throw accountBlocked();
  if (cached === undefined) await deps.sessionCache.remember(row.id, claims.sid, row.role, openMarkTtl(row.expires_at));
  return actingAs(deps.config, row.id, row.role, row.session_id, row.method);
}

/** Ends one session in the cache (before the database is changed). */
export function markRevoked(deps: Pick<AppDeps, 'sessionCache'>, userId: string, sessionId: string) {
  return deps.sessionCache.mark(userId, [{ sessionId, mark: 'revoked' }]);
}

/**
 * Writes a user's sessions to the cache: those ended within an access-token lifetime (their tokens may still be
 * presented) as revoked, open ones as `open` (the user's role, or revoked).
 */
async function markUserSessions(deps: AccessChangeDeps, userId: string, open: SessionMark) {
  const rows = await deps.db
    .selectFrom('sessions')
    .select(['id', 'revoked_at'])
    .where('user_id', '=', userId)
    .where('expires_at', '>', new Date())
    .where((eb) =>
      eb.or([
        eb('revoked_at', 'is', null),
        eb('revoked_at', '>', new Date(Date.now() - REVOKED_MARK_TTL_SECONDS * 1000)),
      ]),
    )
    .execute();
  await deps.sessionCache.mark(
    userId,
    rows.map((r) => ({ sessionId: r.id, mark: r.revoked_at ? 'revoked' : open })),
  );
}

/**
 * A change that takes access away from a user (block, revoke all, demote): the cache first, so no instance lets the
 * old state in while the database changes, then the database, then the cache again for any session created
 * meanwhile. While the cache cannot be written this throws 503 before anything changed.
 */
export async function restrictAccess<T>(
  deps: AccessChangeDeps,
  userId: string,
  open: SessionMark,
  change: () => Promise<T>,
): Promise<T> {
  await markUserSessions(deps, userId, open);
  const result = await change();
  await markUserSessions(deps, userId, open);
  return result;
}

/**
 * A change that gives access (promote): the database first, then the cache. If the cache cannot be written, the
 * stricter cached state stays until its entry expires (at most 20 minutes); it never lets in more than it should.
 */
export async function widenAccess<T>(
  deps: AccessChangeDeps,
  userId: string,
  open: SessionMark,
  change: () => Promise<T>,
): Promise<T> {
  const result = await change();
  await markUserSessions(deps, userId, open).catch((err) =>
    deps.log.warn({ err: String(err), userId }, 'session cache not updated; it catches up as entries expire'),
  );
  return result;
}
