/**
 * Passkeys (WebAuthn, @simplewebauthn/server): adding them after a code login, listing, renaming and removing them,
 * and signing in with one (discoverable credentials: no address to type). The relying party is PUBLIC_URL (or, in
 * development and tests, the origin the request came to). Challenges are single use, expire after 5 minutes and are
 * stored as SHA-256; user verification is required; the signature counter must move forward. Any answer that does
 * not verify is 400 invalid_passkey, never a 500.
 */

import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { PasskeyDto, PasskeyLoginInput, PasskeyRegisterInput, VerifyOtpOutput } from '@tagdrop/contracts';
import type { AppDeps } from '../../deps.types.js';
import { AppError } from '../../errors.js';
import { audit } from '../../infra/audit.js';
import type { AuthDeps, AuthUser, RequestMeta } from './auth.types.js';
import {
  type ChallengePurpose,
  listPasskeys,
  type PasskeyRow,
  passkeyByCredential,
  passkeyColumns,
  storeChallenge,
  takeChallenge,
} from './passkeys.queries.js';
import { accountBlocked } from './session-access.js';
import { completeLogin } from './sessions.service.js';

/** @simplewebauthn/server and its helpers (~25 MB of memory) are loaded by the first passkey request. */
type WebAuthn = typeof import('@simplewebauthn/server') & typeof import('@simplewebauthn/server/helpers');
let library: Promise<WebAuthn> | undefined;
const webauthn = () => {
  library ??= Promise.all([import('@simplewebauthn/server'), import('@simplewebauthn/server/helpers')]).then(
    ([server, helpers]) => ({ ...server, ...helpers }),
  );
  return library;
};

export const CHALLENGE_TTL_SECONDS = 5 * 60;
const TIMEOUT_MS = 2 * 60_000;
export const MAX_PASSKEYS_PER_USER = 20;
/** EdDSA, ES256, RS256: what authenticators offer today. */
const ALGORITHMS = [-8, -7, -257];

/** The relying party: its ID is the host name the browser uses, its origin the one the pages come from. */
export interface RelyingParty {
  id: string;
  origin: string;
  name: string;
}
export function relyingParty(baseUrl: string): RelyingParty {
  const url = new URL(baseUrl);
  return { id: url.hostname, origin: url.origin, name: 'Tagdrop' };
}

const invalid = (message = 'That passkey could not be verified. Try again.', cause?: unknown) =>
  new AppError('invalid_passkey', message, { cause });

const iso = (d: Date) => d.toISOString();
const toDto = (p: PasskeyRow): PasskeyDto => ({
  id: p.id,
  name: p.name,
  created_at: iso(p.created_at),
  last_used_at: p.last_used_at ? iso(p.last_used_at) : null,
  device_type: p.device_type,
  backed_up: p.backed_up,
});

const staleChallenge = () => invalid('This passkey request has expired or was already answered. Start again.');

/** The challenge in a browser's clientDataJSON; null when that is not readable. */
async function challengeOf(clientDataJSON: string): Promise<string | null> {
  const { decodeClientDataJSON } = await webauthn();
  try {
    const { challenge } = decodeClientDataJSON(clientDataJSON);
    return typeof challenge === 'string' ? challenge : null;
  } catch {
    return null;
  }
}

/** The challenge a browser answered (from its clientDataJSON), taken once; anything else is invalid_passkey. */
async function answeredChallenge(
  deps: Pick<AppDeps, 'db'>,
  clientDataJSON: string,
  purpose: ChallengePurpose,
  userId: string | null,
): Promise<string> {
  const challenge = await challengeOf(clientDataJSON);
  if (challenge === null) throw invalid();
  if (!(await takeChallenge(deps.db, challenge, purpose, userId))) throw staleChallenge();
  return challenge;
}

const userHandleOf = (userId: string) => new TextEncoder().encode(userId);

export async function registrationOptions(deps: Pick<AppDeps, 'db'>, user: AuthUser, rp: RelyingParty) {
  const [me, existing] = await Promise.all([
    deps.db.selectFrom('users').select(['email', 'phone']).where('id', '=', user.id).executeTakeFirstOrThrow(),
    listPasskeys(deps.db, user.id),
  ]);
  if (existing.length >= MAX_PASSKEYS_PER_USER) {
    throw new AppError('conflict', `You have ${MAX_PASSKEYS_PER_USER} passkeys already. Remove one first.`);
  }
  const label = me.email ?? me.phone ?? 'Tagdrop user';
  const { generateRegistrationOptions } = await webauthn();
  const options = await generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: label,
    userDisplayName: label,
    userID: userHandleOf(user.id),
    timeout: TIMEOUT_MS,
    attestationType: 'none',
    excludeCredentials: existing.map((p) => ({ id: p.credential_id, transports: p.transports })),
    authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
    supportedAlgorithmIDs: ALGORITHMS,
  });
  await storeChallenge(deps.db, options.challenge, 'register', user.id, CHALLENGE_TTL_SECONDS);
  return options;
}

export async function registerPasskey(
  deps: Pick<AppDeps, 'db'>,
  user: AuthUser,
  input: PasskeyRegisterInput,
  rp: RelyingParty,
  meta: RequestMeta,
): Promise<PasskeyDto> {
  const challenge = await answeredChallenge(deps, input.credential.response.clientDataJSON, 'register', user.id);
  const { verifyRegistrationResponse } = await webauthn();
  const verification = await verifyRegistrationResponse({
    response: input.credential as RegistrationResponseJSON,
    expectedChallenge: challenge,
    expectedOrigin: rp.origin,
    expectedRPID: rp.id,
    requireUserVerification: true,
    supportedAlgorithmIDs: ALGORITHMS,
  }).catch((err) => {
    throw invalid(undefined, err);
  });
  if (!verification.verified) throw invalid();
  const info = verification.registrationInfo;
  const created = await deps.db
    .insertInto('passkeys')
    .values({
      user_id: user.id,
      credential_id: info.credential.id,
      public_key: Buffer.from(info.credential.publicKey),
      counter: info.credential.counter,
      transports: JSON.stringify(info.credential.transports ?? input.credential.response.transports ?? []),
      device_type: info.credentialDeviceType,
      backed_up: info.credentialBackedUp,
      aaguid: info.aaguid,
      name: input.name,
    })
    .onConflict((oc) => oc.column('credential_id').doNothing())
    .returning([...passkeyColumns])
    .executeTakeFirst();
  if (!created) throw invalid('This passkey is registered already.');
  await audit(deps.db, {
    actorId: user.id,
    action: 'passkey.added',
    targetType: 'passkey',
    targetId: created.id,
    meta: { name: created.name, device_type: created.device_type },
    ip: meta.ip,
  });
  return toDto(created);
}

export async function listOwnPasskeys(deps: Pick<AppDeps, 'db'>, user: AuthUser): Promise<PasskeyDto[]> {
  return (await listPasskeys(deps.db, user.id)).map(toDto);
}

export async function renamePasskey(
  deps: Pick<AppDeps, 'db'>,
  user: AuthUser,
  input: { id: string; name: string },
  meta: RequestMeta,
) {
  const row = await deps.db
    .updateTable('passkeys')
    .set({ name: input.name })
    .where('id', '=', input.id)
    .where('user_id', '=', user.id)
    .returning([...passkeyColumns])
    .executeTakeFirst();
  if (!row) throw new AppError('not_found', 'No such passkey.');
  await audit(deps.db, {
    actorId: user.id,
    action: 'passkey.renamed',
    targetType: 'passkey',
    targetId: row.id,
    meta: { name: row.name },
    ip: meta.ip,
  });
  return toDto(row);
}

export async function removePasskey(deps: Pick<AppDeps, 'db'>, user: AuthUser, id: string, meta: RequestMeta) {
  const row = await deps.db
    .deleteFrom('passkeys')
    .where('id', '=', id)
    .where('user_id', '=', user.id)
    .returning(['id', 'name'])
    .executeTakeFirst();
  if (!row) throw new AppError('not_found', 'No such passkey.');
  await audit(deps.db, {
    actorId: user.id,
    action: 'passkey.removed',
    targetType: 'passkey',
    targetId: row.id,
    meta: { name: row.name },
    ip: meta.ip,
  });
  return { detail: 'Passkey removed.' };
}

/** Options for "Sign in with a passkey": no credentials listed, the authenticator offers the ones it holds. */
export async function loginOptions(deps: Pick<AppDeps, 'db' | 'limiters'>, rp: RelyingParty, meta: RequestMeta) {
  await deps.limiters.passkeyPerIp.consume(meta.ip);
  const { generateAuthenticationOptions } = await webauthn();
  const options = await generateAuthenticationOptions({
    rpID: rp.id,
    allowCredentials: [],
    userVerification: 'required',
    timeout: TIMEOUT_MS,
  });
  await storeChallenge(deps.db, options.challenge, 'login', null, CHALLENGE_TTL_SECONDS);
  return options;
}

/**
 * Why a passkey sign-in was refused: the only detail its audit entry keeps (never the assertion, its signature,
 * challenge or user handle, all of them the caller's text).
 */
export type PasskeyLoginRefusal =
  | 'malformed_client_data'
  | 'stale_challenge'
  | 'unknown_credential'
  | 'user_handle_mismatch'
  | 'not_verified'
  | 'counter_went_back'
  | 'account_blocked';

/**
 * A refused sign-in costs a point of the per-IP passkey budget (the one login options take, checked before any
 * work): out of points it answers 429 and writes nothing, so a flood of forged or replayed assertions cannot fill
 * the audit log. The entry is small: the reason, and the passkey's user as target when the credential is known.
 */
async function recordRefusal(
  deps: AuthDeps,
  meta: RequestMeta,
  reason: PasskeyLoginRefusal,
  credentialId: string,
  known?: { id: string; user_id: string },
): Promise<void> {
  await deps.limiters.passkeyPerIp.consume(meta.ip);
  const passkey = known ?? (await passkeyByCredential(deps.db, credentialId).catch(() => undefined));
  await audit(deps.db, {
    actorId: null,
    action: 'passkey.login_refused',
    ...(passkey ? { targetType: 'user', targetId: passkey.user_id } : {}),
    meta: passkey ? { reason, passkey_id: passkey.id } : { reason },
    ip: meta.ip,
  }).catch((err: unknown) => {
    // The answer stays the refusal it is; a lost entry is logged instead.
    deps.log.error({ err: String(err), reason }, 'could not audit a refused passkey sign-in');
  });
}

/** Signs in with a passkey: the same session and tokens as a code login, with method `passkey`. */
export async function loginWithPasskey(
  deps: AuthDeps,
  input: PasskeyLoginInput,
  rp: RelyingParty,
  meta: RequestMeta,
): Promise<VerifyOtpOutput> {
  await deps.limiters.passkeyPerIp.check(meta.ip);
  const { isoBase64URL, verifyAuthenticationResponse } = await webauthn();
  const { credential } = input;
  let passkey: Awaited<ReturnType<typeof passkeyByCredential>>;
  const refuse = async (reason: PasskeyLoginRefusal, error: AppError = invalid()) => {
    await recordRefusal(deps, meta, reason, credential.id, passkey);
    return error;
  };

  const challenge = await challengeOf(credential.response.clientDataJSON);
  if (challenge === null) throw await refuse('malformed_client_data');
  if (!(await takeChallenge(deps.db, challenge, 'login', null))) {
    throw await refuse('stale_challenge', staleChallenge());
  }
  passkey = await passkeyByCredential(deps.db, credential.id);
  if (!passkey) {
    throw await refuse(
      'unknown_credential',
      invalid('This passkey is not registered here (it may have been removed).'),
    );
  }
  if (
    credential.response.userHandle &&
    credential.response.userHandle !== isoBase64URL.fromBuffer(userHandleOf(passkey.user_id))
  ) {
    throw await refuse('user_handle_mismatch');
  }
  const counter = Number(passkey.counter);
  const verification = await verifyAuthenticationResponse({
    response: credential as AuthenticationResponseJSON,
    expectedChallenge: challenge,
    expectedOrigin: rp.origin,
    expectedRPID: rp.id,
    credential: {
      id: passkey.credential_id,
      publicKey: new Uint8Array(passkey.public_key),
      counter,
      transports: passkey.transports,
    },
    requireUserVerification: true,
  }).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
  if (verification instanceof Error || !verification.verified) {
    // A counter that did not move forward: a cloned authenticator, or an assertion signed before the last use.
    const reason =
      verification instanceof Error && /counter/i.test(verification.message) ? 'counter_went_back' : 'not_verified';
    throw await refuse(reason, invalid(undefined, verification instanceof Error ? verification : undefined));
  }
  // Move the counter on only from the value just checked: two uses racing with one counter cannot both pass.
  const used = await deps.db
    .updateTable('passkeys')
    .set({
      counter: verification.authenticationInfo.newCounter,
      backed_up: verification.authenticationInfo.credentialBackedUp,
      last_used_at: new Date(),
    })
    .where('id', '=', passkey.id)
    .where('counter', '=', String(counter))
    .returning('id')
    .executeTakeFirst();
  if (!used) throw await refuse('counter_went_back');
  if (!passkey.is_active) throw await refuse('account_blocked', accountBlocked());

  await audit(deps.db, {
    actorId: passkey.user_id,
    action: 'passkey.used',
    targetType: 'passkey',
    targetId: passkey.id,
    ip: meta.ip,
  });
  return completeLogin(deps, passkey.user_id, meta, 'passkey', { passkey_id: passkey.id });
}
