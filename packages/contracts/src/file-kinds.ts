/**
 * What kind of file a content type is, for previews and placeholders (shared by the API and the SPAs).
 * Content types are the server's, sniffed from the bytes; never a client's claim.
 */
export type FileKind = 'image' | 'video' | 'audio' | 'pdf' | 'text' | 'archive' | 'other';

/** Image types the server makes thumbnails of (GIF: its first frame). */
export const THUMBNAIL_TYPES: readonly string[] = ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/avif'];

/** Types a browser shows in <img>/<video>/<audio> (and serves inline from /f and /s). */
const PLAYABLE = {
  image: ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif', 'image/bmp'],
  video: ['video/mp4', 'video/webm', 'video/ogg'],
  audio: ['audio/mpeg', 'audio/ogg', 'audio/wav', 'audio/webm', 'audio/flac', 'audio/mp4'],
} as const;

const ARCHIVES = [
  'application/zip',
  'application/gzip',
  'application/x-tar',
  'application/x-7z-compressed',
  'application/x-rar-compressed',
  'application/x-bzip2',
  'application/x-xz',
  'application/zstd',
];

/**
 * Text the preview shows as text (highlighted when it looks like code, always as text nodes): plain text, and
 * markup the server never serves inline (HTML, SVG, XML), whose source is shown instead.
 */
const TEXT_TYPES = [
  'text/plain',
  'text/csv',
  'text/markdown',
  'text/html',
  'image/svg+xml',
  'application/json',
  'application/xml',
];

export function fileKind(mimeType: string): FileKind {
  const mime = mimeType.split(';')[0]?.trim().toLowerCase() ?? '';
  for (const kind of ['image', 'video', 'audio'] as const) {
    if ((PLAYABLE[kind] as readonly string[]).includes(mime)) return kind;
  }
  if (mime === 'application/pdf') return 'pdf';
  if (TEXT_TYPES.includes(mime)) return 'text';
  if (ARCHIVES.includes(mime)) return 'archive';
  return 'other';
}

/** A short label for a type (the placeholder's text): the extension of the name, else from the type. */
export function typeLabel(mimeType: string, name = ''): string {
  const ext = /\.([a-z0-9]{1,5})$/i.exec(name)?.[1];
  if (ext) return ext.toUpperCase();
  const sub = mimeType.split('/')[1]?.split(/[;+.-]/)[0] ?? '';
  return (/^[a-z0-9]{1,5}$/i.test(sub) ? sub : 'FILE').toUpperCase();
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** A size as people read it: 512 B, 4.0 KB, 325 KB, 1.2 GB (powers of 1024). */
export function formatBytes(bytes: number): string {
  let n = bytes;
  let i = 0;
  while (n >= 1024 && i < UNITS.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)} ${UNITS[i]}`;
}
