import type { Redis } from 'ioredis';
import { DAY_SET_TTL_SECONDS, dayCounts, type LiveState, type LiveStore, type TakenCounts } from './live-store.js';

/** Moves pending → inflight per file (unless an unsettled inflight remains), returns the inflight hashes. */
const TAKE = `
local prefix, batch = ARGV[1], ARGV[2]
local out = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local p, inf = prefix .. 'p:' .. id, prefix .. 'i:' .. id
  if redis.call('EXISTS', inf) == 0 then
    if redis.call('EXISTS', p) == 1 then
      redis.call('RENAME', p, inf)
      redis.call('HSET', inf, '_b', batch)
      redis.call('INCR', prefix .. 'v:' .. id)
      redis.call('EXPIRE', prefix .. 'v:' .. id, ${DAY_SET_TTL_SECONDS})
    end
  elseif redis.call('EXISTS', p) == 1 then
    redis.call('SADD', prefix .. 'dirty', id)
  end
  out[#out + 1] = redis.call('HGETALL', inf)
end
return out
`;

/**
 * One click, atomically and in one round trip: the pending day count (before the dirty mark, so a flush in
 * between never strands it), the dirty mark, lifetime and per-day HyperLogLogs, the last click time.
 * KEYS: pending, dirty, unique, dayUnique, last. ARGV: day, fileId, visitor, dayTtl, atMs.
 */
const RECORD = `
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('PFADD', KEYS[3], ARGV[3])
if redis.call('PFADD', KEYS[4], ARGV[3]) == 1 then redis.call('EXPIRE', KEYS[4], ARGV[4]) end
redis.call('SET', KEYS[5], ARGV[5])
return 1
`;

const OPEN_FLUSH = `
if redis.call('EXISTS', KEYS[1]) == 0 and redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('RENAME', KEYS[2], KEYS[1])
end
return redis.call('SCARD', KEYS[1])
`;

const CACHE_IF_VERSION = `
if (redis.call('GET', KEYS[1]) or '0') == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
`;

const pairs = (flat: string[]) => {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i] as string] = flat[i + 1] as string;
  return out;
};

/** Throws the first error of a pipeline/multi result, else returns the values. */
function values(results: [Error | null, unknown][] | null): unknown[] {
  if (!results) throw new Error('redis transaction aborted');
  return results.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

type ClickClient = Redis & {
  tagdropClick(
    ...args: [string, string, string, string, string, string, string, string, string, string]
  ): Promise<number>;
};

export function redisLiveStore(client: Redis, rootPrefix: string): LiveStore {
  const clicks = client as ClickClient;
  if (typeof clicks.tagdropClick !== 'function') client.defineCommand('tagdropClick', { numberOfKeys: 5, lua: RECORD });
  const prefix = `${rootPrefix}stats:`;
  const k = {
    pending: (id: string) => `${prefix}p:${id}`,
    inflight: (id: string) => `${prefix}i:${id}`,
    last: (id: string) => `${prefix}l:${id}`,
    unique: (id: string) => `${prefix}u:${id}`,
    dayUnique: (id: string, day: string) => `${prefix}u:${id}:${day}`,
    cache: (id: string) => `${prefix}c:${id}`,
    version: (id: string) => `${prefix}v:${id}`,
    dirty: `${prefix}dirty`,
    flushing: `${prefix}flushing`,
  };

  return {
    kind: 'redis',
    available: () => client.status === 'ready',
    whenAvailable(ms) {
      if (client.status === 'ready') return Promise.resolve(true);
      return new Promise((resolve) => {
        const done = (ok: boolean) => {
          clearTimeout(timer);
          client.off('ready', onReady);
          resolve(ok);
        };
        const onReady = () => done(true);
        const timer = setTimeout(() => done(false), ms);
        client.on('ready', onReady);
      });
    },
    async record({ fileId, day, visitor, atMs }) {
      // EVALSHA (ioredis falls back to EVAL once per connection when the script is not cached).
      await clicks.tagdropClick(
        k.pending(fileId),
        k.dirty,
        k.unique(fileId),
        k.dayUnique(fileId, day),
        k.last(fileId),
        day,
        fileId,
        visitor,
        String(DAY_SET_TTL_SECONDS),
        String(atMs),
      );
    },
    async read(ids) {
      const multi = client.multi();
      for (const id of ids) {
        multi
          .hgetall(k.pending(id))
          .hgetall(k.inflight(id))
          .get(k.last(id))
          .pfcount(k.unique(id))
          .get(k.cache(id))
          .get(k.version(id));
      }
      const v = values(await multi.exec());
      return ids.map((_, i): LiveState => {
        const [pending, inflight, last, unique, cached, version] = v.slice(i * 6, i * 6 + 6) as [
          Record<string, string>,
          Record<string, string>,
          string | null,
          number,
          string | null,
          string | null,
        ];
        return {
          pending: dayCounts(pending),
          inflight: inflight._b ? { batch: inflight._b, days: dayCounts(inflight) } : null,
          lastClickMs: last ? Number(last) : null,
          unique: Number(unique) || 0,
          cached,
          version: version ?? '0',
        };
      });
    },
    async versions(ids) {
      if (ids.length === 0) return [];
      const v = await client.mget(ids.map(k.version));
      return v.map((x) => x ?? '0');
    },
    async cache(id, version, value, ttlSeconds) {
      await client.eval(CACHE_IF_VERSION, 2, k.version(id), k.cache(id), version, value, String(ttlSeconds));
    },
    async openFlush() {
      return Number(await client.eval(OPEN_FLUSH, 2, k.flushing, k.dirty));
    },
    async flushingChunk(n) {
      return (await client.srandmember(k.flushing, n)) as string[];
    },
    async take(ids, batch) {
      if (ids.length === 0) return [];
      const hashes = (await client.eval(TAKE, 0, prefix, batch, ...ids)) as string[][];
      const taken = ids.map((id, i) => {
        const hash = pairs(hashes[i] ?? []);
        return hash._b ? { id, batch: hash._b, days: dayCounts(hash) } : null;
      });
      // Unique-visitor estimates and the last click, read after the move (best effort by nature).
      const pipe = client.pipeline();
      for (const t of taken) {
        if (!t) continue;
        pipe.pfcount(k.unique(t.id)).get(k.last(t.id));
        for (const day of Object.keys(t.days)) pipe.pfcount(k.dayUnique(t.id, day));
      }
      const v = values(await pipe.exec());
      let at = 0;
      return taken.map((t): TakenCounts | null => {
        if (!t) return null;
        const unique = Number(v[at++]) || 0;
        const last = v[at++] as string | null;
        const dayUnique: Record<string, number> = {};
        for (const day of Object.keys(t.days)) dayUnique[day] = Number(v[at++]) || 0;
        return {
          fileId: t.id,
          batch: t.batch,
          days: t.days,
          dayUnique,
          unique,
          lastClickMs: last ? Number(last) : null,
        };
      });
    },
    async settle(ids, missing) {
      if (ids.length === 0) return;
      const multi = client.multi();
      for (const id of ids) {
        multi.del(k.inflight(id)).incr(k.version(id)).expire(k.version(id), DAY_SET_TTL_SECONDS);
      }
      multi.srem(k.flushing, ...ids);
      values(await multi.exec());
      if (missing.length > 0) await this.forget(missing);
    },
    async forget(ids) {
      if (ids.length === 0) return;
      // Per-day HyperLogLogs are left to their TTL (35 days): keyed hashes only, and unreachable once the
      // file is gone; deleting them would cost ~36 keys per file in large expiry sweeps.
      const keys = ids.flatMap((id) => [
        k.pending(id),
        k.inflight(id),
        k.last(id),
        k.unique(id),
        k.cache(id),
        k.version(id),
      ]);
      const pipe = client.pipeline();
      for (let i = 0; i < keys.length; i += 1000) pipe.unlink(...keys.slice(i, i + 1000));
      pipe.srem(k.dirty, ...ids);
      values(await pipe.exec());
    },
  };
}
