import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { FileStore } from '@tus/file-store';
import { ERRORS } from '@tus/utils';
import { RunningDigests, type UploadDigest } from './digest.js';
import { assertSafeKey, inBatches, type Storage } from './storage.js';

/**
 * FileStore that hashes bytes as they are written, so a finished upload needs no second read of the file.
 * The running state is valid only while every chunk of the upload passed through this process in order.
 */
class HashingFileStore extends FileStore {
  private readonly digests = new RunningDigests();

  constructor(private readonly options: { directory: string; expirationPeriodInMilliseconds: number }) {
    super(options);
  }

  override async write(readable: Parameters<FileStore['write']>[0], id: string, offset: number): Promise<number> {
    const chunk = this.digests.chunk(id, offset);
    // As FileStore.write, with a larger write buffer (fewer syscalls) and the hash computed on the way.
    const target = createWriteStream(path.join(this.options.directory, assertSafeKey(id)), {
      flags: 'r+',
      start: offset,
      highWaterMark: 1024 * 1024,
    });
    try {
      await pipeline(readable, chunk.tap, target);
    } catch {
      throw ERRORS.FILE_WRITE_ERROR;
    }
    const next = offset + chunk.received();
    chunk.done(next);
    return next;
  }

  override async remove(id: string): Promise<void> {
    this.digests.forget(id);
    return super.remove(id);
  }

  /** Drops the running hash of an upload whose bytes are gone (expired, terminated, swept). */
  forget(id: string): void {
    this.digests.forget(id);
  }

  takeDigest(id: string): UploadDigest | null {
    return this.digests.take(id);
  }
}

/** Files on the local disk under STORAGE_DIR, one file per key (tus writes there too). */
export function localStorage(root: string): Storage {
  const file = (key: string) => path.join(root, assertSafeKey(key));
  let ensured: Promise<unknown> | undefined;
  const ensureRoot = () => {
    ensured ??= fs.mkdir(root, { recursive: true });
    return ensured;
  };

  let tusStore: HashingFileStore | undefined;
  const storage: Storage = {
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
      // The object, its tus bookkeeping and a half-written multipart upload, whichever exist.
      const base = file(key);
      tusStore?.forget(key);
      await Promise.all(['', '.json', '.part'].map((suffix) => fs.rm(`${base}${suffix}`, { force: true })));
    },
    async deleteMany(keys) {
      // Three unlinks per key through libuv's small thread pool: enough in flight to keep it busy, no more.
      return { failed: await inBatches(keys, 32, (key) => storage.delete(key)) };
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
          yield { key, modifiedAt: st.mtime };
        } catch {
          // vanished meanwhile
        }
      }
    },
    tusDataStore({ expirationPeriodInMilliseconds }) {
      tusStore = new HashingFileStore({ directory: root, expirationPeriodInMilliseconds });
      return tusStore;
    },
    async takeUploadDigest(key) {
      return tusStore?.takeDigest(key) ?? null;
    },
    async truncateUpload(key, offset) {
      tusStore?.forget(key);
      await fs.truncate(file(key), offset);
    },
    async finalizeUpload(key) {
      await fs.rm(`${file(key)}.json`, { force: true });
    },
  };
  return storage;
}
