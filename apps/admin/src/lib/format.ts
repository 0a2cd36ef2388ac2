export { formatBytes } from '@tagdrop/contracts/file-kinds';

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function formatDate(iso: string | null | undefined): string {
  return iso ? dateTime.format(new Date(iso)) : '—';
}

/** The email address, else the phone number. */
export function identity(u: { email: string | null; phone: string | null }): string {
  return u.email ?? u.phone ?? '(unknown)';
}
