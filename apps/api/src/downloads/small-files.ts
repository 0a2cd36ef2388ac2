import type { Storage } from '../storage/storage.js';

/** Files up to this size are kept in memory once read (downloads of small files skip open/read/close). */
export const SMALL_FILE_BYTES = 64 * 1024;
const CACHE_BYTES = 32 * 1024 * 1024;

/**
 * The bytes of small files by storage key, least recently used dropped past 32 MiB. Safe on every instance
 * without invalidation: the bytes under a storage key never change (new content gets a new key), and each
 * request still looks the file's row up first (deleted, private, expired or re-linked files never reach this).
 */
export function smallFileCache(storage: Pick<Storage, 'read'>) {
  const entries = new Map<string, Buffer>();
  let bytes = 0;
  return {
    async get(key: string, size: number): Promise<Buffer | null> {
      if (size > SMALL_FILE_BYTES) return null;
      const hit = entries.get(key);
      if (hit) {
        entries.delete(key);
        entries.set(key, hit);
        return hit;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of await storage.read(key)) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      if (body.length !== size) return null; // not what the row says: serve by streaming, never cache
      entries.set(key, body);
      bytes += body.length;
      for (const [oldKey, old] of entries) {
        if (bytes <= CACHE_BYTES) break;
        entries.delete(oldKey);
        bytes -= old.length;
      }
      return body;
    },
  };
}
