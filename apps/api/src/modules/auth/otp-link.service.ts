/**
 * Signing in with the link of a code message (README "Security notes"): proof of the mailbox or phone that needs no
 * guess, so it spends none of the per-address budgets a stranger can exhaust, and it outlives the code it came with
 * (otp-link.ts): it works once, for the per-address request window from its code's request, until the address signs
 * in. Whatever a stranger spends or closes, the owner holds a working link from each message of that window. Bad
 * links are limited per IP only.
 */
import type { VerifyOtpOutput } from '@tagdrop/contracts';
import { AppError } from '../../errors.js';
import { PointsTaken } from '../../infra/rate-limit.js';
import { takeLinkChallenge } from './auth.queries.js';
import type { AuthDeps, RequestMeta } from './auth.types.js';
import { finishCodeLogin } from './otp.service.js';
import { challengeIdOfToken, OTP_LINK_SECONDS } from './otp-link.js';

/** One answer for every bad link: wrong, tampered, used, outlived by a sign-in, or past its window. */
export const invalidLink = () =>
  new AppError('invalid_link', 'That sign-in link is invalid, used or expired. Request a new code.');

/**
 * Exchanges a sign-in link's token for tokens. Checked and marked in one statement (its challenge becomes the one
 * that signed the address in), so concurrent uses of one link sign in at most once; every other link of the address
 * asked for until now dies with it, and every open code closes.
 */
export async function verifyOtpLink(
  deps: AuthDeps,
  input: { token: string },
  meta: RequestMeta,
): Promise<VerifyOtpOutput> {
  // Paid before it is looked at (concurrent tries cannot slip past a check); given back when the link is good.
  const points = new PointsTaken();
  await points.take(deps.limiters.linkFailPerIp, meta.ip);
  let row: Awaited<ReturnType<typeof takeLinkChallenge>>;
  try {
    const challengeId = challengeIdOfToken(deps.keys.otpLink, input.token);
    row = challengeId ? await takeLinkChallenge(deps.db, challengeId, OTP_LINK_SECONDS) : undefined;
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
