import type { Db, User } from '@tagdrop/db';
import type { Identifier } from './identifier.js';

export function findUserByIdentifier(db: Db, id: Identifier): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where(id.field, '=', id.value).executeTakeFirst();
}

/** Open (unused, unexpired) codes of an address, newest first. */
export function openChallenges(db: Db, destination: string, limit: number) {
  return db
    .selectFrom('otp_challenges')
    .select(['id', 'code_hash', 'ip', 'attempts'])
    .where('destination', '=', destination)
    .where('consumed_at', 'is', null)
    .where('expires_at', '>', new Date())
    .orderBy('created_at', 'desc')
    .limit(limit)
    .execute();
}

/** Closes an open code (used, burned or undeliverable); true when this call closed it. */
export async function closeChallenge(db: Db, challengeId: string): Promise<boolean> {
  const closed = await db
    .updateTable('otp_challenges')
    .set({ consumed_at: new Date() })
    .where('id', '=', challengeId)
    .where('consumed_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return closed !== undefined;
}

/** Closes an open (unused, unexpired) code by its id; its channel and address when this call closed it. */
export function takeOpenChallenge(db: Db, challengeId: string) {
  return db
    .updateTable('otp_challenges')
    .set({ consumed_at: new Date() })
    .where('id', '=', challengeId)
    .where('consumed_at', 'is', null)
    .where('expires_at', '>', new Date())
    .returning(['channel', 'destination'])
    .executeTakeFirst();
}

/** Days during which an IP that an account's session was started or used from counts as recognised. */
export const RECOGNISED_IP_DAYS = 30;

/**
 * Whether the account of this address (if any) had a session from this IP in the last 30 days. One query with the
 * same plan whether or not the account exists (no enumeration by timing).
 */
export async function isRecognisedIp(db: Db, id: Identifier, ip: string): Promise<boolean> {
  const row = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select('sessions.id')
    .where(`users.${id.field}`, '=', id.value)
    .where('sessions.ip', '=', ip)
    .where('sessions.last_used_at', '>', new Date(Date.now() - RECOGNISED_IP_DAYS * 86_400_000))
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
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
      'sessions.method',
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
      'sessions.method',
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
