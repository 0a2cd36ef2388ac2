import { MAX_FILENAME_LENGTH } from '@tagdrop/contracts';

/**
 * Bidirectional formatting characters: embeddings and overrides (U+202A–U+202E), isolates (U+2066–U+2069) and the
 * marks (U+200E, U+200F, U+061C). In a name they only serve to disguise it: `\u202Egnp.exe` shows as `exe.png`.
 */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/g;

/**
 * A display name safe to store and to put in Content-Disposition: the last path segment only (no
 * directories, no traversal), no control or bidirectional formatting characters, trimmed, at most 255 characters.
 */
export function sanitizeFilename(raw: string | null | undefined, fallback = 'file'): string {
  const last = (raw ?? '').split(/[/\\]/).pop() ?? '';
  const cleaned = last
    .normalize('NFC')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
    .replace(BIDI_CONTROLS, '')
    .replace(/^[\s.]+/, '')
    .trim();
  if (!cleaned) return fallback;
  if (cleaned.length <= MAX_FILENAME_LENGTH) return cleaned;
  const dot = cleaned.lastIndexOf('.');
  const ext = dot > 0 && cleaned.length - dot <= 16 ? cleaned.slice(dot) : '';
  return cleaned.slice(0, MAX_FILENAME_LENGTH - ext.length) + ext;
}
