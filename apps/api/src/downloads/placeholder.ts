import { createHash } from 'node:crypto';
import { type FileKind, fileKind, typeLabel } from '@tagdrop/contracts';

/** Colour of each kind's placeholder (background, foreground: WCAG AA contrast for the label). */
const COLOURS: Record<FileKind, [string, string]> = {
  image: ['#dbeafe', '#1e3a8a'],
  video: ['#ede9fe', '#4c1d95'],
  audio: ['#fce7f3', '#831843'],
  pdf: ['#fee2e2', '#7f1d1d'],
  text: ['#e5e7eb', '#111827'],
  archive: ['#fef3c7', '#78350f'],
  other: ['#f3f4f6', '#374151'],
};

/**
 * The picture shown where a file has no thumbnail: a small SVG generated from its kind and type label (our own
 * markup, never user content; the label is at most five letters and digits).
 */
export function placeholderSvg(mimeType: string, name: string): { body: string; etag: string } {
  const kind = fileKind(mimeType);
  const label =
    typeLabel(mimeType, name)
      .replace(/[^A-Z0-9]/g, '')
      .slice(0, 5) || 'FILE';
  const [bg, fg] = COLOURS[kind];
  const body =
    '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240" viewBox="0 0 320 240">' +
    `<rect width="320" height="240" fill="${bg}"/>` +
    `<path d="M130 60h44l26 26v94h-70z" fill="none" stroke="${fg}" stroke-width="6" stroke-linejoin="round"/>` +
    `<path d="M174 60v26h26" fill="none" stroke="${fg}" stroke-width="6" stroke-linejoin="round"/>` +
    `<text x="160" y="214" text-anchor="middle" font-family="system-ui,sans-serif" font-size="28" ` +
    `font-weight="700" fill="${fg}">${label}</text></svg>`;
  return { body, etag: `"ph-${createHash('sha256').update(body).digest('hex').slice(0, 16)}"` };
}
