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

export const fileStatsSchema = z.object({
  clicks: z.number().int().nonnegative(),
  unique_visitors: z.number().int().nonnegative(),
  last_click_at: z.iso.datetime({ offset: true }).nullable(),
  daily: z.array(dailyClicksSchema).describe('The last 30 days, oldest first'),
});

export const fileSchema = z
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
    stats: fileStatsSchema,
  })
  .meta({ id: 'File' });

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
  results: z.array(fileSchema),
  next: z.string().nullable().describe('Cursor of the next page, or null on the last page'),
});

export const fileIdInput = z.object({ id: fileId });

export const updateFileInput = z.object({
  name: z.string().trim().min(1).max(MAX_FILENAME_LENGTH).optional(),
  description: z.string().max(MAX_DESCRIPTION_LENGTH).optional(),
  hashtags: hashtagsInput.optional(),
  is_public: z.boolean().optional(),
  expires_at: expiresAtInput.optional(),
});

export const hashtagSchema = z.object({ name: z.string(), count: z.number().int().nonnegative() });
export const hashtagListOutput = z.object({ results: z.array(hashtagSchema) });

export type FileDto = z.infer<typeof fileSchema>;
export type FileStats = z.infer<typeof fileStatsSchema>;
export type ListFilesInput = z.infer<typeof listFilesInput>;
export type UpdateFileInput = z.infer<typeof updateFileInput>;
export type HashtagDto = z.infer<typeof hashtagSchema>;
