import type { RedisClient } from '../../infra/redis.js';
import {
  type CacheKind,
  DAY_SET_TTL_SECONDS,
  dayCounts,
  dayOf,
  type LiveState,
  type LiveStore,
  type TakenCounts,
} from './live-store.js';

/**
 * Moves pending → inflight per file (unless an unsettled inflight remains), returns the inflight hashes.
 * KEYS: dirty, then pending, inflight, version of each file (one shard). ARGV: batch, then the file ids.
 */
const TAKE = `
local batch = ARGV[1]
local out = {}
for i = 2, #ARGV do
  local p, inf, v = KEYS[3 * i - 4], KEYS[3 * i - 3], KEYS[3 * i - 2]
  if redis.call('EXISTS', inf) == 0 then
    if redis.call('EXISTS', p) == 1 then
      redis.call('RENAME', p, inf)
      redis.call('HSET', inf, '_b', batch)
      redis.call('INCR', v)
      redis.call('EXPIRE', v, ${DAY_SET_TTL_SECONDS})
    end
  elseif redis.call('EXISTS', p) == 1 then
    redis.call('SADD', KEYS[1], ARGV[i])
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

/**
 * The live state of a page of files in one atomic script (one command, where a MULTI of six commands per file
 * cost ioredis ~120 command objects, promises and timers per list page). KEYS: per file pending, inflight,
 * last, unique, cache, version. Returns per file {pending, inflight, last, unique, cached, version}, '' for none.
 */
const READ = `
local out = {}
for i = 1, #KEYS, 6 do
  out[#out + 1] = {
    redis.call('HGETALL', KEYS[i]),
    redis.call('HGETALL', KEYS[i + 1]),
    redis.call('GET', KEYS[i + 2]) or '',
    redis.call('PFCOUNT', KEYS[i + 3]),
    redis.call('GET', KEYS[i + 4]) or '',
    redis.call('GET', KEYS[i + 5]) or '',
  }
end
return out
`;

/**
 * A download served from an instance's cached row (downloads/file-cache.ts): if the file's metadata token is
 * still the one the row was read under, the click (when ARGV[2] is '1', as RECORD) and 1; else 0, nothing done.
 * KEYS: token, pending, dirty, unique, dayUnique, last. ARGV: token, count, day, fileId, visitor, dayTtl, atMs.
 */
const RECORD_IF_CURRENT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '1' then
  redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
  redis.call('SADD', KEYS[3], ARGV[4])
  redis.call('PFADD', KEYS[4], ARGV[5])
  if redis.call('PFADD', KEYS[5], ARGV[5]) == 1 then redis.call('EXPIRE', KEYS[5], ARGV[6]) end
  redis.call('SET', KEYS[6], ARGV[7])
end
return 1
`;

/** The file's metadata token, set to ARGV[1] for ARGV[2] seconds when it has none. KEYS: token. */
const META_TOKEN = `
local t = redis.call('GET', KEYS[1])
if t then return t end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return ARGV[1]
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

type ClickClient = RedisClient & {
  tagdropClick(
    ...args: [string, string, string, string, string, string, string, string, string, string]
  ): Promise<number>;
  tagdropClickIfCurrent(...args: string[]): Promise<number>;
  tagdropMetaToken(key: string, fresh: string, ttl: string): Promise<string>;
  tagdropRead(numKeys: number, ...keys: string[]): Promise<[string[], string[], string, number, string, string][]>;
};

/**
 * How many slots the live statistics are spread over. Every key of a file, and the dirty and flushing sets of
 * its shard, carry the shard's hash tag (`{stats:N}`), so each script, transaction and pipeline below touches
 * one slot (Redis Cluster), while the files spread over the cluster's nodes (256 tags fall within ±6% of an
 * even share on 3 or 6 masters with evenly split slots; 16 would leave one master of three with half).
 */
export const STATS_SHARDS = 256;

/** The shard of a file id (FNV-1a of the id, so any id spreads evenly). */
export function shardOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return (h >>> 0) % STATS_SHARDS;
}

/** Ids grouped by shard, keeping the position of each in the input. */
function byShard(ids: string[]) {
  const groups = new Map<number, { ids: string[]; at: number[] }>();
  ids.forEach((id, i) => {
    const shard = shardOf(id);
    const group = groups.get(shard) ?? { ids: [], at: [] };
    group.ids.push(id);
    group.at.push(i);
    groups.set(shard, group);
  });
  return [...groups.entries()].map(([shard, group]) => ({ shard, ...group }));
}

/** Runs `work` once per shard present among the ids (all at once: one round trip), results in input order. */
async function perShard<T>(ids: string[], work: (shard: number, ids: string[]) => Promise<T[]>): Promise<T[]> {
  const out = new Array<T>(ids.length);
  await Promise.all(
    byShard(ids).map(async (group) => {
      const results = await work(group.shard, group.ids);
      group.at.forEach((position, j) => {
        out[position] = results[j] as T;
      });
    }),
  );
  return out;
}

export function redisLiveStore(client: RedisClient, rootPrefix: string): LiveStore {
  const clicks = client as ClickClient;
  if (typeof clicks.tagdropClick !== 'function') client.defineCommand('tagdropClick', { numberOfKeys: 5, lua: RECORD });
  if (typeof clicks.tagdropRead !== 'function') client.defineCommand('tagdropRead', { lua: READ });
  if (typeof clicks.tagdropClickIfCurrent !== 'function') {
    client.defineCommand('tagdropClickIfCurrent', { numberOfKeys: 6, lua: RECORD_IF_CURRENT });
    client.defineCommand('tagdropMetaToken', { numberOfKeys: 1, lua: META_TOKEN });
  }
  const tag = (shard: number) => `${rootPrefix}{stats:${shard}}:`;
  const at = (id: string) => tag(shardOf(id));
  const k = {
    pending: (id: string) => `${at(id)}p:${id}`,
    inflight: (id: string) => `${at(id)}i:${id}`,
    last: (id: string) => `${at(id)}l:${id}`,
    unique: (id: string) => `${at(id)}u:${id}`,
    dayUnique: (id: string, day: string) => `${at(id)}u:${id}:${day}`,
    cache: (id: string, kind: CacheKind) => `${at(id)}${kind === 'detail' ? 'c' : 'ct'}:${id}`,
    version: (id: string) => `${at(id)}v:${id}`,
    meta: (id: string) => `${at(id)}m:${id}`,
    dirty: (shard: number) => `${tag(shard)}dirty`,
    flushing: (shard: number) => `${tag(shard)}flushing`,
  };
  const shards = Array.from({ length: STATS_SHARDS }, (_, i) => i);
  /** Shards whose flushing set openFlush() found non-empty; flushingChunk() takes from the first until empty. */
  let toFlush: number[] = [];

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
        k.dirty(shardOf(fileId)),
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
    read(ids, kind) {
      // One script (atomic for each file, which is what the version checks need): for the whole page on a single
      // Redis (one round trip), one per shard on a cluster (a script stays within one slot).
      const readGroup = async (group: string[]): Promise<LiveState[]> => {
        if (group.length === 0) return [];
        const keys: string[] = [];
        for (const id of group) {
          keys.push(k.pending(id), k.inflight(id), k.last(id), k.unique(id), k.cache(id, kind), k.version(id));
        }
        const rows = await clicks.tagdropRead(keys.length, ...keys);
        return rows.map(([pendingFlat, inflightFlat, last, unique, cached, version]): LiveState => {
          const inflight = pairs(inflightFlat);
          return {
            pending: dayCounts(pairs(pendingFlat)),
            inflight: inflight._b ? { batch: inflight._b, days: dayCounts(inflight) } : null,
            lastClickMs: last ? Number(last) : null,
            unique: Number(unique) || 0,
            cached: cached || null,
            version: version || '0',
          };
        });
      };
      return client.isCluster ? perShard(ids, (_shard, group) => readGroup(group)) : readGroup(ids);
    },
    versions(ids) {
      return perShard(ids, async (_shard, group) => (await client.mget(group.map(k.version))).map((x) => x ?? '0'));
    },
    async cache(id, version, value, ttlSeconds, kind) {
      await client.eval(CACHE_IF_VERSION, 2, k.version(id), k.cache(id, kind), version, value, String(ttlSeconds));
    },
    async openFlush() {
      const counts = await Promise.all(
        shards.map(async (shard) => Number(await client.eval(OPEN_FLUSH, 2, k.flushing(shard), k.dirty(shard)))),
      );
      toFlush = shards.filter((shard) => (counts[shard] ?? 0) > 0);
      return counts.reduce((n, c) => n + c, 0);
    },
    async flushingChunk(n) {
      // The ids of one shard at a time, so that take() and settle() stay within one slot.
      for (let shard = toFlush[0]; shard !== undefined; toFlush.shift(), shard = toFlush[0]) {
        const ids = (await client.srandmember(k.flushing(shard), n)) as string[];
        if (ids.length > 0) return ids;
      }
      return [];
    },
    async take(ids, batch) {
      if (ids.length === 0) return [];
      const hashes = await perShard(ids, async (shard, group) => {
        const keys = [k.dirty(shard), ...group.flatMap((id) => [k.pending(id), k.inflight(id), k.version(id)])];
        return (await client.eval(TAKE, keys.length, ...keys, batch, ...group)) as string[][];
      });
      const taken = ids.map((id, i) => {
        const hash = pairs(hashes[i] ?? []);
        return hash._b ? { id, batch: hash._b, days: dayCounts(hash) } : null;
      });
      // Unique-visitor estimates and the last click, read after the move (best effort by nature).
      const present = new Map(taken.flatMap((t) => (t ? [[t.id, Object.keys(t.days)] as const] : [])));
      const extras = await perShard([...present.keys()], async (_shard, group) => {
        const pipe = client.pipeline();
        for (const id of group) {
          pipe.pfcount(k.unique(id)).get(k.last(id));
          for (const day of present.get(id) ?? []) pipe.pfcount(k.dayUnique(id, day));
        }
        const v = values(await pipe.exec());
        let next = 0;
        return group.map((id) => {
          const unique = Number(v[next++]) || 0;
          const last = v[next++] as string | null;
          const dayUnique: Record<string, number> = {};
          for (const day of present.get(id) ?? []) dayUnique[day] = Number(v[next++]) || 0;
          return { unique, last, dayUnique };
        });
      });
      let i = 0;
      return taken.map((t): TakenCounts | null => {
        if (!t) return null;
        const { unique, last, dayUnique } = extras[i++] as (typeof extras)[number];
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
      await perShard(ids, async (shard, group) => {
        const multi = client.multi();
        for (const id of group) {
          multi.del(k.inflight(id)).incr(k.version(id)).expire(k.version(id), DAY_SET_TTL_SECONDS);
        }
        multi.srem(k.flushing(shard), ...group);
        values(await multi.exec());
        return group;
      });
      if (missing.length > 0) await this.forget(missing);
    },
    async forget(ids) {
      if (ids.length === 0) return;
      // Per-day HyperLogLogs are left to their TTL (35 days): keyed hashes only, and unreachable once the
      // file is gone; deleting them would cost ~36 keys per file in large expiry sweeps.
      await perShard(ids, async (shard, group) => {
        const keys = group.flatMap((id) => [
          k.pending(id),
          k.inflight(id),
          k.last(id),
          k.unique(id),
          k.cache(id, 'detail'),
          k.cache(id, 'totals'),
          k.version(id),
          k.meta(id),
        ]);
        const pipe = client.pipeline();
        for (let i = 0; i < keys.length; i += 1000) pipe.unlink(...keys.slice(i, i + 1000));
        pipe.srem(k.dirty(shard), ...group);
        values(await pipe.exec());
        return group;
      });
    },
    metaToken: (id, fresh, ttlSeconds) => clicks.tagdropMetaToken(k.meta(id), fresh, String(ttlSeconds)),
    async recordIfCurrent(id, token, click) {
      // Six keys of the file's slot either way (a script names every key it may touch).
      const day = click?.day ?? dayOf(Date.now());
      const keys = [k.meta(id), k.pending(id), k.dirty(shardOf(id)), k.unique(id), k.dayUnique(id, day), k.last(id)];
      const args = click
        ? ['1', day, id, click.visitor, String(DAY_SET_TTL_SECONDS), String(click.atMs)]
        : ['0', '', '', '', '', ''];
      return (await clicks.tagdropClickIfCurrent(...keys, token, ...args)) === 1;
    },
    async dropTokens(ids) {
      if (ids.length === 0) return;
      await perShard(ids, async (_shard, group) => {
        await client.unlink(...group.map(k.meta));
        return group;
      });
    },
  };
}
