/** Shared types of the auth module (a leaf: the services import it, never the reverse). */
import type { UserDto } from '@tagdrop/contracts';
import type { SessionMethod, User } from '@tagdrop/db';
import type { AppDeps } from '../../deps.types.js';

export type AuthDeps = Pick<AppDeps, 'config' | 'db' | 'keys' | 'jobs' | 'limiters' | 'log' | 'sessionCache'>;

export interface RequestMeta {
  ip: string;
  userAgent?: string | undefined;
}

/** The caller as every protected route sees it. */
export interface AuthUser {
  id: string;
  /** The role this session may act with (an admin without a passkey session acts as a user, see below). */
  role: 'user' | 'admin';
  sessionId: string;
  /** How the session began. */
  method: SessionMethod;
  /** ADMIN_REQUIRE_PASSKEY: an admin whose session began with a code; admin procedures answer passkey_required. */
  adminNeedsPasskey?: boolean;
}

const iso = (d: Date) => d.toISOString();

export function toUserDto(
  u: Pick<User, 'id' | 'email' | 'phone' | 'role' | 'is_active' | 'created_at' | 'last_login_at'>,
): UserDto {
  return {
    id: u.id,
    email: u.email,
    phone: u.phone,
    role: u.role,
    is_active: u.is_active,
    created_at: iso(u.created_at),
    last_login_at: u.last_login_at ? iso(u.last_login_at) : null,
  };
}
