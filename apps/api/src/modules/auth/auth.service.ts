import { randomInt, randomUUID } from 'node:crypto';
import type { SessionDto, UserDto, VerifyOtpOutput } from '@tagdrop/contracts';
import type { User } from '@tagdrop/db';
import type { AppDeps } from '../../deps.js';
import { AppError } from '../../errors.js';
import { audit } from '../../infra/audit.js';
import { hmacHex, randomToken, safeEqualHex, seal, sha256Hex } from '../../infra/secrets.js';
import {
  findUserByIdentifier,
  latestOpenChallenge,
  refreshTokenWithSession,
  revokeSessions,
  sessionWithUser,
} from './auth.queries.js';
import { normalizeIdentifier } from './identifier.js';
import { issueAccessToken, verifyAccessToken } from './tokens.js';

export const OTP_MAX_ATTEMPTS = 5;
export const REFRESH_TTL_DAYS = 30;
export const OTP_SENT_DETAIL = 'If that address can sign in, a code is on its way.';

export type AuthDeps = Pick<AppDeps, 'config' | 'db' | 'keys' | 'jobs' | 'limiters' | 'log'>;

export interface RequestMeta {
  ip: string;
  userAgent?: string | undefined;
}

/** The caller as every protected route sees it. */
export interface AuthUser {
  id: string;
  role: 'user' | 'admin';
  email: string | null;
  phone: string | null;
  sessionId: string;
}

const iso = (d: Date) => d.toISOString();

export function toUserDto(
  u: Pick<User, 'id' | 'email' | 'phone' | 'role' | 'is_active' | 'created_at' | 'last_login_at'>,
): UserDto {
  return {
    id: u.id,
    email: u.email,
    phone: u.phone,
    role: u.role,
    is_active: u.is_active,
    created_at: iso(u.created_at),
    last_login_at: u.last_login_at ? iso(u.last_login_at) : null,
  };
}

const codeHash = (deps: AuthDeps, challengeId: string, code: string) =>
  hmacHex(deps.keys.otp, `${challengeId}:${code}`);

/**
 * Starts a login: answers the same for known and unknown people; a code is created and sent only
 * when the person may sign in (existing and active, or new while sign-up is open).
 */
export async function requestOtp(
  deps: AuthDeps,
  input: { email?: string; phone?: string },
  meta: RequestMeta,
): Promise<{ detail: string }> {
  const id = normalizeIdentifier(input, deps.config.DEFAULT_PHONE_REGION);
  await deps.limiters.otpPerIp.consume(meta.ip);
  await deps.limiters.otpPerIdentifier.consume(id.value);

  const user = await findUserByIdentifier(deps.db, id);
  const mayLogin = user ? user.is_active : deps.config.ALLOW_SIGNUP;
  if (!mayLogin) {
    deps.log.info({ channel: id.channel, known: Boolean(user) }, 'otp requested for someone who may not sign in');
    return { detail: OTP_SENT_DETAIL };
  }

  const challengeId = randomUUID();
  const code = randomInt(0, 1_000_000).toString().padStart(6, '0');
  const ttl = deps.config.OTP_TTL_SECONDS;
  await deps.db.transaction().execute(async (trx) => {
    // A new request replaces any earlier open code for the same address.
    await trx
      .updateTable('otp_challenges')
      .set({ consumed_at: new Date() })
      .where('destination', '=', id.value)
      .where('consumed_at', 'is', null)
      .execute();
    await trx
      .insertInto('otp_challenges')
      .values({
        id: challengeId,
        channel: id.channel,
        destination: id.value,
        code_hash: codeHash(deps, challengeId, code),
        expires_at: new Date(Date.now() + ttl * 1000),
        ip: meta.ip,
      })
      .execute();
  });
  await deps.jobs.enqueue('send-otp', {
    challengeId,
    channel: id.channel,
    destination: id.value,
    sealedCode: seal(deps.keys.jobs, code),
    ttlSeconds: ttl,
  });
  return { detail: OTP_SENT_DETAIL };
}

const invalidOtp = () =>
  new AppError('invalid_otp', 'That code is wrong, used or expired. Check it or request a new one.', {
    fields: { otp: ['Invalid code'] },
  });

/** Exchanges a valid code for tokens; the code works once, and 5 wrong tries burn it. */
export async function verifyOtp(
  deps: AuthDeps,
  input: { email?: string; phone?: string; otp: string },
  meta: RequestMeta,
): Promise<VerifyOtpOutput> {
  const id = normalizeIdentifier(input, deps.config.DEFAULT_PHONE_REGION);
  // Keyed on address and IP: a stranger's wrong guesses cannot lock the owner out. Guessing stays bounded by the
  // 5 tries per code and the code requests per address.
  const failKey = `${id.value}|${meta.ip}`;
  await deps.limiters.verifyFailPerIdentifier.check(failKey);
  await deps.limiters.verifyFailPerIp.check(meta.ip);

  const fail = async () => {
    await deps.limiters.verifyFailPerIdentifier.consume(failKey).catch(() => {});
    await deps.limiters.verifyFailPerIp.consume(meta.ip).catch(() => {});
    return invalidOtp();
  };

  const challenge = await latestOpenChallenge(deps.db, id.value);
  if (!challenge) throw await fail();

  // Take one attempt atomically: concurrent guesses cannot exceed the limit.
  const taken = await deps.db
    .updateTable('otp_challenges')
    .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
    .where('id', '=', challenge.id)
    .where('consumed_at', 'is', null)
    .where('attempts', '<', OTP_MAX_ATTEMPTS)
    .where('expires_at', '>', new Date())
    .returning('attempts')
    .executeTakeFirst();
  if (!taken) throw await fail();

  if (!safeEqualHex(codeHash(deps, challenge.id, input.otp), challenge.code_hash)) {
    if (taken.attempts >= OTP_MAX_ATTEMPTS) {
      await deps.db
        .updateTable('otp_challenges')
        .set({ consumed_at: new Date() })
        .where('id', '=', challenge.id)
        .execute();
    }
    throw await fail();
  }

  const consumed = await deps.db
    .updateTable('otp_challenges')
    .set({ consumed_at: new Date() })
    .where('id', '=', challenge.id)
    .where('consumed_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  if (!consumed) throw await fail();

  const user = await findOrCreateUser(deps, id.field, id.value);
  if (!user) throw invalidOtp();
  if (!user.is_active) throw new AppError('account_blocked', 'This account is blocked. Contact the administrator.');

  await deps.limiters.verifyFailPerIdentifier.reset(failKey).catch(() => {});
  const loggedIn = await deps.db
    .updateTable('users')
    .set({ last_login_at: new Date() })
    .where('id', '=', user.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  const tokens = await createSession(deps, loggedIn, meta);
  await audit(deps.db, {
    actorId: user.id,
    action: 'auth.login',
    targetType: 'user',
    targetId: user.id,
    ip: meta.ip,
    meta: { channel: id.channel },
  });
  return { ...tokens, user: toUserDto(loggedIn) };
}

async function findOrCreateUser(deps: AuthDeps, field: 'email' | 'phone', value: string): Promise<User | undefined> {
  const existing = await deps.db.selectFrom('users').selectAll().where(field, '=', value).executeTakeFirst();
  if (existing || !deps.config.ALLOW_SIGNUP) return existing;
  const created = await deps.db
    .insertInto('users')
    .values({ [field]: value })
    .onConflict((oc) => oc.column(field).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (created) {
    await audit(deps.db, { actorId: created.id, action: 'user.signup', targetType: 'user', targetId: created.id });
    return created;
  }
  return deps.db.selectFrom('users').selectAll().where(field, '=', value).executeTakeFirst();
}

async function createSession(deps: AuthDeps, user: Pick<User, 'id' | 'role'>, meta: RequestMeta) {
  const refresh = randomToken(32);
  const session = await deps.db.transaction().execute(async (trx) => {
    const s = await trx
      .insertInto('sessions')
      .values({
        user_id: user.id,
        expires_at: new Date(Date.now() + REFRESH_TTL_DAYS * 86_400_000),
        user_agent: meta.userAgent?.slice(0, 300) ?? null,
        ip: meta.ip,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('refresh_tokens')
      .values({ session_id: s.id, token_hash: sha256Hex(refresh) })
      .execute();
    return s;
  });
  const access = await issueAccessToken(deps.keys.jwt, { sub: user.id, sid: session.id, role: user.role });
  return { access, refresh };
}

/** Rotates a refresh token. A token that was already rotated ends its whole session (theft detection). */
export async function refreshTokens(deps: AuthDeps, refresh: string, meta: RequestMeta) {
  const row = await refreshTokenWithSession(deps.db, sha256Hex(refresh));
  const invalid = new AppError('invalid_token', 'The refresh token is invalid or has expired. Log in again.');
  if (!row || row.revoked_at || row.expires_at <= new Date() || !row.is_active) throw invalid;

  const reused = async () => {
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
  const access = await issueAccessToken(deps.keys.jwt, { sub: row.user_id, sid: row.session_id, role: row.role });
  return { access, refresh: next };
}

/** Resolves a Bearer token to its user; the session must still be open and the user active. */
export async function authenticate(deps: Pick<AppDeps, 'db' | 'keys'>, token: string): Promise<AuthUser> {
  const claims = await verifyAccessToken(deps.keys.jwt, token);
  const row = await sessionWithUser(deps.db, claims.sid);
  if (!row || row.id !== claims.sub || row.revoked_at || row.expires_at <= new Date()) {
    throw new AppError('invalid_token', 'This session has ended. Log in again.');
  }
  if (!row.is_active) throw new AppError('account_blocked', 'This account is blocked. Contact the administrator.');
  return { id: row.id, role: row.role, email: row.email, phone: row.phone, sessionId: row.session_id };
}

export async function getMe(deps: Pick<AppDeps, 'db'>, userId: string): Promise<UserDto> {
  const user = await deps.db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
  if (!user) throw new AppError('not_found', 'No such user.');
  return toUserDto(user);
}

/** Ends a session: by the caller's own session, or by a refresh token presented in the body. */
export async function logout(deps: AuthDeps, by: { sessionId?: string; refresh?: string }, meta: RequestMeta) {
  let sessionId = by.sessionId;
  if (!sessionId && by.refresh) {
    const row = await refreshTokenWithSession(deps.db, sha256Hex(by.refresh));
    sessionId = row?.session_id;
  }
  if (!sessionId) throw new AppError('unauthorized', 'Send your access token or your refresh token to log out.');
  const revoked = await revokeSessions(deps.db, { sessionId }, 'logout');
  if (revoked.length > 0) {
    await audit(deps.db, {
      actorId: null,
      action: 'auth.logout',
      targetType: 'session',
      targetId: sessionId,
      ip: meta.ip,
    });
  }
  return { detail: 'Logged out.' };
}

export async function listSessions(deps: Pick<AppDeps, 'db'>, user: AuthUser): Promise<SessionDto[]> {
  const rows = await deps.db
    .selectFrom('sessions')
    .select(['id', 'created_at', 'last_used_at', 'expires_at', 'user_agent', 'ip'])
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
    current: r.id === user.sessionId,
  }));
}

export async function revokeOwnSession(deps: Pick<AppDeps, 'db'>, user: AuthUser, sessionId: string) {
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

/** Blocks or unblocks a user; blocking ends every session at once. */
export async function setUserActive(
  deps: Pick<AppDeps, 'db'>,
  actorId: string | null,
  userId: string,
  active: boolean,
) {
  const user = await deps.db
    .updateTable('users')
    .set({ is_active: active, updated_at: new Date() })
    .where('id', '=', userId)
    .returningAll()
    .executeTakeFirst();
  if (!user) throw new AppError('not_found', 'No such user.');
  if (!active) await revokeSessions(deps.db, { userId }, 'user_blocked');
  await audit(deps.db, {
    actorId,
    action: active ? 'user.unblocked' : 'user.blocked',
    targetType: 'user',
    targetId: userId,
  });
  return toUserDto(user);
}
