/**
 * The session cache: what authentication reads instead of PostgreSQL on every request (README "Sessions at scale").
 * One entry per session: the role of its user while the session is open and the user active, or `revoked`. The
 * database stays the truth; the cache is written through by every change, before the change when it takes access
 * away, so no instance ever sees an open session that the database has ended.
 */
import type { Role } from '@tagdrop/contracts';

/** A session's cached state: open with the user's current role, or ended (logout, revocation, block). */
export type SessionMark = Role | 'revoked';

/** How long a cached open session lasts before authentication asks the database again (not extended by reads). */
export const OPEN_MARK_TTL_SECONDS = 20 * 60;
/** How long a revocation is kept: longer than any access token of the session can live (15 min + clock slack). */
export const REVOKED_MARK_TTL_SECONDS = 16 * 60;

export interface SessionCache {
  readonly kind: 'redis' | 'memory';
  /** One round trip: the session's mark; undefined when none is cached, null when the cache cannot answer now. */
  get(userId: string, sessionId: string): Promise<SessionMark | undefined | null>;
  /**
   * Caches what the database said, only where nothing is cached yet (a concurrent change always wins). Never
   * throws: a failure only means the next request asks the database again.
   */
  remember(userId: string, sessionId: string, mark: SessionMark, ttlSeconds: number): Promise<void>;
  /**
   * Writes changes: `revoked` always, a role only over an open (or missing) entry, never over a revocation. Throws
   * AppError service_unavailable when the cache cannot be written, so the caller changes nothing.
   */
  mark(userId: string, marks: { sessionId: string; mark: SessionMark }[]): Promise<void>;
}
