/**
 * Signing in with the link of a code message (README "Security notes"): proof of the mailbox or phone that needs no
 * guess, so it spends none of the per-address budgets a stranger can exhaust. Bad links are limited per IP only.
 */
import type { VerifyOtpOutput } from '@tagdrop/contracts';
import { AppError } from '../../errors.js';
import { PointsTaken } from '../../infra/rate-limit.js';
import { takeOpenChallenge } from './auth.queries.js';
import type { AuthDeps, RequestMeta } from './auth.types.js';
import { finishCodeLogin } from './otp.service.js';
import { challengeIdOfToken } from './otp-link.js';

/** One answer for every bad link: wrong, tampered, used, replaced, burned or expired. */
export const invalidLink = () =>
  new AppError('invalid_link', 'That sign-in link is invalid, used or expired. Request a new code.');

/** Exchanges a sign-in link's token for tokens: works once, while its code is open; the code then closes too. */
export async function verifyOtpLink(
  deps: AuthDeps,
  input: { token: string },
  meta: RequestMeta,
): Promise<VerifyOtpOutput> {
  // Paid before it is looked at (concurrent tries cannot slip past a check); given back when the link is good.
  const points = new PointsTaken();
  await points.take(deps.limiters.linkFailPerIp, meta.ip);
  let row: Awaited<ReturnType<typeof takeOpenChallenge>>;
  try {
    const challengeId = challengeIdOfToken(deps.keys.otpLink, input.token);
    row = challengeId ? await takeOpenChallenge(deps.db, challengeId) : undefined;
  } catch (err) {
    await points.giveBack();
    throw err;
  }
  if (!row || (row.channel === 'sms' && deps.config.SMS_PROVIDER === 'none')) throw invalidLink();
  await points.giveBack();
  const id = {
    field: row.channel === 'email' ? 'email' : 'phone',
    channel: row.channel,
    value: row.destination,
  } as const;
  return finishCodeLogin(deps, id, meta, invalidLink);
}
