/**
 * The live half of click statistics: counters not yet flushed to PostgreSQL, unique-visitor estimates,
 * the last click time and the summary cache. Redis in production (redis-store.ts); an in-process twin
 * with the same behaviour when REDIS_URL is unset (memory-store.ts, one process only).
 *
 * Per file: `pending` (UTC day → clicks since the last flush) and, during a flush, `inflight` (the same,
 * moved atomically out of `pending` and tagged with the flush batch id). A `version` changes whenever
 * counts move from pending to inflight or from inflight to PostgreSQL, so a reader can tell whether its
 * Redis and PostgreSQL reads saw the same moment and whether a cached history is still valid.
 */
export interface LiveState {
  pending: Record<string, number>;
  inflight: { batch: string; days: Record<string, number> } | null;
  lastClickMs: number | null;
  /** HyperLogLog estimate of distinct visitors since the live store began (best effort). */
  unique: number;
  /** Cached history (`<version>|<json>`) of the kind asked for, or null. */
  cached: string | null;
  version: string;
}

/** Counts taken for one file by a flush batch. */
export interface TakenCounts {
  fileId: string;
  batch: string;
  days: Record<string, number>;
  /** Distinct visitors per day of `days` (HyperLogLog estimates). */
  dayUnique: Record<string, number>;
  unique: number;
  lastClickMs: number | null;
}

export interface LiveClick {
  fileId: string;
  day: string;
  /** Keyed hash of IP and user agent (never the raw IP). */
  visitor: string;
  atMs: number;
}

/**
 * Which cached history: `detail` (totals and the 30-day history, for the single-file object) or `totals`
 * (lifetime totals only, for list items).
 */
export type CacheKind = 'detail' | 'totals';

export interface LiveStore {
  readonly kind: 'redis' | 'memory';
  /** False while Redis is disconnected: callers fail fast instead of queueing. */
  available(): boolean;
  /** Waits (up to ms) for the connection: for background work started right after boot. */
  whenAvailable(ms: number): Promise<boolean>;
  /** One click: pending day count, dirty mark, unique visitors (lifetime and day), last click. */
  record(click: LiveClick): Promise<void>;
  /**
   * A consistent snapshot of the live state of each of these files, with the cached history of `kind` (atomic
   * per file: one read per Redis hash slot, all sent at once).
   */
  read(fileIds: string[], kind: CacheKind): Promise<LiveState[]>;
  versions(fileIds: string[]): Promise<string[]>;
  /** Stores a history summary if the file's version is still `version`. */
  cache(fileId: string, version: string, value: string, ttlSeconds: number, kind: CacheKind): Promise<void>;
  /** Starts a flush: unless an earlier flush was interrupted, the dirty files become the flushing set. */
  openFlush(): Promise<number>;
  /** Up to n files of the flushing set (they stay there until settled). */
  flushingChunk(n: number): Promise<string[]>;
  /**
   * Moves each file's pending counts to inflight, tagged with `batch` (a file whose earlier inflight was
   * never settled keeps it, with its old batch id), and returns the inflight counts (null: nothing).
   */
  take(fileIds: string[], batch: string): Promise<(TakenCounts | null)[]>;
  /** After the counts are in PostgreSQL: drops inflight, bumps versions, leaves the flushing set. */
  settle(fileIds: string[], missing: string[]): Promise<void>;
  /** Drops everything live about these files (they were deleted), their metadata tokens included. */
  forget(fileIds: string[]): Promise<void>;
  /**
   * Download metadata tokens (downloads/file-cache.ts): the file's current token, set to `fresh` (for
   * `ttlSeconds`) when it has none. A change to the file drops it (dropTokens), so a row read after its token
   * is current exactly while that token is; an absent token never matches a cached one.
   */
  metaToken(fileId: string, fresh: string, ttlSeconds: number): Promise<string>;
  /** If the file's token is still `token`: records `click` (when given) and answers true; else false, nothing done. */
  recordIfCurrent(fileId: string, token: string, click: LiveClick | null): Promise<boolean>;
  dropTokens(fileIds: string[]): Promise<void>;
}

export const DAY_MS = 86_400_000;
/** How long per-day unique-visitor sets live (the summary covers 30 days). */
export const DAY_SET_TTL_SECONDS = 35 * 86_400;
export const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
export const isDay = (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s);

/** The last n UTC days, oldest first, ending today. */
export function lastDays(n: number, nowMs = Date.now()): string[] {
  const today = Math.floor(nowMs / DAY_MS) * DAY_MS;
  return Array.from({ length: n }, (_, i) => dayOf(today - (n - 1 - i) * DAY_MS));
}

/** Parses a hash (field → integer string) into day counts, ignoring bookkeeping fields. */
export function dayCounts(hash: Record<string, string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [field, value] of Object.entries(hash)) {
    const n = Number(value);
    if (isDay(field) && Number.isFinite(n) && n > 0) out[field] = n;
  }
  return out;
}
