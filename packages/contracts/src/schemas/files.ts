import { z } from 'zod';

export const MAX_HASHTAGS = 20;
export const MAX_HASHTAG_LENGTH = 50;
export const MAX_DESCRIPTION_LENGTH = 5000;
export const MAX_FILENAME_LENGTH = 255;

/** The file id (it is also the tus upload id). */
export const fileId = z.uuid().describe('File id');

export const dailyClicksSchema = z.object({
  date: z.iso.date().describe('UTC day, YYYY-MM-DD'),
  clicks: z.number().int().nonnegative(),
});

/** Click totals: what list items carry (read for a whole page in one Redis round trip). */
export const fileStatsSchema = z
  .object({
    clicks: z.number().int().nonnegative(),
    unique_visitors: z.number().int().nonnegative(),
    last_click_at: z.iso.datetime({ offset: true }).nullable(),
  })
  .meta({ id: 'FileStats' });

/** Click totals plus the 30-day history: the single-file object only (never list items). */
export const fileDetailStatsSchema = fileStatsSchema
  .extend({ daily: z.array(dailyClicksSchema).describe('The last 30 days, oldest first') })
  .meta({ id: 'FileDetailStats' });

/** A file as list items carry it (lists of REST, tRPC and the admin console): stats without `daily`. */
export const fileListItemSchema = z
  .object({
    id: fileId,
    name: z.string(),
    size: z.number().int().nonnegative(),
    mime_type: z.string(),
    sha256: z.string().nullable(),
    description: z.string(),
    hashtags: z.array(z.string()),
    is_public: z.boolean(),
    expires_at: z.iso.datetime({ offset: true }).nullable(),
    created_at: z.iso.datetime({ offset: true }),
    updated_at: z.iso.datetime({ offset: true }),
    download_url: z.string().describe('Absolute URL of /f/{id}'),
    share_url: z
      .string()
      .nullable()
      .describe('Private link /s/{token}; only shown to the owner and admins, null for public files'),
    thumbnail_url: z
      .string()
      .nullable()
      .describe(
        'Absolute URL of the thumbnail (/f/{id}/thumb, or /s/{token}/thumb through a private link; for a private ' +
          "file's owner it carries a grant that only opens the thumbnail); null while there is none",
      ),
    has_link_password: z.boolean().describe('Whether the private link asks for a password (see link_password)'),
    max_downloads: z
      .number()
      .int()
      .nullable()
      .describe('Counted downloads after which the file answers 410 and is removed; null: no limit'),
    downloads_left: z
      .number()
      .int()
      .nonnegative()
      .nullable()
      .describe('Counted downloads left before the limit (null: no limit)'),
    stats: fileStatsSchema,
  })
  .meta({ id: 'FileListItem' });

/** The single-file object (GET /api/files/{id}/, files.get, after changes): stats with the 30-day history. */
export const fileSchema = fileListItemSchema.extend({ stats: fileDetailStatsSchema }).meta({ id: 'File' });

/** Hashtags as a list or a comma/space separated string; normalised on the server. */
export const hashtagsInput = z
  .union([z.array(z.string().max(200)).max(100), z.string().max(5000)])
  .describe('Hashtags, as a list or comma separated (leading # optional)');

export const expiresAtInput = z.iso
  .datetime({ offset: true })
  .nullable()
  .describe('ISO 8601 date-time; null removes the expiry');

export const listFilesInput = z.object({
  hashtag: z.string().max(100).optional(),
  search: z.string().max(200).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export const fileListOutput = z.object({
  results: z.array(fileListItemSchema),
  next: z.string().nullable().describe('Cursor of the next page, or null on the last page'),
});

export const fileIdInput = z.object({ id: fileId });

export const MAX_LINK_PASSWORD_LENGTH = 200;
export const linkPasswordInput = z
  .string()
  .min(1)
  .max(MAX_LINK_PASSWORD_LENGTH)
  .nullable()
  .describe(
    'Write-only: a password the private link asks for (stored as an argon2id hash); null removes it. It protects ' +
      'the private link only: setting it on a public file, or making a file that has one public (PATCH, PUT, ' +
      'multipart upload, bulk make_public), is refused with 400 `link_password_requires_private` and nothing ' +
      'changes; send `link_password: null` with `is_public: true` to make such a file public.',
  );
export const maxDownloadsInput = z
  .number()
  .int()
  .min(1)
  .max(1_000_000_000)
  .nullable()
  .describe(
    'Counted downloads before the file answers 410; null: no limit. Every GET that sends the content (by anyone ' +
      'but the owner or an admin, through /f, /s, /view or a ZIP) takes one; such a file is always sent whole ' +
      '(Range is ignored, no Accept-Ranges), so a range cannot download it for free. HEAD and 304 take none.',
  );

export const updateFileInput = z.object({
  name: z.string().trim().min(1).max(MAX_FILENAME_LENGTH).optional(),
  description: z.string().max(MAX_DESCRIPTION_LENGTH).optional(),
  hashtags: hashtagsInput.optional(),
  is_public: z.boolean().optional(),
  expires_at: expiresAtInput.optional(),
  link_password: linkPasswordInput.optional(),
  max_downloads: maxDownloadsInput.optional(),
});

/** POST /api/share/{token}/unlock/ and public.unlock: the password of a private link. */
export const unlockLinkInput = z.object({ password: z.string().min(1).max(MAX_LINK_PASSWORD_LENGTH) });
export const unlockLinkOutput = z
  .object({
    download_url: z.string().describe('The private link with a short-lived grant: /s/{token}?unlock=…'),
    unlock: z.string().describe('The grant alone, for /s/{token}/thumb, /s/{token}/view and public.byToken'),
    expires_at: z.iso.datetime({ offset: true }),
  })
  .meta({ id: 'UnlockedLink' });

/** Short-lived links to a file's bytes for its owner's browser, which cannot send a Bearer token from <img>/<video>. */
export const previewLinksOutput = z
  .object({
    content_url: z.string().describe('The bytes (Range works), for players and previews; opening it counts no click'),
    download_url: z.string().describe('A download (counts a click like /f/{id})'),
    view_url: z
      .string()
      .nullable()
      .describe("PDFs: the same bytes, framable by this site's pages only (the browser's PDF viewer); else null"),
    expires_at: z.iso.datetime({ offset: true }),
  })
  .meta({ id: 'PreviewLinks' });

export const hashtagSchema = z.object({ name: z.string(), count: z.number().int().nonnegative() });
export const hashtagListOutput = z.object({ results: z.array(hashtagSchema) });

/** At most this many files in one bulk action or one ZIP download. */
export const MAX_BULK_FILES = 500;

const bulkIds = z
  .array(fileId)
  .min(1)
  .max(MAX_BULK_FILES)
  .describe(`Files to act on (at most ${MAX_BULK_FILES}); all must be yours (admins: any file), else nothing changes`);

/**
 * POST /api/files/bulk/ and files.bulk: one action on many files, all or nothing. `add_hashtags` and
 * `remove_hashtags` take `hashtags`; `set_expiry` takes `expires_at` (null removes the expiry).
 */
export const bulkFilesInput = z
  .discriminatedUnion('action', [
    z.object({ ids: bulkIds, action: z.enum(['delete', 'make_public', 'make_private']) }),
    z.object({ ids: bulkIds, action: z.enum(['add_hashtags', 'remove_hashtags']), hashtags: hashtagsInput }),
    z.object({ ids: bulkIds, action: z.literal('set_expiry'), expires_at: expiresAtInput }),
  ])
  .meta({ id: 'BulkFilesInput' });
export const bulkFilesOutput = z
  .object({ updated: z.number().int().nonnegative().describe('Files the action was applied to') })
  .meta({ id: 'BulkFilesResult' });
export const BULK_ACTIONS = [
  'delete',
  'add_hashtags',
  'remove_hashtags',
  'make_public',
  'make_private',
  'set_expiry',
] as const satisfies readonly BulkFilesInput['action'][];

/** POST /api/files/zip/: the same as GET with the ids in a JSON body (500 ids do not fit in every URL). */
export const zipFilesBody = z.object({ ids: bulkIds });
/** How long the link of POST /api/files/zip/link/ (files.zipLink) works, in seconds; it works once. */
export const ZIP_LINK_TTL_SECONDS = 60;
/** GET /api/files/zip/: your files by id, comma separated (Bearer), or a ZIP link's grant (no Bearer needed). */
export const zipFilesQuery = z.object({
  ids: z
    .string()
    .max(MAX_BULK_FILES * 40)
    .optional()
    .describe(`File ids, comma separated (at most ${MAX_BULK_FILES}); with a Bearer token`),
  grant: z
    .string()
    .max(100)
    .optional()
    .describe('Instead of ids and a Bearer token: the grant of a ZIP link (POST /api/files/zip/link/)'),
});
/** POST /api/files/zip/link/ and files.zipLink: a short-lived link a browser can download the ZIP from. */
export const zipLinkOutput = z
  .object({
    download_url: z
      .string()
      .describe(
        `GET /api/files/zip/?grant=…: the ZIP of these files, for whoever opens it, no token needed; works once, ` +
          `within ${ZIP_LINK_TTL_SECONDS} s (HEAD does not use it up)`,
      ),
    expires_at: z.iso.datetime({ offset: true }),
  })
  .meta({ id: 'ZipLink' });
/** GET /api/public/files/zip/: the public files of a hashtag. */
export const publicZipQuery = z.object({
  hashtag: z.string().min(1).max(100).describe(`A hashtag with at most ${MAX_BULK_FILES} public files`),
});

export type FileDto = z.infer<typeof fileSchema>;
export type FileListItemDto = z.infer<typeof fileListItemSchema>;
export type FileStats = z.infer<typeof fileStatsSchema>;
export type FileDetailStats = z.infer<typeof fileDetailStatsSchema>;
export type ListFilesInput = z.infer<typeof listFilesInput>;
export type UpdateFileInput = z.infer<typeof updateFileInput>;
export type HashtagDto = z.infer<typeof hashtagSchema>;
export type PreviewLinks = z.infer<typeof previewLinksOutput>;
export type UnlockedLink = z.infer<typeof unlockLinkOutput>;
export type BulkFilesInput = z.infer<typeof bulkFilesInput>;
export type BulkFilesOutput = z.infer<typeof bulkFilesOutput>;
export type ZipLink = z.infer<typeof zipLinkOutput>;
export type BulkAction = BulkFilesInput['action'];
