import { SmsDeliveryError, type SmsProvider } from './types.js';

/** POSTs `{"to": "+E164", "body": "..."}` as JSON to SMS_WEBHOOK_URL; any 2xx is success. */
export function webhookSms(url: string): SmsProvider {
  return {
    name: 'webhook',
    async send({ to, body }) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ to, body }),
        signal: AbortSignal.timeout(10_000),
      });
      if (!res.ok) {
        throw new SmsDeliveryError(`SMS webhook answered ${res.status}`, res.status >= 500 || res.status === 429);
      }
    },
  };
}
