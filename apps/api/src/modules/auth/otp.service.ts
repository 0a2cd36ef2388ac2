/**
 * One-time-code login. The limits are keyed so that a stranger cannot lock anyone out (README "Security notes"):
 * - every request makes a fresh code; it replaces only the earlier open code asked for from the same IP;
 * - a guess is compared with exactly one code: the newest one asked for from the guessing IP, else the newest one of
 *   the address; only guesses from the IP that asked for a code count towards its 5 attempts (strangers cannot burn
 *   it);
 * - wrong guesses are limited per address+IP, per IP and, for IPs the account has never used, per address across
 *   all IPs (so guessing from many IPs stays bounded while the owner's own network is never blocked by it); each
 *   guess takes its points before it is compared, so concurrent guesses cannot exceed those budgets;
 * - every code message also carries a sign-in link (otp-link.ts) that needs no guess and spends no per-address
 *   budget, and works for the whole per-address request window whatever happens to its code: whoever reads the
 *   mailbox (or phone) can sign in from any IP, whatever a stranger spent or closed;
 * - the challenge that signs the address in (by code or link) is marked verified, which ends every link of the
 *   address asked for until then.
 * Requests take the same path whoever asks: who may sign in is decided by the send-otp job.
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { VerifyOtpOutput } from '@tagdrop/contracts';
import type { User } from '@tagdrop/db';
import { AppError } from '../../errors.js';
import { audit } from '../../infra/audit.js';
import { PointsTaken } from '../../infra/rate-limit.js';
import { hmacHex, safeEqualHex, seal } from '../../infra/secrets.js';
import { closeChallenge, closeVerifiedChallenge, isRecognisedIp, openChallenges } from './auth.queries.js';
import type { AuthDeps, RequestMeta } from './auth.types.js';
import { type Identifier, normalizeIdentifier } from './identifier.js';
import { accountBlocked } from './session-access.js';
import { completeLogin } from './sessions.service.js';

export const OTP_MAX_ATTEMPTS = 5;
export const OTP_SENT_DETAIL = 'If that address can sign in, a code is on its way.';
/** Open codes of one address looked at per verification (the guess is compared with one of them). */
const OPEN_CHALLENGES_READ = 50;

export const otpCodeHash = (deps: Pick<AuthDeps, 'keys'>, challengeId: string, code: string) =>
  hmacHex(deps.keys.otp, `${challengeId}:${code}`);

function identify(deps: AuthDeps, input: { email?: string; phone?: string }): Identifier {
  const id = normalizeIdentifier(input, deps.config.DEFAULT_PHONE_REGION);
  if (id.channel === 'sms' && deps.config.SMS_PROVIDER === 'none') {
    throw new AppError('phone_login_disabled', 'Logging in by phone is turned off here. Use your email address.', {
      fields: { phone: ['Phone login is turned off'] },
    });
  }
  return id;
}

/**
 * Starts a login. Every request (known, unknown or blocked person, sign-up open or closed) runs the same limits, the
 * same queries and the same job enqueue; the send-otp job decides whether the code is delivered.
 */
export async function requestOtp(
  deps: AuthDeps,
  input: { email?: string; phone?: string },
  meta: RequestMeta,
): Promise<{ detail: string }> {
  const id = identify(deps, input);
  // The recognition query runs alongside the limits (it does not depend on them); the limits run in order so that
  // a request refused by one bucket takes nothing from the next.
  const recognisedQuery = isRecognisedIp(deps.db, id, meta.ip);
  recognisedQuery.catch(() => {}); // awaited below; never an unhandled rejection if a limit throws first
  await deps.limiters.otpPerIp.consume(meta.ip);
  await deps.limiters.otpPerAddressIp.consume(`${id.value}|${meta.ip}`);
  const recognised = await recognisedQuery;
  // Counted for everyone; only IPs the account has not used are held to the per-address ceiling.
  await deps.limiters.otpPerAddress.consume(id.value).catch((err) => {
    if (!recognised || !(err instanceof AppError && err.code === 'rate_limited')) throw err;
  });

  const challengeId = randomUUID();
  const code = randomInt(0, 1_000_000).toString().padStart(6, '0');
  const ttl = deps.config.OTP_TTL_SECONDS;
  // One statement: the new code replaces the earlier open code asked for from the same IP, not anyone else's.
  await deps.db
    .with('replaced', (db) =>
      db
        .updateTable('otp_challenges')
        .set({ consumed_at: new Date() })
        .where('destination', '=', id.value)
        .where('ip', '=', meta.ip)
        .where('consumed_at', 'is', null)
        .returning('id'),
    )
    .insertInto('otp_challenges')
    .values({
      id: challengeId,
      channel: id.channel,
      destination: id.value,
      code_hash: otpCodeHash(deps, challengeId, code),
      expires_at: new Date(Date.now() + ttl * 1000),
      ip: meta.ip,
    })
    .execute();
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

/**
 * Exchanges a valid code for tokens; the code works once, and 5 wrong tries from its own IP burn it.
 * Every guess pays before it is compared: one point from each limit that applies to it (per address+IP, per IP and,
 * from an IP the account has not used, per address), taken atomically in Redis, so concurrent guesses cannot all
 * slip past a read-only check. A refused guess takes nothing; a right code gets its points back.
 */
export async function verifyOtp(
  deps: AuthDeps,
  input: { email?: string; phone?: string; otp: string },
  meta: RequestMeta,
): Promise<VerifyOtpOutput> {
  const id = identify(deps, input);
  const { limiters } = deps;
  const addressIp = `${id.value}|${meta.ip}`;
  const recognisedQuery = isRecognisedIp(deps.db, id, meta.ip);
  recognisedQuery.catch(() => {}); // awaited below; never an unhandled rejection if a limit throws first
  const points = new PointsTaken();
  await points.take(limiters.verifyFailPerAddressIp, addressIp);
  await points.take(limiters.verifyFailPerIp, meta.ip);

  let matched: boolean;
  try {
    // Only IPs the account has not used are held to the per-address budget.
    if (!(await recognisedQuery)) await points.take(limiters.verifyFailPerAddress, id.value);
    matched = await guessMatches(deps, id, input.otp, meta.ip);
  } catch (err) {
    await points.giveBack(); // nothing was learnt (PostgreSQL or Redis away): the guess does not count
    throw err;
  }
  if (!matched) throw invalidOtp(); // the points stay spent
  await points.giveBack();

  const result = await finishCodeLogin(deps, id, meta, invalidOtp);
  await limiters.verifyFailPerAddressIp.reset(addressIp).catch(() => {});
  return result;
}

/**
 * Compares a guess with exactly one code: the newest one asked for from the guessing IP, else the newest open one of
 * the address; true when it matched and this call closed that code (single use), marking it as the one that signed in.
 */
async function guessMatches(deps: AuthDeps, id: Identifier, otp: string, ip: string): Promise<boolean> {
  const open = await openChallenges(deps.db, id.value, OPEN_CHALLENGES_READ);
  const own = open.find((c) => c.ip === ip);
  const challenge = own ?? open[0];
  if (!challenge) return false;

  if (own) {
    // Take one attempt atomically: concurrent guesses cannot exceed the limit.
    const taken = await deps.db
      .updateTable('otp_challenges')
      .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
      .where('id', '=', own.id)
      .where('consumed_at', 'is', null)
      .where('attempts', '<', OTP_MAX_ATTEMPTS)
      .where('expires_at', '>', new Date())
      .returning('attempts')
      .executeTakeFirst();
    if (!taken) return false;
    if (!safeEqualHex(otpCodeHash(deps, own.id, otp), own.code_hash)) {
      if (taken.attempts >= OTP_MAX_ATTEMPTS) await closeChallenge(deps.db, own.id);
      return false;
    }
  } else if (!safeEqualHex(otpCodeHash(deps, challenge.id, otp), challenge.code_hash)) {
    // A guess from an IP that asked for no code here never burns someone else's code.
    return false;
  }
  return closeVerifiedChallenge(deps.db, challenge.id);
}

/**
 * A code or its sign-in link was accepted (its challenge is closed and verified, so the address's earlier links are
 * dead): closes every other open code of the address (the login is done, they are moot), finds or signs up the
 * person and opens the session (method 'otp').
 */
export async function finishCodeLogin(
  deps: AuthDeps,
  id: Identifier,
  meta: RequestMeta,
  refused: () => AppError,
): Promise<VerifyOtpOutput> {
  await deps.db
    .updateTable('otp_challenges')
    .set({ consumed_at: new Date() })
    .where('destination', '=', id.value)
    .where('consumed_at', 'is', null)
    .execute();

  const user = await findOrCreateUser(deps, id.field, id.value);
  if (!user) throw refused();
  if (!user.is_active) throw accountBlocked();
  return completeLogin(deps, user.id, meta, 'otp', { channel: id.channel });
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
