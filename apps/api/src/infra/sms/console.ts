import type { Logger } from '../logger.js';
import type { SmsProvider } from './types.js';

/** Development provider: the message goes to the log (its text only when showBody, i.e. in development). */
export function consoleSms(log: Logger, options: { showBody: boolean }): SmsProvider {
  return {
    name: 'console',
    async send({ to, body }) {
      if (options.showBody) log.warn({ to, body }, 'SMS_PROVIDER=console: SMS not sent');
      else log.warn('SMS_PROVIDER=console: SMS not sent (its text is logged only in development)');
    },
  };
}
