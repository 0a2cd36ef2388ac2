import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DataStore, ERRORS, type Upload } from '@tus/utils';
import { AppError } from '../errors.js';
import type { Logger } from '../infra/logger.js';
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
  /** Takes back a length `declare` recorded (the PATCH that carried it failed): deferred again. */
  undeclare: (ownerId: string, id: string, size: number) => Promise<void>;
  log: Pick<Logger, 'error'>;
}

/**
 * The datastore @tus/server writes through, around any storage driver's own (local files, S3):
 *
 * - checksum: a chunk that carries Upload-Checksum (header or trailer) is verified, and one that does not
 *   match, or that was cut short, leaves no byte behind, so the offset does not move (460). Where the store
 *   can shorten an upload (local files: truncate) the chunk is written as it arrives and cut off again on a
 *   mismatch: no extra copy on the happy path. Where it cannot (S3 writes parts that cannot be taken back) the
 *   chunk is spooled to a local file while it is hashed and handed to the store only once it is verified.
 * - creation-defer-length: a length declared by a PATCH takes effect with that PATCH's chunk, never without it:
 *   declared in the database first (checked against the size cap and the quota under the owner's lock), then in
 *   the store right before the chunk reaches it (after it is verified, where it is spooled), and taken back from
 *   both if the chunk then fails (checksum 460, cut short, too long, the store failing), unless all the upload's
 *   bytes are stored by then. A refused PATCH leaves the length deferred, as it found it.
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

  /** @tus/server calls this (under the upload's lock) right before it writes the chunk: noted for write(). */
  override async declareUploadLength(id: string, size: number) {
    const request = tusRequests.getStore();
    if (!request) throw ERRORS.UNKNOWN_ERROR;
    request.declaredLength = { id, size };
  }

  override async write(stream: Readable, id: string, offset: number): Promise<number> {
    const request = tusRequests.getStore();
    const declared = request?.declaredLength?.id === id ? request.declaredLength.size : undefined;
    if (!request || declared === undefined) return this.guardedWrite(stream, id, offset, async () => {});
    request.declaredLength = undefined;
    try {
      await this.options.declare(request.user.id, id, declared);
    } catch (err) {
      throw err instanceof AppError ? tusError(err) : err;
    }
    try {
      return await this.guardedWrite(stream, id, offset, () => this.inner.declareUploadLength(id, declared));
    } catch (err) {
      await this.withdrawLength(request.user.id, id, declared).catch((failure) =>
        this.options.log.error({ err: failure, id }, 'could not take back the length of a failed PATCH'),
      );
      throw err;
    }
  }

  /** A PATCH that declared `size` failed: the length is deferred again, in the store and the database. */
  private async withdrawLength(ownerId: string, id: string, size: number) {
    const now = await this.inner.getUpload(id).catch(() => undefined);
    // All the bytes it declares are stored (the chunk landed, then something after it failed): the length stands,
    // and the upload is finished by the next HEAD (recover.ts).
    if (now?.size === size && now.offset === size) return;
    // Both stores write their upload record from this object as JSON: an undefined size is a deferred one.
    if (now?.size !== undefined) await this.inner.declareUploadLength(id, undefined as unknown as number);
    await this.options.undeclare(ownerId, id, size);
  }

  /**
   * Writes a chunk, verified against its checksum if it carries one; `beforeStore` runs right before the store
   * sees its first byte (after verification, where the chunk is spooled).
   */
  private async guardedWrite(
    stream: Readable,
    id: string,
    offset: number,
    beforeStore: () => Promise<void>,
  ): Promise<number> {
    const request = tusRequests.getStore();
    const expected = request?.checksum;
    if (!request || !expected) {
      await beforeStore();
      return this.inner.write(stream, id, offset);
    }
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
          await beforeStore();
          pipeline(stream, digests).catch(() => {}); // errors reach the store's own pipeline through `digests`
          written = await this.inner.write(digests, id, offset);
          verify();
        } catch (err) {
          await rollback(offset);
          throw err;
        }
        return written;
      }
      return await this.spooled(stream, digests, id, offset, async () => {
        verify();
        await beforeStore();
      });
    } catch (err) {
      throw err instanceof AppError ? tusError(err) : err;
    }
  }

  private async spooled(
    stream: Readable,
    digests: ChunkDigests,
    id: string,
    offset: number,
    verified: () => Promise<void>,
  ): Promise<number> {
    await fs.mkdir(this.options.spoolDir, { recursive: true });
    const file = path.join(this.options.spoolDir, `${id}.${randomUUID()}`);
    try {
      await pipeline(stream, digests, createWriteStream(file, { highWaterMark: 1024 * 1024 }));
      await verified();
      return await this.inner.write(createReadStream(file, { highWaterMark: 1024 * 1024 }), id, offset);
    } finally {
      await fs.rm(file, { force: true });
    }
  }
}
