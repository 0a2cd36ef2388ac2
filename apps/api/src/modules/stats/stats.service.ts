import { randomUUID } from 'node:crypto';
import type { FileDetailStats } from '@tagdrop/contracts';
import type { Db } from '@tagdrop/db';
import type { Config } from '../../env.js';
import type { Logger } from '../../infra/logger.js';
import type { RedisHandle } from '../../infra/redis.js';
import { hmacHex, type Keys } from '../../infra/secrets.js';
import { type CacheKind, dayOf, type LiveState, type LiveStore, lastDays } from './live-store.js';
import { memoryLiveStore } from './memory-store.js';
import { redisLiveStore } from './redis-store.js';
import { clickCountFailures, clicksFlushed, clicksRecorded } from './stats.metrics.js';
import { applyBatch, emptyHistory, type History, loadHistories, pruneApplied } from './stats.queries.js';
import type { ClickEvent, StatsService } from './stats.types.js';

export interface StatsDeps {
  db: Db;
  redis: RedisHandle;
  log: Logger;
  keys: Pick<Keys, 'visitor'>;
  config: Pick<Config, 'STATS_CACHE_TTL_SECONDS'>;
}

const WINDOW_DAYS = 30;
const FLUSH_CHUNK = 500;
/** How long a statistics read may wait for Redis before the page is served from PostgreSQL alone. */
const READ_TIMEOUT_MS = 1_000;
/** How long a download metadata token lives unused-or-not (a cached row under it is re-read after that). */
const META_TOKEN_TTL_SECONDS = 3_600;

const withTimeout = <T>(promise: Promise<T>, ms: number) =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`live store timed out after ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

/**
 * Click statistics. A click is one Redis pipeline (pending day count + dirty mark, HyperLogLogs of a keyed
 * visitor hash, last click time); flush() moves pending counts into PostgreSQL exactly once; summaries are
 * PostgreSQL history (cached in Redis, valid while the file's version is unchanged) plus the live counts.
 */
export function createStatsService(deps: StatsDeps, options: { store?: LiveStore } = {}): StatsService {
  const store: LiveStore =
    options.store ?? (deps.redis.client ? redisLiveStore(deps.redis.client, deps.redis.prefix) : memoryLiveStore());

  // At most one log line per 10 s while the live store is failing, with how many failures it stands for.
  let lastLogged = 0;
  let suppressed = 0;
  const failed = (operation: 'record' | 'read' | 'forget' | 'token', err: unknown) => {
    clickCountFailures.inc({ operation });
    const now = Date.now();
    if (now - lastLogged < 10_000) {
      suppressed++;
      return;
    }
    deps.log.error(
      { err: err instanceof Error ? err.message : String(err), operation, suppressed },
      'click statistics: live store unavailable',
    );
    lastLogged = now;
    suppressed = 0;
  };

  const visitorOf = (ip: string, ua: string | undefined) =>
    hmacHex(deps.keys.visitor, `${ip}\n${ua ?? ''}`).slice(0, 32);
  const liveClick = (event: ClickEvent) => {
    const atMs = event.at.getTime();
    return { fileId: event.fileId, day: dayOf(atMs), visitor: visitorOf(event.ip, event.userAgent), atMs };
  };

  const parseCached = (live: LiveState): History | null => {
    if (!live.cached || live.inflight) return null;
    const bar = live.cached.indexOf('|');
    if (bar < 0 || live.cached.slice(0, bar) !== live.version) return null;
    try {
      return JSON.parse(live.cached.slice(bar + 1)) as History;
    } catch {
      return null;
    }
  };

  function combine(
    days: string[],
    history: History,
    live: LiveState | null,
    inflightApplied: boolean,
  ): FileDetailStats {
    const add: Record<string, number> = { ...(live?.pending ?? {}) };
    if (live?.inflight && !inflightApplied) {
      for (const [day, n] of Object.entries(live.inflight.days)) add[day] = (add[day] ?? 0) + n;
    }
    const clicks = history.clicks + sum(add);
    const lastMs = Math.max(history.lastClickMs ?? 0, live?.lastClickMs ?? 0);
    return {
      clicks,
      unique_visitors: Math.min(clicks, Math.max(history.unique, live?.unique ?? 0)),
      last_click_at: lastMs > 0 ? new Date(lastMs).toISOString() : null,
      daily: days.map((date) => ({ date, clicks: (history.daily[date] ?? 0) + (add[date] ?? 0) })),
    };
  }

  async function readLive(ids: string[], kind: CacheKind): Promise<LiveState[] | null> {
    if (!store.available()) {
      failed('read', new Error('not connected'));
      return null;
    }
    try {
      return await withTimeout(store.read(ids, kind), READ_TIMEOUT_MS);
    } catch (err) {
      failed('read', err);
      return null;
    }
  }

  /**
   * Summaries of these files: with the 30-day history (`detail`) or totals only (`totals`, no daily query and
   * a cache of its own, so a list page is one Redis round trip while its totals are cached).
   */
  async function summarize(fileIds: string[], kind: CacheKind): Promise<Map<string, FileDetailStats>> {
    const ids = [...new Set(fileIds)];
    const out = new Map<string, FileDetailStats>();
    if (ids.length === 0) return out;
    const days = kind === 'detail' ? lastDays(WINDOW_DAYS) : [];
    const from = kind === 'detail' ? (days[0] as string) : null;

    let live = await readLive(ids, kind);
    if (!live) {
      // Redis is down: the history in PostgreSQL is still worth showing.
      const { histories } = await loadHistories(deps.db, ids, from, []);
      for (const id of ids) out.set(id, combine(days, histories.get(id) ?? emptyHistory(), null, false));
      return out;
    }

    const liveById = new Map(ids.map((id, i) => [id, live?.[i] as LiveState]));
    let todo: string[] = [];
    for (const id of ids) {
      const state = liveById.get(id) as LiveState;
      const cached = parseCached(state);
      if (cached) out.set(id, combine(days, cached, state, false));
      else todo.push(id);
    }

    // Redis first, then PostgreSQL, then Redis again: if a flush moved counts in between (the version
    // changed), read again, so a summary never counts a batch twice or misses it.
    for (let attempt = 0; todo.length > 0; attempt++) {
      const inflight = todo.flatMap((id) => {
        const f = liveById.get(id)?.inflight;
        return f ? [{ fileId: id, batch: f.batch }] : [];
      });
      const { histories, applied } = await loadHistories(deps.db, todo, from, inflight);
      const after = await store.versions(todo).catch(() => null);
      const unstable: string[] = [];
      for (const [i, id] of todo.entries()) {
        const state = liveById.get(id) as LiveState;
        if (after && after[i] !== state.version && attempt < 3) {
          unstable.push(id);
          continue;
        }
        const history = histories.get(id) ?? emptyHistory();
        out.set(id, combine(days, history, state, applied.has(`${id}|${state.inflight?.batch}`)));
        if (after && !state.inflight) {
          store
            .cache(
              id,
              state.version,
              `${state.version}|${JSON.stringify(history)}`,
              deps.config.STATS_CACHE_TTL_SECONDS,
              kind,
            )
            .catch(() => {});
        }
      }
      todo = unstable;
      if (todo.length > 0) {
        live = await readLive(todo, kind);
        if (!live) {
          const again = await loadHistories(deps.db, todo, from, []);
          for (const id of todo) out.set(id, combine(days, again.histories.get(id) ?? emptyHistory(), null, false));
          break;
        }
        for (const [i, id] of todo.entries()) liveById.set(id, live[i] as LiveState);
      }
    }
    return out;
  }

  return {
    recordClick(event) {
      try {
        if (!store.available()) {
          failed('record', new Error('not connected'));
          return;
        }
        store.record(liveClick(event)).then(
          () => clicksRecorded.inc(),
          (err) => failed('record', err),
        );
      } catch (err) {
        failed('record', err);
      }
    },

    summaries: (fileIds) => summarize(fileIds, 'detail'),

    async totals(fileIds) {
      const full = await summarize(fileIds, 'totals');
      return new Map(
        [...full].map(([id, { clicks, unique_visitors, last_click_at }]) => [
          id,
          { clicks, unique_visitors, last_click_at },
        ]),
      );
    },

    async forget(fileIds) {
      if (fileIds.length === 0) return;
      try {
        if (!store.available()) throw new Error('not connected');
        await store.forget(fileIds);
      } catch (err) {
        // The rows are gone (history cascades); leftover live keys are dropped by the next flush or expire.
        failed('forget', err);
      }
    },

    async metaToken(fileId) {
      if (!store.available()) return null;
      try {
        return await withTimeout(store.metaToken(fileId, randomUUID(), META_TOKEN_TTL_SECONDS), READ_TIMEOUT_MS);
      } catch (err) {
        failed('token', err);
        return null;
      }
    },

    async clickIfCurrent(fileId, token, event) {
      if (!store.available()) return false;
      try {
        const current = await withTimeout(
          store.recordIfCurrent(fileId, token, event ? liveClick(event) : null),
          READ_TIMEOUT_MS,
        );
        if (current && event) clicksRecorded.inc();
        return current;
      } catch (err) {
        // Answered as stale: the caller reads the row and counts the click itself (a reply lost after the
        // script ran would count that click twice; a timeout of a live Redis is rare).
        failed('token', err);
        return false;
      }
    },

    async dropTokens(fileIds) {
      if (fileIds.length === 0) return;
      try {
        if (!store.available()) throw new Error('not connected');
        await store.dropTokens(fileIds);
      } catch (err) {
        // Other instances keep serving the old row for at most the cache's lifetime (downloads/file-cache.ts).
        failed('token', err);
      }
    },

    async flush(opts = {}) {
      if (!(await store.whenAvailable(5_000))) {
        throw new Error('click statistics: live store unavailable, flush postponed');
      }
      const result = { files: 0, clicks: 0 };
      // Pass 1 finishes an interrupted flush (if any) or takes the dirty files; pass 2 takes what came meanwhile.
      for (let pass = 0; pass < 2; pass++) {
        if ((await store.openFlush()) === 0) break;
        for (let guard = 0; guard < 100_000; guard++) {
          const ids = await store.flushingChunk(FLUSH_CHUNK);
          if (ids.length === 0) break;
          const taken = await store.take(ids, randomUUID());
          const present = taken.filter((t) => t !== null);
          const { missing, clicks } = await applyBatch(deps.db, present);
          await store.settle(ids, missing);
          result.files += present.length - missing.length;
          result.clicks += clicks;
          clicksFlushed.inc(clicks);
          await opts.touch?.();
        }
      }
      await pruneApplied(deps.db);
      return result;
    },
  };
}
