import type { Db, User } from '@tagdrop/db';
import type { Identifier } from './identifier.js';

export function findUserByIdentifier(db: Db, id: Identifier): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where(id.field, '=', id.value).executeTakeFirst();
}

export function latestOpenChallenge(db: Db, destination: string) {
  return db
    .selectFrom('otp_challenges')
    .selectAll()
    .where('destination', '=', destination)
    .where('consumed_at', 'is', null)
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** The session of an access token with its user, for per-request checks. */
export function sessionWithUser(db: Db, sessionId: string) {
  return db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([
      'sessions.id as session_id',
      'sessions.revoked_at',
      'sessions.expires_at',
      'users.id',
      'users.email',
      'users.phone',
      'users.role',
      'users.is_active',
      'users.created_at',
      'users.last_login_at',
    ])
    .where('sessions.id', '=', sessionId)
    .executeTakeFirst();
}

export function refreshTokenWithSession(db: Db, tokenHash: string) {
  return db
    .selectFrom('refresh_tokens')
    .innerJoin('sessions', 'sessions.id', 'refresh_tokens.session_id')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([
      'refresh_tokens.id',
      'refresh_tokens.rotated_at',
      'sessions.id as session_id',
      'sessions.revoked_at',
      'sessions.expires_at',
      'users.id as user_id',
      'users.role',
      'users.is_active',
    ])
    .where('refresh_tokens.token_hash', '=', tokenHash)
    .executeTakeFirst();
}

export function revokeSessions(db: Db, where: { sessionId?: string; userId?: string }, reason: string) {
  let q = db
    .updateTable('sessions')
    .set({ revoked_at: new Date(), revoked_reason: reason })
    .where('revoked_at', 'is', null);
  if (where.sessionId) q = q.where('id', '=', where.sessionId);
  if (where.userId) q = q.where('user_id', '=', where.userId);
  return q.returning('id').execute();
}
