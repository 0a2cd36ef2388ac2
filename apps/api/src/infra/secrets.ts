import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Config } from '../env.js';
import type { Logger } from './logger.js';

/** Keys derived from SECRET_KEY, one per purpose, so no key is ever used for two things. */
export interface Keys {
  jwt: Uint8Array;
  otp: Buffer;
  visitor: Buffer;
  jobs: Buffer;
  /** Signs download grants (short-lived links to a file's bytes, see downloads/grants.ts). */
  grants: Buffer;
  /** Signs unlock grants of password-protected private links (modules/files/link-controls.ts). */
  unlock: Buffer;
  /** Signs the sign-in links sent with login codes (modules/auth/otp-link.ts). */
  otpLink: Buffer;
}

export function deriveKeys(secret: string): Keys {
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', secret, 'tagdrop', info, 32));
  return {
    jwt: new Uint8Array(derive('tagdrop/jwt-access/v1')),
    otp: derive('tagdrop/otp-hash/v1'),
    visitor: derive('tagdrop/visitor-hash/v1'),
    jobs: derive('tagdrop/job-payload/v1'),
    grants: derive('tagdrop/download-grant/v1'),
    unlock: derive('tagdrop/link-unlock/v1'),
    otpLink: derive('tagdrop/otp-sign-in-link/v1'),
  };
}

/**
 * SECRET_KEY if set; otherwise (development only, env.ts refuses production) a generated key kept in
 * DATA_DIR/secret_key so tokens survive restarts.
 */
export async function resolveSecretKey(config: Config, log: Logger): Promise<string> {
  if (config.SECRET_KEY) return config.SECRET_KEY;
  const file = path.join(config.dataDir, 'secret_key');
  try {
    const existing = (await fs.readFile(file, 'utf8')).trim();
    if (existing.length >= 32) return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await fs.mkdir(config.dataDir, { recursive: true });
  const generated = randomBytes(48).toString('base64url');
  await fs.writeFile(file, `${generated}\n`, { mode: 0o600 });
  log.warn({ file }, 'SECRET_KEY is not set: generated one for development and stored it in DATA_DIR');
  return generated;
}

export const sha256Hex = (value: string | Buffer) => createHash('sha256').update(value).digest('hex');
export const hmacHex = (key: Buffer, value: string) => createHmac('sha256', key).update(value).digest('hex');

export function safeEqualHex(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}

export const randomToken = (bytes = 32) => randomBytes(bytes).toString('base64url');

/** AES-256-GCM sealing for secrets that must sit briefly in a job payload (never a plain OTP in agenda_jobs). */
export function seal(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url')).join('.');
}

export function unseal(key: Buffer, sealed: string): string {
  const [iv, tag, body] = sealed.split('.').map((p) => Buffer.from(p, 'base64url'));
  if (!iv || !tag || !body) throw new Error('malformed sealed value');
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
}
