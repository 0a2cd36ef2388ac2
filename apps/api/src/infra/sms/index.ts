import type { Config } from '../../env.js';
import type { Logger } from '../logger.js';
import { consoleSms } from './console.js';
import { noSms } from './none.js';
import { twilioSms } from './twilio.js';
import type { SmsProvider } from './types.js';
import { webhookSms } from './webhook.js';

/** Picks the provider SMS_PROVIDER names. */
export function createSmsProvider(config: Config, log: Logger): SmsProvider {
  switch (config.SMS_PROVIDER) {
    case 'webhook':
      return webhookSms(config.SMS_WEBHOOK_URL as string);
    case 'twilio':
      return twilioSms({
        apiUrl: config.TWILIO_API_URL,
        accountSid: config.TWILIO_ACCOUNT_SID as string,
        authToken: config.TWILIO_AUTH_TOKEN as string,
        from: config.TWILIO_FROM as string,
      });
    case 'none':
      return noSms();
    default:
      // Texts (and their codes) reach the log only in development.
      return consoleSms(log, { showBody: config.NODE_ENV === 'development' });
  }
}
