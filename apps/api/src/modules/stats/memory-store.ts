import { type CacheKind, DAY_SET_TTL_SECONDS, dayOf, type LiveStore, type TakenCounts } from './live-store.js';

interface FileLive {
  pending: Map<string, number>;
  inflight: { batch: string; days: Map<string, number> } | null;
  lastClickMs: number | null;
  /** Exact sets stand in for HyperLogLogs (one process only; capped to bound memory). */
  visitors: Set<string>;
  dayVisitors: Map<string, Set<string>>;
  version: number;
  cached: Partial<Record<CacheKind, { value: string; expiresAt: number }>>;
}

const MAX_VISITORS = 100_000;

/** The in-process twin of the Redis store (REDIS_URL unset): same rules, one process only. */
export function memoryLiveStore(): LiveStore {
  const files = new Map<string, FileLive>();
  const tokens = new Map<string, { token: string; expiresAt: number }>();
  let dirty = new Set<string>();
  let flushing = new Set<string>();
  const get = (id: string) => {
    let f = files.get(id);
    if (!f) {
      f = {
        pending: new Map(),
        inflight: null,
        lastClickMs: null,
        visitors: new Set(),
        dayVisitors: new Map(),
        version: 0,
        cached: {},
      };
      files.set(id, f);
    }
    return f;
  };
  const add = (set: Set<string>, v: string) => {
    if (set.size < MAX_VISITORS) set.add(v);
  };

  const record: LiveStore['record'] = async ({ fileId, day, visitor, atMs }) => {
    const f = get(fileId);
    f.pending.set(day, (f.pending.get(day) ?? 0) + 1);
    dirty.add(fileId);
    add(f.visitors, visitor);
    let dayed = f.dayVisitors.get(day);
    if (!dayed) {
      dayed = new Set();
      f.dayVisitors.set(day, dayed);
      const oldest = dayOf(atMs - DAY_SET_TTL_SECONDS * 1000);
      for (const d of f.dayVisitors.keys()) if (d < oldest) f.dayVisitors.delete(d);
    }
    add(dayed, visitor);
    f.lastClickMs = atMs;
  };
  const currentToken = (id: string) => {
    const t = tokens.get(id);
    if (t && t.expiresAt <= Date.now()) tokens.delete(id);
    return t && t.expiresAt > Date.now() ? t.token : null;
  };

  return {
    kind: 'memory',
    available: () => true,
    whenAvailable: async () => true,
    record,
    async read(ids, kind) {
      const now = Date.now();
      return ids.map((id) => {
        const f = files.get(id);
        if (!f) return { pending: {}, inflight: null, lastClickMs: null, unique: 0, cached: null, version: '0' };
        const cached = f.cached[kind];
        return {
          pending: Object.fromEntries(f.pending),
          inflight: f.inflight ? { batch: f.inflight.batch, days: Object.fromEntries(f.inflight.days) } : null,
          lastClickMs: f.lastClickMs,
          unique: f.visitors.size,
          cached: cached && cached.expiresAt > now ? cached.value : null,
          version: String(f.version),
        };
      });
    },
    async versions(ids) {
      return ids.map((id) => String(files.get(id)?.version ?? 0));
    },
    async cache(id, version, value, ttlSeconds, kind) {
      const f = files.get(id);
      if (!f && version !== '0') return;
      const target = f ?? get(id);
      if (String(target.version) === version)
        target.cached[kind] = { value, expiresAt: Date.now() + ttlSeconds * 1000 };
    },
    async openFlush() {
      if (flushing.size === 0 && dirty.size > 0) {
        flushing = dirty;
        dirty = new Set();
      }
      return flushing.size;
    },
    async flushingChunk(n) {
      return [...flushing].slice(0, n);
    },
    async take(ids, batch) {
      return ids.map((id): TakenCounts | null => {
        const f = files.get(id);
        if (!f) return null;
        if (!f.inflight) {
          if (f.pending.size > 0) {
            f.inflight = { batch, days: f.pending };
            f.pending = new Map();
            f.version++;
          }
        } else if (f.pending.size > 0) {
          dirty.add(id);
        }
        if (!f.inflight) return null;
        const days = Object.fromEntries(f.inflight.days);
        const dayUnique: Record<string, number> = {};
        for (const day of Object.keys(days)) dayUnique[day] = f.dayVisitors.get(day)?.size ?? 0;
        return {
          fileId: id,
          batch: f.inflight.batch,
          days,
          dayUnique,
          unique: f.visitors.size,
          lastClickMs: f.lastClickMs,
        };
      });
    },
    async settle(ids, missing) {
      for (const id of ids) {
        const f = files.get(id);
        if (f) {
          f.inflight = null;
          f.version++;
        }
        flushing.delete(id);
      }
      await this.forget(missing);
    },
    async forget(ids) {
      for (const id of ids) {
        files.delete(id);
        dirty.delete(id);
        tokens.delete(id);
      }
    },
    async metaToken(id, fresh, ttlSeconds) {
      const current = currentToken(id);
      if (current) return current;
      tokens.set(id, { token: fresh, expiresAt: Date.now() + ttlSeconds * 1000 });
      return fresh;
    },
    async recordIfCurrent(id, token, click) {
      if (currentToken(id) !== token) return false;
      if (click) await record(click);
      return true;
    },
    async dropTokens(ids) {
      for (const id of ids) tokens.delete(id);
    },
  };
}
