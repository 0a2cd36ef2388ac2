export { formatBytes } from '@tagdrop/contracts/file-kinds';

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function formatDay(iso: string): string {
  return new Date(`${iso}T00:00:00Z`).toLocaleDateString(undefined, {
    month: 'short',
    day: 'numeric',
    timeZone: 'UTC',
  });
}

/** ISO date-time → value of <input type="datetime-local"> in local time. */
export function toLocalInput(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Value of <input type="datetime-local"> → ISO date-time (UTC), or null when empty. */
export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** "#a, b c" → ["a", "b", "c"] */
export function parseHashtags(text: string): string[] {
  return [
    ...new Set(
      text
        .split(/[\s,]+/)
        .map((t) => t.replace(/^#+/, '').trim())
        .filter(Boolean),
    ),
  ];
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
];

/** "in 3 days", "in 5 hours", "in 1 minute" — the coarsest unit that fits (in the viewer's language). */
export function formatRelative(iso: string, now = Date.now()): string {
  const seconds = (new Date(iso).getTime() - now) / 1000;
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return rtf.format(Math.trunc(seconds / size), unit);
  }
  return rtf.format(Math.trunc(seconds / 60) || (seconds >= 0 ? 1 : -1), 'minute');
}

/** Time to expiry for a person: "in 3 days (Dec 7, 2026, 10:00 AM)", in their own time zone. */
export function formatExpiry(iso: string | null, now = Date.now()): string {
  if (!iso) return 'Never';
  return `${formatRelative(iso, now)} (${formatDate(iso)})`;
}

/** "2 of 5 downloads left", "No downloads left", "No limit". */
export function formatDownloadsLeft(file: { max_downloads: number | null; downloads_left: number | null }): string {
  if (file.max_downloads === null || file.downloads_left === null) return 'No limit';
  if (file.downloads_left === 0) return 'No downloads left';
  const left = file.downloads_left === 1 ? '1 download left' : `${file.downloads_left} downloads left`;
  return `${left} (of ${file.max_downloads})`;
}
