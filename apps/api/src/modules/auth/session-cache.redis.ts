import { serviceUnavailable } from '../../errors.js';
import type { RedisClient, RedisHandle } from '../../infra/redis.js';
import {
  OPEN_MARK_TTL_SECONDS,
  REVOKED_MARK_TTL_SECONDS,
  type SessionCache,
  type SessionMark,
} from './session-cache.types.js';

/**
 * Writes several marks of one user atomically: `revoked` always wins, a role never replaces a revocation.
 * KEYS: session keys (all with the user's hash tag, so one slot on Redis Cluster); ARGV: one mark per key, then the
 * open TTL and the revoked TTL.
 */
const MARK_SCRIPT = `
local n = #KEYS
for i = 1, n do
  local m = ARGV[i]
  if m == 'revoked' then
    redis.call('SET', KEYS[i], m, 'EX', ARGV[n + 2])
  elseif redis.call('GET', KEYS[i]) ~= 'revoked' then
    redis.call('SET', KEYS[i], m, 'EX', ARGV[n + 1])
  end
end
return n
`;

const MARKS = new Set<string>(['user', 'admin', 'revoked']);

/** The session cache in Redis: one key per session, `<prefix>auth:{<user id>}:<session id>`. */
export function redisSessionCache(redis: RedisHandle & { client: RedisClient }): SessionCache {
  const { client } = redis;
  const key = (userId: string, sessionId: string) => `${redis.prefix}auth:{${userId}}:${sessionId}`;
  return {
    kind: 'redis',
    async get(userId, sessionId) {
      if (!redis.available()) return null;
      try {
        const value = await client.get(key(userId, sessionId));
        return value !== null && MARKS.has(value) ? (value as SessionMark) : undefined;
      } catch {
        return null;
      }
    },
    async remember(userId, sessionId, mark, ttlSeconds) {
      if (!redis.available()) return;
      await client.set(key(userId, sessionId), mark, 'EX', Math.max(1, ttlSeconds), 'NX').catch(() => {});
    },
    async mark(userId, marks) {
      if (marks.length === 0) return;
      if (!redis.available()) throw serviceUnavailable();
      try {
        await client.eval(
          MARK_SCRIPT,
          marks.length,
          ...marks.map((m) => key(userId, m.sessionId)),
          ...marks.map((m) => m.mark),
          OPEN_MARK_TTL_SECONDS,
          REVOKED_MARK_TTL_SECONDS,
        );
      } catch (err) {
        throw serviceUnavailable(err);
      }
    },
  };
}
