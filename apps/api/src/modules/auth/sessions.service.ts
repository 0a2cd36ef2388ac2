/** Sessions: creation, refresh rotation with reuse detection, logout, revocation, blocking (write-through cache). */
import type { SessionDto } from '@tagdrop/contracts';
import type { SessionMethod, User } from '@tagdrop/db';
import type { AppDeps } from '../../deps.types.js';
import { AppError } from '../../errors.js';
import { audit } from '../../infra/audit.js';
import { randomToken, sha256Hex } from '../../infra/secrets.js';
import { refreshTokenWithSession, revokeSessions } from './auth.queries.js';
import { type AuthDeps, type AuthUser, type RequestMeta, toUserDto } from './auth.types.js';
import { type AccessChangeDeps, accountBlocked, markRevoked, openMarkTtl, restrictAccess } from './session-access.js';
import { issueAccessToken } from './tokens.js';

export const REFRESH_TTL_DAYS = 30;

const iso = (d: Date) => d.toISOString();

/**
 * Opens a session and issues its tokens. The user's role and state are read after the session exists, so a block or
 * role change racing this login either sees the new session or is seen by this read.
 */
export async function createSession(deps: AuthDeps, user: Pick<User, 'id'>, meta: RequestMeta, method: SessionMethod) {
  const refresh = randomToken(32);
  const session = await deps.db.transaction().execute(async (trx) => {
    const s = await trx
      .insertInto('sessions')
      .values({
        user_id: user.id,
        expires_at: new Date(Date.now() + REFRESH_TTL_DAYS * 86_400_000),
        user_agent: meta.userAgent?.slice(0, 300) ?? null,
        ip: meta.ip,
        method,
      })
      .returning(['id', 'expires_at'])
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('refresh_tokens')
      .values({ session_id: s.id, token_hash: sha256Hex(refresh) })
      .execute();
    return s;
  });
  const now = await deps.db
    .selectFrom('users')
    .select(['role', 'is_active'])
    .where('id', '=', user.id)
    .executeTakeFirst();
  if (!now?.is_active) {
    await revokeSessions(deps.db, { sessionId: session.id }, 'user_blocked');
    throw accountBlocked();
  }
  await deps.sessionCache.remember(user.id, session.id, now.role, openMarkTtl(session.expires_at));
  const access = await issueAccessToken(deps.keys.jwt, { sub: user.id, sid: session.id, role: now.role, mth: method });
  return { access, refresh };
}

/**
 * The end of every successful login (code or passkey): records it on the user, opens the session, writes the
 * audit entry, and answers like /api/verify-otp/.
 */
export async function completeLogin(
  deps: AuthDeps,
  userId: string,
  meta: RequestMeta,
  method: SessionMethod,
  auditMeta: Record<string, unknown>,
) {
  const user = await deps.db
    .updateTable('users')
    .set({ last_login_at: new Date() })
    .where('id', '=', userId)
    .returningAll()
    .executeTakeFirstOrThrow();
  const tokens = await createSession(deps, user, meta, method);
  await audit(deps.db, {
    actorId: user.id,
    action: 'auth.login',
    targetType: 'user',
    targetId: user.id,
    ip: meta.ip,
    meta: { method, ...auditMeta },
  });
  return { ...tokens, user: toUserDto(user) };
}

/** Rotates a refresh token. A token that was already rotated ends its whole session (theft detection). */
export async function refreshTokens(deps: AuthDeps, refresh: string, meta: RequestMeta) {
  const row = await refreshTokenWithSession(deps.db, sha256Hex(refresh));
  const invalid = new AppError('invalid_token', 'The refresh token is invalid or has expired. Log in again.');
  if (!row || row.revoked_at || row.expires_at <= new Date() || !row.is_active) throw invalid;

  const reused = async () => {
    await markRevoked(deps, row.user_id, row.session_id);
    await revokeSessions(deps.db, { sessionId: row.session_id }, 'refresh_reuse');
    await audit(deps.db, {
      actorId: row.user_id,
      action: 'auth.refresh_reuse',
      targetType: 'session',
      targetId: row.session_id,
      ip: meta.ip,
    });
    deps.log.warn({ sessionId: row.session_id }, 'refresh token reused: session revoked');
    return new AppError(
      'token_reused',
      'This refresh token was already used; the session has been ended. Log in again.',
    );
  };
  if (row.rotated_at) throw await reused();

  const next = randomToken(32);
  const rotated = await deps.db.transaction().execute(async (trx) => {
    const done = await trx
      .updateTable('refresh_tokens')
      .set({ rotated_at: new Date() })
      .where('id', '=', row.id)
      .where('rotated_at', 'is', null)
      .returning('id')
      .executeTakeFirst();
    if (!done) return false;
    await trx
      .insertInto('refresh_tokens')
      .values({ session_id: row.session_id, token_hash: sha256Hex(next), rotated_from: row.id })
      .execute();
    await trx
      .updateTable('sessions')
      .set({ last_used_at: new Date(), ip: meta.ip, user_agent: meta.userAgent?.slice(0, 300) ?? null })
      .where('id', '=', row.session_id)
      .execute();
    return true;
  });
  if (!rotated) throw await reused();
  const access = await issueAccessToken(deps.keys.jwt, {
    sub: row.user_id,
    sid: row.session_id,
    role: row.role,
    mth: row.method,
  });
  return { access, refresh: next };
}

/** Ends a session: by the caller's own session, or by a refresh token presented in the body. */
/** Ends a session: by the caller's own session, or by a refresh token presented in the body. */
export async function logout(
  deps: AuthDeps,
  by: { session?: Pick<AuthUser, 'id' | 'sessionId'> | null | undefined; refresh?: string | undefined },
  meta: RequestMeta,
) {
  let session = by.session ? { userId: by.session.id, sessionId: by.session.sessionId } : undefined;
  if (!session && by.refresh) {
    const row = await refreshTokenWithSession(deps.db, sha256Hex(by.refresh));
    if (row) session = { userId: row.user_id, sessionId: row.session_id };
  }
  if (!session) throw new AppError('unauthorized', 'Send your access token or your refresh token to log out.');
  await markRevoked(deps, session.userId, session.sessionId);
  const revoked = await revokeSessions(deps.db, { sessionId: session.sessionId }, 'logout');
  if (revoked.length > 0) {
    await audit(deps.db, {
      actorId: null,
      action: 'auth.logout',
      targetType: 'session',
      targetId: session.sessionId,
      ip: meta.ip,
    });
  }
  return { detail: 'Logged out.' };
}

export async function listSessions(deps: Pick<AppDeps, 'db'>, user: AuthUser): Promise<SessionDto[]> {
  const rows = await deps.db
    .selectFrom('sessions')
    .select(['id', 'created_at', 'last_used_at', 'expires_at', 'user_agent', 'ip', 'method'])
    .where('user_id', '=', user.id)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', new Date())
    .orderBy('last_used_at', 'desc')
    .limit(100)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    created_at: iso(r.created_at),
    last_used_at: iso(r.last_used_at),
    expires_at: iso(r.expires_at),
    user_agent: r.user_agent,
    ip: r.ip,
    method: r.method,
    current: r.id === user.sessionId,
  }));
}

export async function revokeOwnSession(deps: Pick<AppDeps, 'db' | 'sessionCache'>, user: AuthUser, sessionId: string) {
  // Marking first is safe: the entry is keyed under this user, so another user's session id marks nothing of theirs.
  await markRevoked(deps, user.id, sessionId);
  const revoked = await deps.db
    .updateTable('sessions')
    .set({ revoked_at: new Date(), revoked_reason: 'revoked_by_user' })
    .where('id', '=', sessionId)
    .where('user_id', '=', user.id)
    .where('revoked_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  if (!revoked) throw new AppError('not_found', 'No such open session.');
  await audit(deps.db, {
    actorId: user.id,
    action: 'auth.session_revoked',
    targetType: 'session',
    targetId: sessionId,
  });
  return { detail: 'Session ended.' };
}

/** Ends every session of a user at once (cache first, then the database); returns how many were open. */
export async function revokeUserSessions(deps: AccessChangeDeps, userId: string, reason: string): Promise<number> {
  const revoked = await restrictAccess(deps, userId, 'revoked', () => revokeSessions(deps.db, { userId }, reason));
  return revoked.length;
}

/** Blocks or unblocks a user; blocking ends every session at once. */
export async function setUserActive(deps: AccessChangeDeps, actorId: string | null, userId: string, active: boolean) {
  const update = () =>
    deps.db
      .updateTable('users')
      .set({ is_active: active, updated_at: new Date() })
      .where('id', '=', userId)
      .returningAll()
      .executeTakeFirst();
  const user = active
    ? await update()
    : await restrictAccess(deps, userId, 'revoked', async () => {
        const blocked = await update();
        if (blocked) await revokeSessions(deps.db, { userId }, 'user_blocked');
        return blocked;
      });
  if (!user) throw new AppError('not_found', 'No such user.');
  await audit(deps.db, {
    actorId,
    action: active ? 'user.unblocked' : 'user.blocked',
    targetType: 'user',
    targetId: userId,
  });
  return toUserDto(user);
}
