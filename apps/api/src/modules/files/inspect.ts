import { Transform, type TransformCallback } from 'node:stream';
import { fileTypeFromBuffer } from 'file-type';
import { ContentDigest } from '../../storage/digest.js';

/** Digests (sha256, size, first bytes) whatever flows through, optionally failing past a byte limit. */
export class Inspector extends Transform {
  private readonly digest = new ContentDigest();

  /** With a limit, the stream fails with `onLimit()` as soon as more bytes than that flow through. */
  constructor(private readonly limit?: { bytes: number; onLimit: () => Error }) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
    if (this.limit && this.digest.size + chunk.length > this.limit.bytes) {
      done(this.limit.onLimit());
      return;
    }
    this.digest.update(chunk);
    done(null, chunk);
  }

  async result(): Promise<{ sha256: string; mimeType: string; size: number }> {
    const { sha256, head, size } = this.digest.finish();
    return { sha256, mimeType: await sniff(head), size };
  }
}

/** The content type from the bytes themselves (never from the client); text if it decodes as UTF-8. */
export async function sniff(head: Buffer): Promise<string> {
  const detected = await fileTypeFromBuffer(head);
  if (detected) return detected.mime === 'application/xml' && isSvg(head) ? 'image/svg+xml' : detected.mime;
  if (head.length === 0) return 'application/octet-stream';
  if (head.includes(0)) return 'application/octet-stream';
  try {
    // A cut multi-byte sequence at the end of the sample is fine; anything else invalid is binary.
    new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, Math.max(0, head.length - 4)));
  } catch {
    return 'application/octet-stream';
  }
  // Markup is never plain text (it would be shown inline): HTML and SVG by their opening tags.
  if (isSvg(head)) return 'image/svg+xml';
  if (HTML_START.test(textStart(head))) return 'text/html';
  return 'text/plain';
}

/** The first characters after a BOM and whitespace, lowercased. */
const textStart = (head: Buffer) =>
  head
    .subarray(0, 1024)
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart()
    .toLowerCase();

/** The WHATWG MIME Sniffing patterns for HTML (a tag followed by a space or ">"). */
const HTML_START = /^<(!doctype html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p|!--)[\s>]/;

function isSvg(head: Buffer): boolean {
  const text = textStart(head);
  // <?xml ...?>, comments and a doctype may come first: skip them in one linear pass (no backtracking regex,
  // so a crafted upload cannot stall the event loop).
  let i = 0;
  for (;;) {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
    const rest = text.slice(i, i + 9);
    let end = -1;
    if (rest.startsWith('<!--')) {
      const close = text.indexOf('-->', i + 4);
      end = close < 0 ? -1 : close + 3;
    } else if (rest.startsWith('<?xml') || rest.startsWith('<!doctype')) {
      const close = text.indexOf('>', i);
      end = close < 0 ? -1 : close + 1;
    }
    if (end <= i) break;
    i = end;
  }
  return /^<svg[\s>]/.test(text.slice(i, i + 5));
}
