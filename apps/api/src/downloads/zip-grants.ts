import { randomBytes } from 'node:crypto';
import { ZIP_LINK_TTL_SECONDS } from '@tagdrop/contracts';
import type { RedisHandle } from '../infra/redis.js';
import { sha256Hex } from '../infra/secrets.js';

/**
 * ZIP links (POST /api/files/zip/link/, files.zipLink): a browser cannot send a Bearer token with a navigation, and
 * a ZIP fetched by script lands in memory whole. So the page asks for a short-lived link instead and navigates to
 * it, and the browser streams the archive to disk. Like a download grant (modules/files/grants.ts) the link is a
 * capability of its own, but a selection of up to 500 ids does not fit in a URL: the grant (caller, session,
 * role, ids) is kept server-side under the hash of a random token, for ZIP_LINK_TTL_SECONDS, in Redis (every
 * instance sees it) or, without Redis, in this process. A GET uses it up (GETDEL: exactly once, also across
 * instances); HEAD only looks.
 */
export interface ZipGrant {
  userId: string;
  sessionId: string;
  role: 'user' | 'admin';
  ids: string[];
}

export interface ZipGrants {
  issue(grant: ZipGrant, ttlSeconds?: number): Promise<{ token: string; expiresAt: Date }>;
  /** The grant of a token, or null (unknown, expired, used); `use` consumes it. */
  open(token: string, options: { use: boolean }): Promise<ZipGrant | null>;
}

const TOKEN = /^[A-Za-z0-9_-]{32}$/;
const stores = new WeakMap<RedisHandle, ZipGrants>();

/** The grants of this Redis connection (one store per process, shared by REST and tRPC). */
export function zipGrants(redis: RedisHandle): ZipGrants {
  let store = stores.get(redis);
  if (!store) {
    store = createStore(redis);
    stores.set(redis, store);
  }
  return store;
}

function createStore(redis: RedisHandle): ZipGrants {
  const client = redis.client;
  const key = (token: string) => `${redis.prefix}zipgrant:${sha256Hex(token)}`;
  const memory = new Map<string, { grant: ZipGrant; expires: number }>();
  return {
    async issue(grant, ttlSeconds = ZIP_LINK_TTL_SECONDS) {
      const token = randomBytes(24).toString('base64url');
      const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
      if (client) {
        await client.set(key(token), JSON.stringify(grant), 'EX', ttlSeconds);
      } else {
        const now = Date.now();
        for (const [k, v] of memory) if (v.expires <= now) memory.delete(k);
        memory.set(key(token), { grant, expires: expiresAt.getTime() });
      }
      return { token, expiresAt };
    },
    async open(token, { use }) {
      if (!TOKEN.test(token)) return null;
      const k = key(token);
      if (client) {
        const raw = use ? await client.getdel(k) : await client.get(k);
        return raw ? (JSON.parse(raw) as ZipGrant) : null;
      }
      const hit = memory.get(k);
      if (!hit || hit.expires <= Date.now()) {
        memory.delete(k);
        return null;
      }
      if (use) memory.delete(k);
      return hit.grant;
    },
  };
}
