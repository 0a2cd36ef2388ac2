import type { OtpChannel } from '@tagdrop/db';
import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { z } from 'zod';
import { AppError } from '../../errors.js';

export interface Identifier {
  field: 'email' | 'phone';
  channel: OtpChannel;
  /** Lower-cased email or E.164 phone number. */
  value: string;
}

const emailSchema = z.email();

export function normalizeEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  if (!emailSchema.safeParse(email).success) {
    throw new AppError('invalid_email', 'That is not a valid email address.', { fields: { email: ['Invalid email'] } });
  }
  return email;
}

export function normalizePhone(raw: string, defaultRegion?: string): string {
  const phone = parsePhoneNumberFromString(raw.trim(), { defaultCountry: defaultRegion as CountryCode | undefined });
  if (!phone?.isPossible() || !phone.isValid()) {
    throw new AppError(
      'invalid_phone',
      'That is not a valid phone number. Use the international form, e.g. +14155552671.',
      {
        fields: { phone: ['Invalid phone number'] },
      },
    );
  }
  return phone.number;
}

export function normalizeIdentifier(input: { email?: string; phone?: string }, defaultRegion?: string): Identifier {
  if (input.email !== undefined) return { field: 'email', channel: 'email', value: normalizeEmail(input.email) };
  if (input.phone !== undefined)
    return { field: 'phone', channel: 'sms', value: normalizePhone(input.phone, defaultRegion) };
  throw new AppError('validation_error', 'Give exactly one of email or phone.', {
    fields: { email: ['Give exactly one of email or phone'] },
  });
}
