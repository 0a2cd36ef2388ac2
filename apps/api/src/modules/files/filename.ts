import { MAX_FILENAME_LENGTH } from '@tagdrop/contracts';

/**
 * A display name safe to store and to put in Content-Disposition: the last path segment only (no
 * directories, no traversal), no control characters, trimmed, at most 255 characters.
 */
export function sanitizeFilename(raw: string | null | undefined, fallback = 'file'): string {
  const last = (raw ?? '').split(/[/\\]/).pop() ?? '';
  const cleaned = last
    .normalize('NFC')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
    .replace(/^[\s.]+/, '')
    .trim();
  if (!cleaned) return fallback;
  if (cleaned.length <= MAX_FILENAME_LENGTH) return cleaned;
  const dot = cleaned.lastIndexOf('.');
  const ext = dot > 0 && cleaned.length - dot <= 16 ? cleaned.slice(dot) : '';
  return cleaned.slice(0, MAX_FILENAME_LENGTH - ext.length) + ext;
}
