import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DataStore, ERRORS, type Upload } from '@tus/utils';
import { AppError } from '../errors.js';
import type { Storage } from '../storage/index.js';
import { ChunkDigests, checksumMismatch } from './checksum.js';
import { tusError, tusRequests } from './context.js';

export interface GuardedStoreOptions {
  /**
   * The storage driver; its optional truncateUpload cuts an unfinished upload back to an offset. Without it,
   * chunks that carry a checksum are spooled to `spoolDir` and verified before the store sees a byte.
   */
  storage: Pick<Storage, 'truncateUpload'>;
  spoolDir: string;
  /** Records a deferred length under the owner's quota lock; throws an AppError when it must not change. */
  declare: (ownerId: string, id: string, size: number) => Promise<void>;
}

/**
 * The datastore @tus/server writes through, around any storage driver's own (local files, S3):
 *
 * - checksum: a chunk that carries Upload-Checksum (header or trailer) is verified, and one that does not
 *   match, or that was cut short, leaves no byte behind, so the offset does not move (460). Where the store
 *   can shorten an upload (local files: truncate) the chunk is written as it arrives and cut off again on a
 *   mismatch: no extra copy on the happy path. Where it cannot (S3 writes parts that cannot be taken back) the
 *   chunk is spooled to a local file while it is hashed and handed to the store only once it is verified.
 * - creation-defer-length: a deferred length is declared in the database first, checked against the size cap
 *   and the quota under the owner's lock, and only then in the store.
 */
export class GuardedStore extends DataStore {
  constructor(
    private readonly inner: DataStore,
    private readonly options: GuardedStoreOptions,
  ) {
    super();
    this.extensions = inner.extensions;
  }

  override create(upload: Upload) {
    return this.inner.create(upload);
  }
  override remove(id: string) {
    return this.inner.remove(id);
  }
  override getUpload(id: string) {
    return this.inner.getUpload(id);
  }
  override deleteExpired() {
    return this.inner.deleteExpired();
  }
  override getExpiration() {
    return this.inner.getExpiration();
  }

  override async declareUploadLength(id: string, size: number) {
    const request = tusRequests.getStore();
    if (!request) throw ERRORS.UNKNOWN_ERROR;
    try {
      await this.options.declare(request.user.id, id, size);
    } catch (err) {
      throw err instanceof AppError ? tusError(err) : err;
    }
    return this.inner.declareUploadLength(id, size);
  }

  override async write(stream: Readable, id: string, offset: number): Promise<number> {
    const request = tusRequests.getStore();
    const expected = request?.checksum;
    if (!request || !expected) return this.inner.write(stream, id, offset);
    const digests = new ChunkDigests(expected);
    /** The whole body arrived (not cut by an abort or a lock handed to another request). */
    const complete = () => request.raw.complete;
    const verify = () => {
      if (!complete()) throw ERRORS.ABORTED;
      if (!digests.matches(expected)) throw checksumMismatch();
    };
    const { storage } = this.options;
    try {
      if (storage.truncateUpload) {
        const rollback = (at: number) => storage.truncateUpload?.(id, at);
        let written: number;
        try {
          pipeline(stream, digests).catch(() => {}); // errors reach the store's own pipeline through `digests`
          written = await this.inner.write(digests, id, offset);
          verify();
        } catch (err) {
          await rollback(offset);
          throw err;
        }
        return written;
      }
      return await this.spooled(stream, digests, id, offset, verify);
    } catch (err) {
      throw err instanceof AppError ? tusError(err) : err;
    }
  }

  private async spooled(
    stream: Readable,
    digests: ChunkDigests,
    id: string,
    offset: number,
    verify: () => void,
  ): Promise<number> {
    await fs.mkdir(this.options.spoolDir, { recursive: true });
    const file = path.join(this.options.spoolDir, `${id}.${randomUUID()}`);
    try {
      await pipeline(stream, digests, createWriteStream(file, { highWaterMark: 1024 * 1024 }));
      verify();
      return await this.inner.write(createReadStream(file, { highWaterMark: 1024 * 1024 }), id, offset);
    } finally {
      await fs.rm(file, { force: true });
    }
  }
}
