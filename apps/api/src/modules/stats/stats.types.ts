import type { FileStats } from '@tagdrop/contracts';

/** A click: one open of a file through /f/{id} or /s/{token}. */
export interface ClickEvent {
  fileId: string;
  ip: string;
  userAgent: string | undefined;
  at: Date;
}

/** Click statistics: live counters in Redis (or memory), history in PostgreSQL. */
export interface StatsService {
  /** Counts one click; never throws and never delays the download (failures are logged and measured). */
  recordClick(event: ClickEvent): void;
  /** Summaries for the detail views, by file id (zeros for files never clicked). */
  summaries(fileIds: string[]): Promise<Map<string, FileStats>>;
  /** Drops the cached statistics of deleted files. */
  forget(fileIds: string[]): Promise<void>;
}

export const emptyStats = (): FileStats => ({ clicks: 0, unique_visitors: 0, last_click_at: null, daily: [] });
