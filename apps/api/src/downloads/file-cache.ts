import type { FileRow } from '@tagdrop/db';
import type { StatsService } from '../modules/stats/stats.types.js';

/** Rows kept per instance (least recently used dropped), and the longest one is kept without being re-read. */
const MAX_ENTRIES = 10_000;
const MAX_AGE_MS = 60_000;

export interface CachedFile {
  file: FileRow;
  token: string;
  at: number;
}

/**
 * The rows of public files for anonymous /f/{id} downloads, so that a download needs no PostgreSQL round trip.
 * Each row is kept with the file's metadata token (stats live store, read before the row); every change to a
 * file's row drops its token after committing (stats.dropTokens), and a hit is served only after the click's
 * own Redis call confirmed the token (stats.clickIfCurrent): a change, privacy, expiry date, deletion or new
 * content takes effect on every instance at once, with no extra round trip. Only rows a plain request may be
 * served from are kept: public, without a download limit (the limit is counted in PostgreSQL).
 */
export function fileMetaCache(stats: Pick<StatsService, 'metaToken'>) {
  const entries = new Map<string, CachedFile>();
  return {
    get(id: string): CachedFile | undefined {
      const hit = entries.get(id);
      if (!hit) return undefined;
      entries.delete(id);
      if (Date.now() - hit.at > MAX_AGE_MS) return undefined;
      entries.set(id, hit); // most recently used last
      return hit;
    },
    drop(id: string) {
      entries.delete(id);
    },
    /** Reads the row (after taking the file's token) and keeps it when a plain request may be served from it. */
    async load(id: string, read: () => Promise<FileRow | undefined>): Promise<FileRow | undefined> {
      const token = await stats.metaToken(id);
      const file = await read();
      if (token && file?.is_public && file.max_downloads === null) {
        entries.delete(id);
        entries.set(id, { file, token, at: Date.now() });
        if (entries.size > MAX_ENTRIES) entries.delete(entries.keys().next().value as string);
      }
      return file;
    },
  };
}

export type FileMetaCache = ReturnType<typeof fileMetaCache>;
