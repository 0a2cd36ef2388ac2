import nodemailer from 'nodemailer';
import type { Config } from '../env.js';
import type { Logger } from './logger.js';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

export interface Mailer {
  readonly kind: 'smtp' | 'log';
  send(message: MailMessage): Promise<void>;
  close(): void;
}

/**
 * SMTP through nodemailer when EMAIL_HOST is set; otherwise messages are written to the log, their subject and text
 * (which carry login codes) only in development. Production refuses to start without EMAIL_HOST (env.ts).
 */
export function createMailer(config: Config, log: Logger): Mailer {
  if (!config.EMAIL_HOST) {
    const showText = config.NODE_ENV === 'development';
    return {
      kind: 'log',
      async send(message) {
        if (showText) {
          log.warn(
            { to: message.to, subject: message.subject, text: message.text },
            'EMAIL_HOST unset: email not sent',
          );
        } else {
          log.warn('EMAIL_HOST unset: email not sent (its text is logged only in development)');
        }
      },
      close() {},
    };
  }
  const transport = nodemailer.createTransport({
    host: config.EMAIL_HOST,
    port: config.EMAIL_PORT,
    // Port 465 speaks TLS from the first byte; other ports upgrade with STARTTLS when EMAIL_USE_TLS is set.
    secure: config.EMAIL_PORT === 465,
    requireTLS: config.EMAIL_USE_TLS && config.EMAIL_PORT !== 465,
    ignoreTLS: !config.EMAIL_USE_TLS && config.EMAIL_PORT !== 465,
    auth: config.EMAIL_HOST_USER ? { user: config.EMAIL_HOST_USER, pass: config.EMAIL_HOST_PASSWORD ?? '' } : undefined,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  return {
    kind: 'smtp',
    async send(message) {
      await transport.sendMail({ from: config.EMAIL_FROM, ...message });
    },
    close() {
      transport.close();
    },
  };
}
