/**
 * An API URL (absolute, from PUBLIC_URL) as a path on this page's origin, so the page always asks its own server
 * (the SPA's Content-Security-Policy allows only 'self').
 */
export function sameOrigin(url: string): string {
  const parsed = new URL(url, window.location.origin);
  return `${parsed.pathname}${parsed.search}`;
}

/** The token of a private link (/s/{token} or /share/{token}). */
export function shareTokenOf(shareUrl: string): string | undefined {
  return new URL(shareUrl, window.location.origin).pathname.split('/').filter(Boolean).pop();
}
