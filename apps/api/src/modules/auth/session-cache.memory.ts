import {
  OPEN_MARK_TTL_SECONDS,
  REVOKED_MARK_TTL_SECONDS,
  type SessionCache,
  type SessionMark,
} from './session-cache.types.js';

/** The in-process twin of the Redis session cache (REDIS_URL unset): the same rules, for one process. */
export function memorySessionCache(): SessionCache {
  const entries = new Map<string, { mark: SessionMark; expiresAt: number }>();
  const key = (userId: string, sessionId: string) => `${userId}:${sessionId}`;
  const live = (k: string) => {
    const e = entries.get(k);
    if (e && e.expiresAt <= Date.now()) entries.delete(k);
    return entries.get(k);
  };
  const put = (k: string, mark: SessionMark, ttlSeconds: number) => {
    entries.set(k, { mark, expiresAt: Date.now() + ttlSeconds * 1000 });
  };
  // Expired entries are dropped as they are read; sweep the rest now and then so the map stays bounded.
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [k, e] of entries) if (e.expiresAt <= now) entries.delete(k);
  }, 60_000);
  sweep.unref();

  return {
    kind: 'memory',
    async get(userId, sessionId) {
      return live(key(userId, sessionId))?.mark;
    },
    async remember(userId, sessionId, mark, ttlSeconds) {
      const k = key(userId, sessionId);
      if (!live(k)) put(k, mark, ttlSeconds);
    },
    async mark(userId, marks) {
      for (const { sessionId, mark } of marks) {
        const k = key(userId, sessionId);
        if (mark === 'revoked') put(k, mark, REVOKED_MARK_TTL_SECONDS);
        else if (live(k)?.mark !== 'revoked') put(k, mark, OPEN_MARK_TTL_SECONDS);
      }
    },
  };
}
