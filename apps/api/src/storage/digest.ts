import { createHash } from 'node:crypto';

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
