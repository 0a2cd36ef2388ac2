import type { FileDto, FileListItemDto } from '@tagdrop/contracts';
import type { FileRow } from '@tagdrop/db';
import type { AuthUser } from '../auth/auth.service.js';
import { emptyStats, emptyTotals } from '../stats/stats.types.js';
import type { FilesDeps, FileWithTags } from './files.types.js';
import { thumbnailUrl } from './links.js';

const iso = (d: Date) => d.toISOString();

export function isExpired(file: Pick<FileRow, 'expires_at'>, now = new Date()): boolean {
  return file.expires_at !== null && file.expires_at <= now;
}

export const canManage = (user: AuthUser | null, file: Pick<FileRow, 'owner_id'>) =>
  Boolean(user && (user.id === file.owner_id || user.role === 'admin'));

/**
 * The fields every file object has, stats aside; the private link only for the owner and admins, only for
 * private files. `shareToken`: the viewer reached the file through its private link (its thumbnail is then
 * served through it).
 */
function fileFields(
  deps: FilesDeps,
  f: FileWithTags,
  viewer: AuthUser | null,
  baseUrl: string,
  shareToken?: string,
  unlock?: string,
): Omit<FileListItemDto, 'stats'> {
  const thumb = thumbnailUrl(deps, f, { baseUrl, canManage: canManage(viewer, f), shareToken });
  return {
    id: f.id,
    name: f.name,
    size: Number(f.size),
    mime_type: f.mime_type,
    sha256: f.sha256,
    description: f.description,
    hashtags: f.hashtags,
    is_public: f.is_public,
    expires_at: f.expires_at ? iso(f.expires_at) : null,
    created_at: iso(f.created_at),
    updated_at: iso(f.updated_at),
    download_url: `${baseUrl}/f/${f.id}`,
    share_url: !f.is_public && canManage(viewer, f) ? `${baseUrl}/s/${f.share_token}` : null,
    // Through a password-protected link, the thumbnail needs the visitor's unlock grant too.
    thumbnail_url: thumb && unlock ? `${thumb}&unlock=${encodeURIComponent(unlock)}` : thumb,
    has_link_password: f.link_password_hash !== null,
    max_downloads: f.max_downloads,
    downloads_left: f.max_downloads === null ? null : Math.max(0, f.max_downloads - f.download_count),
  };
}

/** List items: click totals for the whole page from one Redis round trip, no 30-day history. */
export async function toListItems(
  deps: FilesDeps,
  files: FileWithTags[],
  viewer: AuthUser | null,
  baseUrl: string,
): Promise<FileListItemDto[]> {
  const totals = await deps.stats.totals(files.map((f) => f.id));
  return files.map((f) => ({ ...fileFields(deps, f, viewer, baseUrl), stats: totals.get(f.id) ?? emptyTotals() }));
}

/** The single-file object: click totals and the 30-day history. */
export async function toFileDto(
  deps: FilesDeps,
  file: FileWithTags,
  viewer: AuthUser | null,
  baseUrl: string,
  shareToken?: string,
  unlock?: string,
): Promise<FileDto> {
  const stats = await deps.stats.summaries([file.id]);
  return {
    ...fileFields(deps, file, viewer, baseUrl, shareToken, unlock),
    stats: stats.get(file.id) ?? emptyStats(),
  };
}
