/** The SMS provider interface and its shared types: providers import this file, the picker (index.ts) them. */
export interface SmsMessage {
  /** E.164 number. */
  to: string;
  body: string;
}

/** One SMS provider. Adding another is one new file and one line in index.ts. */
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
