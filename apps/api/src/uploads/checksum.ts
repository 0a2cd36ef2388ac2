import { createHash, type Hash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { AppError } from '../errors.js';

/**
 * tus checksum and checksum-trailer extensions: `Upload-Checksum: <algorithm> <base64 digest>` on a PATCH
 * (or a creation-with-upload POST), or the same sent as an HTTP trailer of a chunked request that announced
 * it with `Trailer: Upload-Checksum`. The digest covers the bytes of that one request.
 */
export const CHECKSUM_ALGORITHMS = ['sha1', 'md5', 'sha256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];
const DIGEST_BYTES: Record<ChecksumAlgorithm, number> = { sha1: 20, md5: 16, sha256: 32 };

export type ExpectedChecksum =
  | { source: 'header'; algorithm: ChecksumAlgorithm; digest: Buffer }
  | { source: 'trailer'; request: IncomingMessage };

const isAlgorithm = (name: string): name is ChecksumAlgorithm =>
  (CHECKSUM_ALGORITHMS as readonly string[]).includes(name);

/** Parses an Upload-Checksum value; a malformed one or an unsupported algorithm is a 400. */
export function parseChecksum(value: string): { algorithm: ChecksumAlgorithm; digest: Buffer } {
  const match = /^([A-Za-z0-9-]+) ([A-Za-z0-9+/]+={0,2})$/.exec(value.trim());
  if (!match) {
    throw new AppError('invalid_checksum', 'Upload-Checksum must be "<algorithm> <base64 digest>".', {
      fields: { 'upload-checksum': ['Malformed'] },
    });
  }
  const algorithm = (match[1] as string).toLowerCase();
  if (!isAlgorithm(algorithm)) {
    throw new AppError(
      'invalid_checksum',
      `Unsupported checksum algorithm; use one of ${CHECKSUM_ALGORITHMS.join(', ')}.`,
      {
        fields: { 'upload-checksum': ['Unsupported algorithm'] },
      },
    );
  }
  const digest = Buffer.from(match[2] as string, 'base64');
  if (digest.length !== DIGEST_BYTES[algorithm]) {
    throw new AppError(
      'invalid_checksum',
      `A ${algorithm} digest is ${DIGEST_BYTES[algorithm]} bytes, base64 encoded.`,
      {
        fields: { 'upload-checksum': ['Wrong digest length'] },
      },
    );
  }
  return { algorithm, digest };
}

/** The checksum a request's body must match, from its headers (undefined: none). */
export function expectedChecksumOf(request: IncomingMessage): ExpectedChecksum | undefined {
  const headers: IncomingHttpHeaders = request.headers;
  const header = headers['upload-checksum'];
  const announced = (headers.trailer ?? '').split(',').some((t) => t.trim().toLowerCase() === 'upload-checksum');
  if (typeof header === 'string' && announced) {
    // Two checksums for one body: whichever were checked, the client might believe the other was.
    throw new AppError('invalid_checksum', 'Send Upload-Checksum as a header or as a trailer, not both.', {
      fields: { 'upload-checksum': ['Sent as a header and announced as a trailer'] },
    });
  }
  if (typeof header === 'string') return { source: 'header', ...parseChecksum(header) };
  if (!announced) return undefined;
  if (!/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) {
    throw new AppError('invalid_checksum', 'An Upload-Checksum trailer needs Transfer-Encoding: chunked.', {
      fields: { trailer: ['Needs a chunked request'] },
    });
  }
  return { source: 'trailer', request };
}

/** Hashes what flows through with every algorithm asked for. */
export class ChunkDigests extends Transform {
  private readonly hashes: Map<ChecksumAlgorithm, Hash>;

  constructor(expected: ExpectedChecksum) {
    super({ highWaterMark: 1024 * 1024 });
    // A trailer names its algorithm only after the body: hash with each supported one meanwhile.
    const algorithms = expected.source === 'header' ? [expected.algorithm] : CHECKSUM_ALGORITHMS;
    this.hashes = new Map(algorithms.map((a) => [a, createHash(a)]));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
    for (const hash of this.hashes.values()) hash.update(chunk);
    done(null, chunk);
  }

  /**
   * Whether the bytes match the expected checksum (read from the trailers once the body has ended). A trailer
   * that is missing, malformed or names an unsupported algorithm is a 400.
   */
  matches(expected: ExpectedChecksum): boolean {
    let want: { algorithm: ChecksumAlgorithm; digest: Buffer };
    if (expected.source === 'header') {
      want = expected;
    } else {
      const trailer = expected.request.trailers['upload-checksum'];
      if (!trailer) {
        throw new AppError('invalid_checksum', 'The announced Upload-Checksum trailer did not arrive.', {
          fields: { 'upload-checksum': ['Missing trailer'] },
        });
      }
      want = parseChecksum(trailer);
    }
    const got = this.hashes.get(want.algorithm)?.digest();
    return Boolean(got && got.length === want.digest.length && timingSafeEqual(got, want.digest));
  }
}

export const checksumMismatch = () =>
  new AppError('checksum_mismatch', 'The bytes do not match Upload-Checksum; they were discarded, send them again.');
