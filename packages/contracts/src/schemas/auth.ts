import { z } from 'zod';

/** A login identifier: exactly one of an email address or a phone number. */
const email = z.string().trim().max(254).describe('Email address to send the code to');
const phone = z
  .string()
  .trim()
  .max(32)
  .describe('Phone number, international (+15551234567) or national for the default region');

export const identifierInput = z
  .object({
    email: email.optional(),
    phone: phone.optional(),
  })
  .refine((v) => (v.email === undefined) !== (v.phone === undefined), {
    message: 'Give exactly one of email or phone',
    path: ['email'],
  });

export const requestOtpInput = identifierInput;
export const requestOtpOutput = z.object({ detail: z.string() });

export const verifyOtpInput = z
  .object({
    email: email.optional(),
    phone: phone.optional(),
    otp: z
      .string()
      .trim()
      .regex(/^\d{6}$/, 'The code is 6 digits'),
  })
  .refine((v) => (v.email === undefined) !== (v.phone === undefined), {
    message: 'Give exactly one of email or phone',
    path: ['email'],
  });

/** The token of the sign-in link sent with every code (`/otp-login#token=<token>`). */
export const verifyOtpLinkInput = z.object({
  token: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .describe('The `token` of the sign-in link in a code message (the part after `#token=`)'),
});

export const roleSchema = z.enum(['user', 'admin']);

export const userSchema = z.object({
  id: z.uuid(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  role: roleSchema,
  is_active: z.boolean(),
  created_at: z.iso.datetime({ offset: true }),
  last_login_at: z.iso.datetime({ offset: true }).nullable(),
});

export const tokenPairSchema = z.object({
  access: z.string().describe('JWT access token (15 minutes); send as `Authorization: Bearer <access>`'),
  refresh: z.string().describe('Opaque refresh token; single use, rotated on every refresh'),
});

export const verifyOtpOutput = tokenPairSchema.extend({ user: userSchema });

export const refreshInput = z.object({ refresh: z.string().min(1).max(200) });
export const refreshOutput = tokenPairSchema;

export const logoutInput = z.object({ refresh: z.string().min(1).max(200).optional() });
export const detailOutput = z.object({ detail: z.string() });

export const sessionSchema = z.object({
  id: z.uuid(),
  created_at: z.iso.datetime({ offset: true }),
  last_used_at: z.iso.datetime({ offset: true }),
  expires_at: z.iso.datetime({ offset: true }),
  user_agent: z.string().nullable(),
  ip: z.string().nullable(),
  method: z.enum(['otp', 'passkey']).describe('How the session began: a one-time code or a passkey'),
  current: z.boolean(),
});
export const sessionListOutput = z.object({ results: z.array(sessionSchema) });
export const revokeSessionInput = z.object({ id: z.uuid() });

export type RequestOtpInput = z.infer<typeof requestOtpInput>;
export type VerifyOtpInput = z.infer<typeof verifyOtpInput>;
export type VerifyOtpLinkInput = z.infer<typeof verifyOtpLinkInput>;
export type UserDto = z.infer<typeof userSchema>;
export type TokenPair = z.infer<typeof tokenPairSchema>;
export type VerifyOtpOutput = z.infer<typeof verifyOtpOutput>;
export type SessionDto = z.infer<typeof sessionSchema>;
export type Role = z.infer<typeof roleSchema>;
