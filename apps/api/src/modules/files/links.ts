import { fileKind, type PreviewLinks } from '@tagdrop/contracts';
import type { FileRow } from '@tagdrop/db';
import type { AppDeps } from '../../deps.types.js';
import { signGrant } from './grants.js';
import { thumbnailVersion } from './thumbnails.js';

type LinkFile = Pick<FileRow, 'id' | 'is_public' | 'sha256' | 'storage_key' | 'thumbnail_key' | 'mime_type'>;

/**
 * The file object's thumbnail_url: null without a thumbnail; through the private link when the viewer came by it;
 * for a private file's owner (and admins) /f/{id}/thumb with a grant that opens only the thumbnail.
 */
export function thumbnailUrl(
  deps: Pick<AppDeps, 'keys'>,
  file: LinkFile,
  access: { baseUrl: string; canManage: boolean; shareToken?: string },
): string | null {
  if (!file.thumbnail_key) return null;
  const v = `v=${thumbnailVersion(file)}`;
  if (access.shareToken) return `${access.baseUrl}/s/${access.shareToken}/thumb?${v}`;
  if (file.is_public) return `${access.baseUrl}/f/${file.id}/thumb?${v}`;
  if (!access.canManage) return null;
  return `${access.baseUrl}/f/${file.id}/thumb?${v}&grant=${signGrant(deps.keys.grants, file.id, 'thumb').token}`;
}

/** Links for the owner's own pages (previews count no click; the download does). */
export function previewLinks(deps: Pick<AppDeps, 'keys'>, file: LinkFile, baseUrl: string): PreviewLinks {
  const preview = signGrant(deps.keys.grants, file.id, 'preview');
  const download = signGrant(deps.keys.grants, file.id, 'download');
  return {
    content_url: `${baseUrl}/f/${file.id}?grant=${preview.token}`,
    download_url: `${baseUrl}/f/${file.id}?grant=${download.token}`,
    view_url: fileKind(file.mime_type) === 'pdf' ? `${baseUrl}/f/${file.id}/view?grant=${preview.token}` : null,
    expires_at: new Date(Math.min(preview.expiresAt.getTime(), download.expiresAt.getTime())).toISOString(),
  };
}
