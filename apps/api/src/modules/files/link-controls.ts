import { verify } from '@node-rs/argon2';
import type { UnlockedLink } from '@tagdrop/contracts';
import type { AppDeps } from '../../deps.types.js';
import { AppError } from '../../errors.js';
import { isExpired } from './files.dto.js';
import { findSharedFile } from './files.listing.js';
import { exhausted, isExhausted, signUnlock } from './link-rules.js';

/**
 * POST /api/share/{token}/unlock/: the password of a private link → the link with a short-lived grant. Wrong
 * passwords are limited per link and IP and per link; the owner never needs the link (they reach the file at
 * /f/{id} with their token), so nobody can lock them out of their own file this way.
 */
export async function unlockLink(
  deps: Pick<AppDeps, 'db' | 'keys' | 'limiters' | 'baseUrl'>,
  token: string,
  password: string,
  ip: string,
): Promise<UnlockedLink> {
  const file = await findSharedFile(deps.db, token);
  if (!file) throw new AppError('not_found', 'No such file.');
  if (isExpired(file)) throw new AppError('gone', 'This file has expired.');
  if (isExhausted(file)) throw exhausted();
  const link = `${deps.baseUrl}/s/${token}`;
  if (!file.link_password_hash) {
    const grant = signUnlock(deps.keys.unlock, file);
    return { download_url: link, unlock: grant.token, expires_at: grant.expiresAt.toISOString() };
  }
  const perLinkIp = `${file.id}:${ip}`;
  await deps.limiters.unlockFailPerLinkIp.check(perLinkIp);
  await deps.limiters.unlockFailPerLink.check(file.id);
  if (!(await verify(file.link_password_hash, password).catch(() => false))) {
    await deps.limiters.unlockFailPerLinkIp.consume(perLinkIp);
    await deps.limiters.unlockFailPerLink.consume(file.id);
    throw new AppError('invalid_password', 'That is not the password of this link.', {
      fields: { password: ['Wrong password'] },
    });
  }
  const grant = signUnlock(deps.keys.unlock, file);
  return {
    download_url: `${link}?unlock=${grant.token}`,
    unlock: grant.token,
    expires_at: grant.expiresAt.toISOString(),
  };
}
