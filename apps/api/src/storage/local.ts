import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FileStore } from '@tus/file-store';
import { assertSafeKey, type Storage } from './storage.js';

/** Files on the local disk under STORAGE_DIR, one file per key (tus writes there too). */
export function localStorage(root: string): Storage {
  const file = (key: string) => path.join(root, assertSafeKey(key));
  let ensured: Promise<unknown> | undefined;
  const ensureRoot = () => {
    ensured ??= fs.mkdir(root, { recursive: true });
    return ensured;
  };

  return {
    kind: 'local',
    async put(key, body) {
      await ensureRoot();
      const target = file(key);
      const partial = `${target}.part`;
      try {
        await pipeline(body, createWriteStream(partial, { flags: 'wx' }));
        await fs.rename(partial, target);
      } catch (err) {
        await fs.rm(partial, { force: true });
        throw err;
      }
      const st = await fs.stat(target);
      return { size: st.size, modifiedAt: st.mtime };
    },
    async read(key, range) {
      const target = file(key);
      await fs.access(target);
      return createReadStream(
        target,
        range ? { start: range.start, end: range.end, highWaterMark: 256 * 1024 } : { highWaterMark: 256 * 1024 },
      );
    },
    async stat(key) {
      try {
        const st = await fs.stat(file(key));
        return { size: st.size, modifiedAt: st.mtime };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
    },
    async delete(key) {
      await Promise.all([fs.rm(file(key), { force: true }), fs.rm(`${file(key)}.json`, { force: true })]);
    },
    async *list() {
      await ensureRoot();
      const dir = await fs.opendir(root);
      for await (const entry of dir) {
        if (!entry.isFile()) continue;
        const key = entry.name.replace(/\.(json|part)$/, '');
        if (entry.name !== key && entry.name.endsWith('.json')) continue; // bookkeeping of an upload
        try {
          const st = await fs.stat(path.join(root, entry.name));
          yield { key: entry.name === key ? key : entry.name, modifiedAt: st.mtime };
        } catch {
          // vanished meanwhile
        }
      }
    },
    tusDataStore({ expirationPeriodInMilliseconds }) {
      return new FileStore({ directory: root, expirationPeriodInMilliseconds });
    },
    async finalizeUpload(key) {
      await fs.rm(`${file(key)}.json`, { force: true });
    },
  };
}
