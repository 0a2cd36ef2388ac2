import { Readable } from 'node:stream';
import { THUMBNAIL_TYPES } from '@tagdrop/contracts';
import type { Db, FileRow, ThumbnailState } from '@tagdrop/db';
import type { AppDeps } from '../../deps.types.js';

/**
 * Thumbnails of images (JPEG, PNG, WebP, GIF's first frame, AVIF), made by the make-thumbnail job once an upload
 * is committed, never in the request. A thumbnail is its own storage object beside the file's bytes
 * (`<storage key>_thumb`, through the Storage interface, so any driver works), named in `files.thumbnail_key`,
 * and removed with the file, with its old content on replace, and by the orphan sweeper if a crash left it behind.
 * What became of it is kept in `files.thumbnail_state` (made, refused, skipped; null until decided, and again
 * when the content changes), so the backfill-thumbnails job can find the images still waiting for one (a job that
 * was never queued, images stored before thumbnails existed) and never tries a refused one again.
 */

/** Longest side of a thumbnail, in pixels (never enlarged). */
export const THUMBNAIL_SIZE = 640;
/** Decompression bombs: images declaring more pixels than this are refused before decoding (sharp's check). */
export const THUMBNAIL_MAX_PIXELS = 100_000_000;
/** Larger files are not thumbnailed (sharp holds a streamed input in memory). */
export const THUMBNAIL_MAX_INPUT_BYTES = 128 * 1024 * 1024;

/**
 * sharp (libvips, ~30 MB of memory) is loaded when the first thumbnail is made, not by every API process. One
 * libvips thread per image and no operation cache: thumbnails must not starve requests on a small machine.
 */
type Sharp = typeof import('sharp').default;
let loading: Promise<Sharp> | undefined;
const loadSharp = () => {
  loading ??= import('sharp').then(({ default: sharp }: { default: Sharp }) => {
    sharp.concurrency(1);
    sharp.cache(false);
    return sharp;
  });
  return loading;
};

export const thumbnailKeyFor = (storageKey: string) => `${storageKey}_thumb`;
export const canThumbnail = (mimeType: string) => THUMBNAIL_TYPES.includes(mimeType);

/** The thumbnail's version (in its URL and ETag): it changes exactly when the content does. */
export const thumbnailVersion = (file: Pick<FileRow, 'sha256' | 'storage_key'>) =>
  (file.sha256 ?? file.storage_key).slice(0, 16);

/** The image could not be made into a thumbnail (not decodable, too many pixels, too large): not retried. */
export class ThumbnailRefused extends Error {
  override name = 'ThumbnailRefused';
}

/**
 * Renders a thumbnail: EXIF orientation applied, then every metadata block dropped (EXIF with GPS, XMP, IPTC;
 * sharp keeps none unless asked), converted to sRGB. Opaque images become JPEG (what every link preview shows),
 * images with transparency WebP.
 */
export async function renderThumbnail(input: Buffer): Promise<{ data: Buffer; type: string }> {
  const sharp = await loadSharp();
  try {
    const image = sharp(input, {
      limitInputPixels: THUMBNAIL_MAX_PIXELS,
      autoOrient: true,
      failOn: 'error',
      pages: 1,
    }).resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true });
    const { hasAlpha } = await image.metadata();
    return hasAlpha
      ? { data: await image.webp({ quality: 80, alphaQuality: 90 }).toBuffer(), type: 'image/webp' }
      : { data: await image.jpeg({ quality: 80, mozjpeg: true }).toBuffer(), type: 'image/jpeg' };
  } catch (err) {
    throw new ThumbnailRefused((err as Error).message);
  }
}

async function readAll(stream: Readable, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      stream.destroy();
      return null;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A recorded state, or: 'exists' (made before), 'stale' (the file is gone or has other content now). */
export type ThumbnailOutcome = ThumbnailState | 'exists' | 'stale';

/**
 * Makes the thumbnail of a file's current content `storageKey` and records the outcome (thumbnail_state).
 * Idempotent: content already decided is not read again; a file deleted or given new content meanwhile is left
 * alone (and a thumbnail written for old content is removed at once). Storage errors throw and record nothing
 * (the job retries, the backfill tries again later); an image sharp refuses does not throw.
 */
export async function makeThumbnail(
  deps: Pick<AppDeps, 'db' | 'storage' | 'log'>,
  fileId: string,
  storageKey: string,
): Promise<ThumbnailOutcome> {
  const row = await deps.db
    .selectFrom('files')
    .select(['storage_key', 'mime_type', 'size', 'thumbnail_key', 'thumbnail_state'])
    .where('id', '=', fileId)
    .executeTakeFirst();
  if (!row || row.storage_key !== storageKey) return 'stale';
  const decide = async (state: ThumbnailState) => {
    if (row.thumbnail_state !== state) await recordState(deps.db, fileId, storageKey, state);
    return state;
  };
  if (row.thumbnail_key) {
    await decide('made');
    return 'exists';
  }
  // Decided for this content already (the state is cleared whenever the content changes).
  if (row.thumbnail_state === 'refused' || row.thumbnail_state === 'skipped') return row.thumbnail_state;
  if (!canThumbnail(row.mime_type) || Number(row.size) > THUMBNAIL_MAX_INPUT_BYTES) return decide('skipped');

  const input = await readAll(await deps.storage.read(storageKey), THUMBNAIL_MAX_INPUT_BYTES);
  if (!input) return decide('skipped');
  let thumb: { data: Buffer; type: string };
  try {
    thumb = await renderThumbnail(input);
  } catch (err) {
    if (!(err instanceof ThumbnailRefused)) throw err;
    deps.log.warn({ fileId, reason: err.message }, 'make-thumbnail: image refused, no thumbnail');
    return decide('refused');
  }
  const key = thumbnailKeyFor(storageKey);
  await deps.storage.put(key, Readable.from([thumb.data]));
  const updated = await recordThumbnail(deps.db, fileId, storageKey, key, thumb.type);
  if (!updated) {
    await deps.storage.delete(key);
    return 'stale';
  }
  return 'made';
}

/** Links the thumbnail to the file, only if the file still has that content. */
async function recordThumbnail(db: Db, fileId: string, storageKey: string, key: string, type: string) {
  const result = await db
    .updateTable('files')
    .set({ thumbnail_key: key, thumbnail_type: type, thumbnail_state: 'made' })
    .where('id', '=', fileId)
    .where('storage_key', '=', storageKey)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Records a decision about the file's content, only if the file still has that content. */
async function recordState(db: Db, fileId: string, storageKey: string, state: ThumbnailState) {
  await db
    .updateTable('files')
    .set({ thumbnail_state: state })
    .where('id', '=', fileId)
    .where('storage_key', '=', storageKey)
    .execute();
}
