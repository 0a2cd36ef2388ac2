/**
 * A software authenticator for API tests: the client side of WebAuthn in Node (what a browser and a platform
 * authenticator produce), speaking the wire format: ES256 keys, "none" attestation, authenticator data with the RP ID
 * hash, flags and signature counter, clientDataJSON, DER signatures. The browser tests use Chromium's own virtual
 * authenticator instead.
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { isoBase64URL, isoCBOR } from '@simplewebauthn/server/helpers';
import type { TestApp } from './harness.js';

const b64 = (bytes: Uint8Array) => isoBase64URL.fromBuffer(new Uint8Array(bytes));
const sha256 = (data: Uint8Array | string) => new Uint8Array(createHash('sha256').update(data).digest());
const u32 = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
};
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

const UP = 0x01;
const UV = 0x04;
const AT = 0x40;

interface StoredCredential {
  id: Uint8Array;
  privateKey: KeyObject;
  rpId: string;
  userHandle: string;
  counter: number;
}

export interface RegistrationOptionsJson {
  challenge: string;
  rp: { id?: string };
  user: { id: string };
}
export interface LoginOptionsJson {
  challenge: string;
  rpId?: string;
}

export class SoftAuthenticator {
  readonly credentials: StoredCredential[] = [];

  /** The base64url ids of the credentials it holds, oldest first. */
  credentialIds(): string[] {
    return this.credentials.map((c) => b64(c.id));
  }

  /** Answers registration options like navigator.credentials.create() would (a resident, user-verified key). */
  create(options: RegistrationOptionsJson, origin: string, clientData: Partial<{ type: string; origin: string }> = {}) {
    const rpId = options.rp.id ?? new URL(origin).hostname;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const cose = new Map<number, number | Uint8Array>([
      [1, 2], // kty: EC2
      [3, -7], // alg: ES256
      [-1, 1], // crv: P-256
      [-2, isoBase64URL.toBuffer(jwk.x ?? '')],
      [-3, isoBase64URL.toBuffer(jwk.y ?? '')],
    ]);
    const id = new Uint8Array(randomBytes(16));
    const authData = concat(
      sha256(rpId),
      new Uint8Array([UP | UV | AT]),
      u32(0),
      new Uint8Array(16), // AAGUID
      new Uint8Array([0, id.length]),
      id,
      isoCBOR.encode(cose),
    );
    const attestationObject = isoCBOR.encode(
      new Map<string, string | Uint8Array | Map<string, string>>([
        ['fmt', 'none'],
        ['attStmt', new Map<string, string>()],
        ['authData', authData],
      ]),
    );
    const clientDataJSON = JSON.stringify({
      type: 'webauthn.create',
      challenge: options.challenge,
      origin,
      crossOrigin: false,
      ...clientData,
    });
    this.credentials.push({ id, privateKey, rpId, userHandle: options.user.id, counter: 0 });
    return {
      id: b64(id),
      rawId: b64(id),
      type: 'public-key' as const,
      response: {
        clientDataJSON: b64(new TextEncoder().encode(clientDataJSON)),
        attestationObject: b64(attestationObject),
        transports: ['internal'],
      },
      authenticatorAttachment: 'platform' as const,
      clientExtensionResults: {},
    };
  }

  /**
   * Answers login options like navigator.credentials.get() would, with the newest credential for the RP. `counter`
   * overrides the signature counter (default: one more than last time).
   */
  get(
    options: LoginOptionsJson,
    origin: string,
    overrides: {
      counter?: number;
      credential?: StoredCredential;
      clientData?: Partial<{ type: string; origin: string }>;
    } = {},
  ) {
    const rpId = options.rpId ?? new URL(origin).hostname;
    const cred = overrides.credential ?? this.credentials.filter((c) => c.rpId === rpId).at(-1);
    if (!cred) throw new Error(`no credential for ${rpId}`);
    cred.counter = overrides.counter ?? cred.counter + 1;
    const authData = concat(sha256(rpId), new Uint8Array([UP | UV]), u32(cred.counter));
    const clientDataJSON = new TextEncoder().encode(
      JSON.stringify({
        type: 'webauthn.get',
        challenge: options.challenge,
        origin,
        crossOrigin: false,
        ...overrides.clientData,
      }),
    );
    const signature = sign('sha256', concat(authData, sha256(clientDataJSON)), cred.privateKey);
    return {
      id: b64(cred.id),
      rawId: b64(cred.id),
      type: 'public-key' as const,
      response: {
        clientDataJSON: b64(clientDataJSON),
        authenticatorData: b64(authData),
        signature: b64(new Uint8Array(signature)),
        userHandle: cred.userHandle,
      },
      authenticatorAttachment: 'platform' as const,
      clientExtensionResults: {},
    };
  }
}

type Tokens = { access: string; refresh: string; user: { id: string; role: string } };

/** Adds a passkey over REST for the holder of `access`; returns the created passkey object. */
export async function addPasskey(app: TestApp, authenticator: SoftAuthenticator, access: string, name = 'Laptop') {
  const options = await app.api<RegistrationOptionsJson>('POST', '/api/passkeys/registration-options/', {
    token: access,
  });
  if (options.status !== 200) throw new Error(`registration-options answered ${options.status}`);
  const credential = authenticator.create(options.body, app.url);
  const created = await app.api<{ id: string; name: string }>('POST', '/api/passkeys/', {
    token: access,
    body: { name, credential },
  });
  if (created.status !== 201) throw new Error(`adding a passkey answered ${created.status}`);
  return created.body;
}

/** A passkey assertion for fresh login options (not yet sent). */
export async function passkeyAssertion(app: TestApp, authenticator: SoftAuthenticator) {
  const options = await app.api<LoginOptionsJson>('POST', '/api/passkeys/login-options/');
  if (options.status !== 200) throw new Error(`login-options answered ${options.status}`);
  return authenticator.get(options.body, app.url);
}

/** Signs in with the authenticator's newest passkey over REST. */
export async function passkeyLogin(app: TestApp, authenticator: SoftAuthenticator): Promise<Tokens> {
  const res = await app.api<Tokens>('POST', '/api/passkeys/login/', {
    body: { credential: await passkeyAssertion(app, authenticator) },
  });
  if (res.status !== 200) throw new Error(`passkey login answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}
