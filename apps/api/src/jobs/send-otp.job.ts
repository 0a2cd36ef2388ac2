import { z } from 'zod';
import { unseal } from '../infra/secrets.js';
import { SmsDeliveryError } from '../infra/sms/types.js';
import { closeChallenge, findUserByIdentifier } from '../modules/auth/auth.queries.js';
import { otpLinkUrl, signOtpLinkToken } from '../modules/auth/otp-link.js';
import { defineJob } from './types.js';

export const sendOtpPayload = z.object({
  challengeId: z.uuid(),
  channel: z.enum(['email', 'sms']),
  destination: z.string(),
  /** The code sealed with a key derived from SECRET_KEY: never stored in clear. */
  sealedCode: z.string(),
  ttlSeconds: z.number().int().positive(),
});

/** The code message: the code, and the sign-in link that works as long as the code (no typing, no guess budget). */
export function otpMessage(code: string, ttlSeconds: number, link: string) {
  // Never promise more time than there is: 30 s is "30 seconds", 90 s is "1 minute 30 seconds".
  const minutes = Math.floor(ttlSeconds / 60);
  const seconds = ttlSeconds % 60;
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const validity = [minutes > 0 ? unit(minutes, 'minute') : '', seconds > 0 ? unit(seconds, 'second') : '']
    .filter(Boolean)
    .join(' ');
  return {
    subject: `Your Tagdrop login code: ${code}`,
    text:
      `Your Tagdrop login code is ${code}\n\n` +
      `Enter it on the login page, or sign in with this link:\n${link}\n\n` +
      `The code and the link work once and expire in ${validity}.\n` +
      `If you did not ask for them, ignore this message: nobody can sign in without the code or the link.\n`,
    // One SMS (160 characters) with a PUBLIC_URL of up to ~30 characters.
    sms: `Tagdrop login code: ${code}. Valid ${validity}. Sign in: ${link} Don't share.`,
  };
}

/**
 * Decides whether a login code may be delivered (the person exists and is active, or is new while sign-up is open)
 * and delivers it by email or SMS; retried with backoff, skipped when the code is no longer open. A code that may not
 * be delivered is closed at once. (The request path is the same for everyone, so timing reveals nothing.)
 */
export const sendOtpJob = defineJob({
  name: 'send-otp',
  schema: sendOtpPayload,
  options: { concurrency: 5, lockLifetime: 60_000, retries: { max: 4, delayMs: 2_000 }, removeOnComplete: true },
  async handler(data, deps) {
    const open = await deps.db
      .selectFrom('otp_challenges')
      .select('id')
      .where('id', '=', data.challengeId)
      .where('consumed_at', 'is', null)
      .where('expires_at', '>', new Date())
      .executeTakeFirst();
    if (!open) {
      deps.log.info({ challengeId: data.challengeId }, 'send-otp: code no longer open, not sent');
      return;
    }
    const user = await findUserByIdentifier(deps.db, {
      field: data.channel === 'email' ? 'email' : 'phone',
      channel: data.channel,
      value: data.destination,
    });
    const mayLogin = user ? user.is_active : deps.config.ALLOW_SIGNUP;
    if (!mayLogin) {
      await closeChallenge(deps.db, data.challengeId);
      deps.log.info({ challengeId: data.challengeId, known: Boolean(user) }, 'send-otp: may not sign in, not sent');
      return;
    }
    const code = unseal(deps.keys.jobs, data.sealedCode);
    const link = otpLinkUrl(deps.baseUrl, signOtpLinkToken(deps.keys.otpLink, data.challengeId));
    const message = otpMessage(code, data.ttlSeconds, link);
    if (data.channel === 'email') {
      await deps.mailer.send({ to: data.destination, subject: message.subject, text: message.text });
    } else {
      try {
        await deps.sms.send({ to: data.destination, body: message.sms });
      } catch (err) {
        if (err instanceof SmsDeliveryError && !err.retryable) {
          deps.log.error({ err: err.message, challengeId: data.challengeId }, 'send-otp: SMS refused, not retried');
          return;
        }
        throw err;
      }
    }
    deps.log.info({ challengeId: data.challengeId, channel: data.channel }, 'send-otp: delivered');
  },
});
