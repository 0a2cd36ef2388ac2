type Range = { start: number; end: number };

/** A single `bytes=` range; null = serve everything (absent, multiple ranges, or not bytes); 'invalid' = 416. */
export function parseRange(header: string | undefined, size: number): Range | null | 'invalid' {
  if (!header) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return header.includes(',') || !header.startsWith('bytes=') ? null : 'invalid';
  const [, a, b] = match;
  if (a === '' && b === '') return 'invalid';
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0 || size === 0) return 'invalid';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (start >= size || end < start) return 'invalid';
  return { start, end };
}

/** Whether a request starts a download (a click): a GET of everything, or of a range from byte 0. */
export const startsDownload = (method: string, range: ReturnType<typeof parseRange>) =>
  method === 'GET' && (range === null || (range !== 'invalid' && range.start === 0));
