import { SmsDeliveryError, type SmsProvider } from './types.js';

/** SMS_PROVIDER=none: phone login is off (requests are refused before anything is sent); sending always fails. */
export function noSms(): SmsProvider {
  return {
    name: 'none',
    async send() {
      throw new SmsDeliveryError('SMS_PROVIDER=none: phone login is turned off', false);
    },
  };
}
