import { SmsDeliveryError, type SmsProvider } from './types.js';

export interface TwilioOptions {
  apiUrl: string;
  accountSid: string;
  authToken: string;
  from: string;
}

/**
 * Twilio's Messages API: POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded To/From/Body,
 * HTTP Basic auth with the account SID and auth token; 201 with the message resource on success.
 */
export function twilioSms(options: TwilioOptions): SmsProvider {
  const endpoint = `${options.apiUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(options.accountSid)}/Messages.json`;
  const auth = Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64');
  return {
    name: 'twilio',
    async send({ to, body }) {
      const form = new URLSearchParams();
      form.set('To', to);
      form.set('From', options.from);
      form.set('Body', body);
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: { authorization: `Basic ${auth}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: form,
        signal: AbortSignal.timeout(10_000),
      });
      if (res.status !== 201 && res.status !== 200) {
        let detail = '';
        try {
          const json = (await res.json()) as { code?: number; message?: string };
          detail = ` (${json.code ?? ''} ${json.message ?? ''})`;
        } catch {
          // not JSON
        }
        throw new SmsDeliveryError(`Twilio answered ${res.status}${detail}`, res.status >= 500 || res.status === 429);
      }
    },
  };
}
