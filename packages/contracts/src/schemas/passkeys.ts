import { z } from 'zod';

/** Base64url text as WebAuthn JSON carries binary values. */
const b64url = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[A-Za-z0-9_-]*$/, 'Must be base64url');

const credentialId = b64url(1400).min(1);
/** The extension results browsers report (informational; anything else is dropped). */
const extensionResults = z
  .object({
    appid: z.boolean().optional(),
    credProps: z.object({ rk: z.boolean().optional() }).optional(),
    hmacCreateSecret: z.boolean().optional(),
  })
  .default({});

/** The fields every WebAuthn credential answer has (PublicKeyCredential as JSON). */
const credentialBase = z.object({
  id: credentialId,
  rawId: credentialId,
  type: z.literal('public-key'),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: extensionResults,
});

/** What `navigator.credentials.create()` answered (`startRegistration()` of @simplewebauthn/browser). */
export const registrationCredentialSchema = credentialBase.extend({
  response: z.object({
    clientDataJSON: b64url(8192).min(1),
    attestationObject: b64url(65536).min(1),
    authenticatorData: b64url(65536).optional(),
    transports: z.array(z.string().max(32)).max(10).optional(),
    publicKeyAlgorithm: z.number().int().optional(),
    publicKey: b64url(8192).optional(),
  }),
});

/** What `navigator.credentials.get()` answered (`startAuthentication()` of @simplewebauthn/browser). */
export const authenticationCredentialSchema = credentialBase.extend({
  response: z.object({
    clientDataJSON: b64url(8192).min(1),
    authenticatorData: b64url(8192).min(1),
    signature: b64url(2048).min(1),
    userHandle: b64url(512).optional(),
  }),
});

const descriptor = z.object({
  id: z.string(),
  type: z.string(),
  transports: z.array(z.string()).optional(),
});
const hints = z.array(z.string()).optional();
const extensions = z.object({ credProps: z.boolean().optional() }).optional();

/** Options for `startRegistration({ optionsJSON })` (PublicKeyCredentialCreationOptionsJSON). */
export const passkeyRegistrationOptionsSchema = z.object({
  challenge: z.string(),
  rp: z.object({ name: z.string(), id: z.string().optional() }),
  user: z.object({ id: z.string(), name: z.string(), displayName: z.string() }),
  pubKeyCredParams: z.array(z.object({ alg: z.number(), type: z.string() })),
  timeout: z.number().optional(),
  excludeCredentials: z.array(descriptor).optional(),
  authenticatorSelection: z
    .object({
      authenticatorAttachment: z.string().optional(),
      residentKey: z.string().optional(),
      requireResidentKey: z.boolean().optional(),
      userVerification: z.string().optional(),
    })
    .optional(),
  hints,
  attestation: z.string().optional(),
  attestationFormats: z.array(z.string()).optional(),
  extensions,
});

/** Options for `startAuthentication({ optionsJSON })` (PublicKeyCredentialRequestOptionsJSON). */
export const passkeyLoginOptionsSchema = z.object({
  challenge: z.string(),
  timeout: z.number().optional(),
  rpId: z.string().optional(),
  allowCredentials: z.array(descriptor).optional(),
  userVerification: z.string().optional(),
  hints,
  extensions,
});

const passkeyName = z.string().trim().min(1, 'Give the passkey a name').max(60);

export const passkeyRegisterInput = z.object({
  name: passkeyName.describe('Shown in your list of passkeys, e.g. "Laptop"'),
  credential: registrationCredentialSchema,
});
export const passkeyLoginInput = z.object({ credential: authenticationCredentialSchema });
export const passkeyIdInput = z.object({ id: z.uuid() });
export const passkeyRenameInput = z.object({ id: z.uuid(), name: passkeyName });

export const passkeySchema = z.object({
  id: z.uuid(),
  name: z.string(),
  created_at: z.iso.datetime({ offset: true }),
  last_used_at: z.iso.datetime({ offset: true }).nullable(),
  device_type: z.enum(['singleDevice', 'multiDevice']).describe('multiDevice: synced (e.g. by a password manager)'),
  backed_up: z.boolean(),
});
export const passkeyListOutput = z.object({ results: z.array(passkeySchema) });

export type PasskeyDto = z.infer<typeof passkeySchema>;
export type PasskeyRegisterInput = z.infer<typeof passkeyRegisterInput>;
export type PasskeyLoginInput = z.infer<typeof passkeyLoginInput>;
