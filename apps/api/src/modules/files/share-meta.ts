import { fileKind, formatBytes } from '@tagdrop/contracts/file-kinds';
import type { AppDeps } from '../../deps.types.js';
import type { PageHead } from '../../http/page-head.js';
import { isExpired } from './files.dto.js';
import { findSharedFile } from './files.listing.js';
import { isExhausted } from './link-rules.js';
import { thumbnailUrl } from './links.js';

const generic = (status: number, baseUrl: string, url: string): PageHead => ({
  status,
  title: 'Tagdrop',
  meta: [
    { property: 'og:site_name', content: 'Tagdrop' },
    { property: 'og:type', content: 'website' },
    { property: 'og:title', content: 'A file shared on Tagdrop' },
    { property: 'og:description', content: 'Open the link to see it.' },
    { property: 'og:url', content: `${baseUrl}${url}` },
    { name: 'twitter:card', content: 'summary' },
    { name: 'robots', content: 'noindex, nofollow' },
  ],
});

/**
 * What a private link's landing page (/share/{token}) tells link previews (chat apps, social sites): only what the
 * link already reveals to whoever holds it — the name, size, type and description, and the thumbnail of an image
 * once it is made (its own type; an image without one yet has no og:image).
 * Unknown or rotated links and expired files get the site's generic tags (and 404 / 410), so a guessed token
 * learns nothing. Private links are never to be indexed.
 */
export async function shareHead(deps: Pick<AppDeps, 'db' | 'keys'>, token: string, baseUrl: string): Promise<PageHead> {
  const url = `/share/${encodeURIComponent(token)}`;
  const file = await findSharedFile(deps.db, token);
  if (!file) return generic(404, baseUrl, url);
  if (isExpired(file) || isExhausted(file)) return generic(410, baseUrl, url);
  // A password-protected link tells nothing about its file before the password is given.
  if (file.link_password_hash) return generic(200, baseUrl, url);
  const facts = `${formatBytes(Number(file.size))} · ${file.mime_type}`;
  const description = file.description ? `${facts} — ${file.description.slice(0, 200)}` : facts;
  // Only a thumbnail that was made (its key and its type, as /thumb serves it): until then /thumb answers an SVG
  // placeholder, which previews do not show as og:image — no picture rather than one of the wrong type.
  const imageType = fileKind(file.mime_type) === 'image' && file.thumbnail_key ? file.thumbnail_type : null;
  const image = imageType ? thumbnailUrl(deps, file, { baseUrl, canManage: false, shareToken: token }) : null;
  return {
    status: 200,
    title: `${file.name} · Tagdrop`,
    meta: [
      { property: 'og:site_name', content: 'Tagdrop' },
      { property: 'og:type', content: 'website' },
      { property: 'og:title', content: file.name },
      { property: 'og:description', content: description },
      { property: 'og:url', content: `${baseUrl}${url}` },
      ...(image && imageType
        ? [
            { property: 'og:image', content: image },
            { property: 'og:image:type', content: imageType },
            { property: 'og:image:alt', content: file.name },
          ]
        : []),
      { name: 'twitter:card', content: image ? 'summary_large_image' : 'summary' },
      { name: 'twitter:title', content: file.name },
      { name: 'twitter:description', content: description },
      ...(image ? [{ name: 'twitter:image', content: image }] : []),
      { name: 'description', content: description },
      { name: 'robots', content: 'noindex, nofollow' },
    ],
  };
}
