import type { Db, Passkey } from '@tagdrop/db';
import { sha256Hex } from '../../infra/secrets.js';

export type ChallengePurpose = 'register' | 'login';

/** Stores a challenge (as its SHA-256) for one answer; drops expired ones on the way. */
export async function storeChallenge(
  db: Db,
  challenge: string,
  purpose: ChallengePurpose,
  userId: string | null,
  ttlSeconds: number,
): Promise<void> {
  await db.deleteFrom('webauthn_challenges').where('expires_at', '<=', new Date()).execute();
  await db
    .insertInto('webauthn_challenges')
    .values({
      challenge_hash: sha256Hex(challenge),
      purpose,
      user_id: userId,
      expires_at: new Date(Date.now() + ttlSeconds * 1000),
    })
    .execute();
}

/** Takes a challenge once: true only for the first caller, before it expires, for its purpose and user. */
export async function takeChallenge(
  db: Db,
  challenge: string,
  purpose: ChallengePurpose,
  userId: string | null,
): Promise<boolean> {
  const taken = await db
    .deleteFrom('webauthn_challenges')
    .where('challenge_hash', '=', sha256Hex(challenge))
    .where('purpose', '=', purpose)
    .where('expires_at', '>', new Date())
    .where((eb) => (userId === null ? eb('user_id', 'is', null) : eb('user_id', '=', userId)))
    .returning('challenge_hash')
    .executeTakeFirst();
  return taken !== undefined;
}

export const passkeyColumns = ['id', 'name', 'created_at', 'last_used_at', 'device_type', 'backed_up'] as const;

export function listPasskeys(db: Db, userId: string) {
  return db
    .selectFrom('passkeys')
    .select([...passkeyColumns, 'credential_id', 'transports'])
    .where('user_id', '=', userId)
    .orderBy('created_at', 'asc')
    .execute();
}

/** The passkey of a credential id with its user, for signing in. */
export function passkeyByCredential(db: Db, credentialId: string) {
  return db
    .selectFrom('passkeys')
    .innerJoin('users', 'users.id', 'passkeys.user_id')
    .select([
      'passkeys.id',
      'passkeys.user_id',
      'passkeys.credential_id',
      'passkeys.public_key',
      'passkeys.counter',
      'passkeys.transports',
      'users.is_active',
    ])
    .where('passkeys.credential_id', '=', credentialId)
    .executeTakeFirst();
}

export type PasskeyRow = Pick<Passkey, (typeof passkeyColumns)[number]>;
