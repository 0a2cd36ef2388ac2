import type { FileDetailStats, FileStats } from '@tagdrop/contracts';

/** A click: one open of a file through /f/{id} or /s/{token}. */
export interface ClickEvent {
  fileId: string;
  ip: string;
  userAgent: string | undefined;
  at: Date;
}

export interface FlushResult {
  /** Files whose pending counts reached PostgreSQL in this run. */
  files: number;
  /** Clicks moved into PostgreSQL in this run. */
  clicks: number;
}

/** Click statistics: live counters in Redis (or memory), history in PostgreSQL. */
export interface StatsService {
  /** Counts one click; never throws and never delays the download (failures are logged and measured). */
  recordClick(event: ClickEvent): void;
  /** Summaries with the 30-day history, for the single-file object, by file id (zeros for files never clicked). */
  summaries(fileIds: string[]): Promise<Map<string, FileDetailStats>>;
  /** Totals only, for list items: one Redis round trip for the whole page while the totals are cached. */
  totals(fileIds: string[]): Promise<Map<string, FileStats>>;
  /** Drops the cached statistics (and download metadata tokens) of deleted files. */
  forget(fileIds: string[]): Promise<void>;
  /**
   * Download metadata tokens (downloads/file-cache.ts): the file's current token (created when it has none),
   * read before its row; null while the live store is unavailable (no caching then).
   */
  metaToken(fileId: string): Promise<string | null>;
  /**
   * In one round trip: whether `token` is still the file's token and, if so, the click counted (when given).
   * False when stale or the live store fails: nothing was counted, the caller reads the row.
   */
  clickIfCurrent(fileId: string, token: string, event: ClickEvent | null): Promise<boolean>;
  /** After a change to these files' rows committed: every instance's cached rows of them stop matching at once. */
  dropTokens(fileIds: string[]): Promise<void>;
  /**
   * Moves the pending counters into PostgreSQL (job flush-click-stats). Idempotent: a crash at any point
   * neither loses nor double-counts a click; the next run finishes the work. `touch` is called between chunks.
   */
  flush(options?: { touch?: () => Promise<unknown> }): Promise<FlushResult>;
}

export const emptyTotals = (): FileStats => ({ clicks: 0, unique_visitors: 0, last_click_at: null });
export const emptyStats = (): FileDetailStats => ({ ...emptyTotals(), daily: [] });
