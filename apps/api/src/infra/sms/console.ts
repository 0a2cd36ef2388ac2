import type { Logger } from '../logger.js';
import type { SmsProvider } from './index.js';

/** Development provider: the message goes to the log. */
export function consoleSms(log: Logger): SmsProvider {
  return {
    name: 'console',
    async send({ to, body }) {
      log.warn({ to, body }, 'SMS_PROVIDER=console: SMS not sent');
    },
  };
}
