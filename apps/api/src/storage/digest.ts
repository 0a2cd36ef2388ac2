import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
/** Bytes kept from the start of a file for content sniffing (what file-type needs). */
export const HEAD_BYTES = 4100;

export interface UploadDigest {
  sha256: string;
  head: Buffer;
  size: number;
}

/** sha256, size and the first bytes of a byte stream, fed chunk by chunk (possibly across several requests). */
export class ContentDigest {
  private readonly hash = createHash('sha256');
  private readonly head: Buffer[] = [];
  private headLength = 0;
  size = 0;

  update(chunk: Buffer): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    if (this.headLength < HEAD_BYTES) {
      const part = chunk.subarray(0, HEAD_BYTES - this.headLength);
      this.head.push(part);
      this.headLength += part.length;
    }
  }

  /** Ends the digest (call once). */
  finish(): UploadDigest {
    return { sha256: this.hash.digest('hex'), head: Buffer.concat(this.head), size: this.size };
  }
}

/**
 * The running digests of tus uploads, one per upload id, each valid only while every chunk of its upload passed
 * through this process in order (a restart, or a chunk written elsewhere, drops it: the caller then reads the
 * object once). Shared by the storage drivers' tus datastores.
 */
export class RunningDigests {
  private readonly running = new Map<string, { offset: number; digest: ContentDigest }>();

  /**
   * Starts a chunk written at `offset`: `tap` hashes the bytes on their way to the store, `done(newOffset)` keeps
   * the digest when the store took exactly the bytes that passed (else it is dropped).
   */
  chunk(id: string, offset: number): { tap: Transform; received(): number; done(newOffset: number): void } {
    const previous = this.running.get(id);
    this.running.delete(id);
    const state =
      offset === 0
        ? { offset: 0, digest: new ContentDigest() }
        : previous && previous.offset === offset
          ? previous
          : undefined;
    let received = 0;
    const tap = new Transform({
      highWaterMark: 1024 * 1024,
      transform(chunk: Buffer, _enc, done) {
        received += chunk.length;
        state?.digest.update(chunk);
        done(null, chunk);
      },
    });
    return {
      tap,
      received: () => received,
      done: (newOffset) => {
        if (!state || newOffset !== offset + received) return;
        state.offset = newOffset;
        this.running.set(id, state);
      },
    };
  }

  forget(id: string): void {
    this.running.delete(id);
  }

  take(id: string): UploadDigest | null {
    const state = this.running.get(id);
    this.running.delete(id);
    return state ? state.digest.finish() : null;
  }
}
