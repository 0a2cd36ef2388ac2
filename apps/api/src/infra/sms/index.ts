import type { Config } from '../../env.js';
import type { Logger } from '../logger.js';
import { consoleSms } from './console.js';
import { twilioSms } from './twilio.js';
import { webhookSms } from './webhook.js';

export interface SmsMessage {
  /** E.164 number. */
  to: string;
  body: string;
}

/** One SMS provider. Adding another is one new file and one line below. */
export interface SmsProvider {
  readonly name: string;
  send(message: SmsMessage): Promise<void>;
}

export class SmsDeliveryError extends Error {
  override name = 'SmsDeliveryError';
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

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
    default:
      return consoleSms(log);
  }
}
