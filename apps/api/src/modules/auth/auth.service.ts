/** The auth module's services in one place (routers and REST import this). */
import type { UserDto } from '@tagdrop/contracts';
import type { AppDeps } from '../../deps.types.js';
import { AppError } from '../../errors.js';
import { toUserDto } from './auth.types.js';

export { type AuthDeps, type AuthUser, type RequestMeta, toUserDto } from './auth.types.js';
export { OTP_MAX_ATTEMPTS, OTP_SENT_DETAIL, requestOtp, verifyOtp } from './otp.service.js';
export { verifyOtpLink } from './otp-link.service.js';
export { authenticate } from './session-access.js';
export {
  listSessions,
  logout,
  REFRESH_TTL_DAYS,
  refreshTokens,
  revokeOwnSession,
  revokeUserSessions,
  setUserActive,
} from './sessions.service.js';

export async function getMe(deps: Pick<AppDeps, 'db'>, userId: string): Promise<UserDto> {
  const user = await deps.db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
  if (!user) throw new AppError('not_found', 'No such user.');
  return toUserDto(user);
}
