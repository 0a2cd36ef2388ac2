import { z } from 'zod';
import { unseal } from '../infra/secrets.js';
import { SmsDeliveryError } from '../infra/sms/types.js';
import { closeChallenge, findUserByIdentifier, liveLinkChallenge } from '../modules/auth/auth.queries.js';
import { OTP_LINK_SECONDS, otpLinkUrl, signOtpLinkToken } from '../modules/auth/otp-link.js';
import { defineJob } from './types.js';

export const sendOtpPayload = z.object({
  challengeId: z.uuid(),
  channel: z.enum(['email', 'sms']),
  destination: z.string(),
  /** The code sealed with a key derived from SECRET_KEY: never stored in clear. */
  sealedCode: z.string(),
  ttlSeconds: z.number().int().positive(),
});

/** A lifetime in words, never promising more time than there is: 30 s is "30 seconds", 90 s "1 minute 30 seconds". */
function duration(totalSeconds: number) {
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = totalSeconds % 60;
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return [minutes > 0 ? unit(minutes, 'minute') : '', seconds > 0 ? unit(seconds, 'second') : '']
    .filter(Boolean)
    .join(' ');
}

/**
 * The code message: the code, and the sign-in link (no typing, no guess budget) that outlives it (otp-link.ts). When
 * the code is already closed at delivery (replaced or burned from the IP that asked, or expired), the message carries
 * only the link, which still works.
 */
export function otpMessage(code: string | null, ttlSeconds: number, link: string, linkSeconds: number) {
  const validity = duration(ttlSeconds);
  const linkValidity = duration(linkSeconds);
  if (code === null) {
    return {
      subject: 'Your Tagdrop sign-in link',
      text:
        `Sign in to Tagdrop with this link:\n${link}\n\n` +
        `It works once, for ${linkValidity} from your request, or until you sign in.\n` +
        `If you did not ask for it, ignore this message: nobody can sign in without it.\n`,
      sms: `Tagdrop sign-in link: ${link} Valid ${linkValidity}. Don't share.`,
    };
  }
  return {
    subject: `Your Tagdrop login code: ${code}`,
    text:
      `Your Tagdrop login code is ${code}\n\n` +
      `Enter it on the login page, or sign in with this link:\n${link}\n\n` +
      `The code works once and expires in ${validity}. ` +
      `The link works once, for ${linkValidity} from your request, or until you sign in.\n` +
      `If you did not ask for them, ignore this message: nobody can sign in without the code or the link.\n`,
    // One SMS (160 characters) with a PUBLIC_URL of up to ~30 characters. The link outlives the code (OTP_TTL_SECONDS
    // is at most 10 minutes), so the code's validity is never more than the link's.
    sms: `Tagdrop login code: ${code}. Valid ${validity}. Sign in: ${link} Don't share.`,
  };
}

/**
 * Decides whether a login code may be delivered (the person exists and is active, or is new while sign-up is open)
 * and delivers it by email or SMS; retried with backoff. Delivered while its sign-in link works, even when the code
 * itself was closed meanwhile (then the message carries only the link): a stranger who replaces or burns the codes
 * they asked for cannot stop the owner receiving working links. Skipped once the link is dead (the address signed in
 * since, or the window is over). A code that may not be delivered is closed at once. (The request path is the same
 * for everyone, so timing reveals nothing.)
 */
export const sendOtpJob = defineJob({
  name: 'send-otp',
  schema: sendOtpPayload,
  options: { concurrency: 5, lockLifetime: 60_000, retries: { max: 4, delayMs: 2_000 }, removeOnComplete: true },
  async handler(data, deps) {
    const live = await liveLinkChallenge(deps.db, data.challengeId, OTP_LINK_SECONDS);
    if (!live) {
      deps.log.info({ challengeId: data.challengeId }, 'send-otp: link no longer valid, not sent');
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
    const message = otpMessage(live.codeOpen ? code : null, data.ttlSeconds, link, OTP_LINK_SECONDS);
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
    deps.log.info(
      { challengeId: data.challengeId, channel: data.channel, withCode: live.codeOpen },
      'send-otp: delivered',
    );
  },
});
