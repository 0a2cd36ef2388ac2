import type { Db, User } from '@tagdrop/db';
import { sql } from 'kysely';
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

/**
 * Closes an open code that was just entered right, marking it as the one that signed the address in (one
 * statement: closed and verified together). From then on every sign-in link of the address created until now is dead.
 * True when this call closed it.
 */
export async function closeVerifiedChallenge(db: Db, challengeId: string): Promise<boolean> {
  const closed = await db
    .updateTable('otp_challenges')
    .set({ consumed_at: sql<Date>`now()`, verified_at: sql<Date>`now()` })
    .where('id', '=', challengeId)
    .where('consumed_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return closed !== undefined;
}

/**
 * Whether the sign-in link of challenge `c` still works (otp-link.ts): asked for less than `windowSeconds` ago (by
 * the database's clock, as `created_at`), not used, and no challenge of the same address signed it in since `c` was
 * asked for (an index probe on otp_challenges_verified_idx). The code's own state (expired, replaced, burned) does not
 * matter.
 */
const linkAlive = (windowSeconds: number) => sql<boolean>`c.verified_at is null
  and c.created_at > now() - ${windowSeconds}::int * interval '1 second'
  and not exists (
    select 1 from otp_challenges v where v.destination = c.destination and v.verified_at >= c.created_at
  )`;

/**
 * Uses a sign-in link: marks its challenge verified (and closed) if its link is alive; its channel and address when
 * this call did. One statement, so concurrent uses of one link sign in at most once (the second waits for the
 * first's row lock, then finds `verified_at` set).
 */
export function takeLinkChallenge(db: Db, challengeId: string, windowSeconds: number) {
  return db
    .updateTable('otp_challenges as c')
    .set({ consumed_at: sql<Date>`coalesce(c.consumed_at, now())`, verified_at: sql<Date>`now()` })
    .where('c.id', '=', challengeId)
    .where(linkAlive(windowSeconds))
    .returning(['c.channel', 'c.destination'])
    .executeTakeFirst();
}

/** A challenge whose sign-in link is alive, and whether its code is still open too; undefined when the link is dead. */
export async function liveLinkChallenge(db: Db, challengeId: string, windowSeconds: number) {
  const row = await db
    .selectFrom('otp_challenges as c')
    .select(['c.consumed_at', 'c.expires_at'])
    .where('c.id', '=', challengeId)
    .where(linkAlive(windowSeconds))
    .executeTakeFirst();
  return row && { codeOpen: row.consumed_at === null && row.expires_at > new Date() };
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
