import { z } from 'zod';
import { roleSchema, userSchema } from './auth.js';
import { fileListItemSchema } from './files.js';

/** Admin console schemas: users, audit log, jobs (and files/hashtags once the files module lands). */

const datetime = z.iso.datetime({ offset: true });
const cursor = z.string().max(200).describe('Opaque cursor from the previous page');
const limit = z.coerce.number().int().min(1).max(100).default(20);

export const adminUserSchema = userSchema.extend({
  sessions_open: z.number().int().nonnegative().describe('Sessions neither revoked nor expired'),
  file_count: z.number().int().nonnegative(),
  bytes_used: z.number().int().nonnegative(),
});

export const adminUserListInput = z.object({
  search: z.string().trim().max(200).optional().describe('Part of the email address or phone number'),
  role: roleSchema.optional(),
  active: z.boolean().optional(),
  cursor: cursor.optional(),
  limit,
});

export const adminUserListOutput = z.object({
  results: z.array(adminUserSchema),
  next: z.string().nullable().describe('Cursor of the next page, or null on the last page'),
});

export const adminUserIdInput = z.object({ id: z.uuid() });
export const adminSetActiveInput = z.object({ id: z.uuid(), active: z.boolean() });
export const adminSetRoleInput = z.object({ id: z.uuid(), role: roleSchema });

export const adminCreateUserInput = z
  .object({
    email: z.string().trim().max(254).optional(),
    phone: z.string().trim().max(32).optional(),
    role: roleSchema.default('user'),
  })
  .refine((v) => (v.email === undefined) !== (v.phone === undefined), {
    message: 'Give exactly one of email or phone',
    path: ['email'],
  });

export const adminRevokeSessionsOutput = z.object({
  revoked: z.number().int().nonnegative().describe('How many open sessions were ended'),
});

export const auditEntrySchema = z.object({
  id: z.string().describe('Entry id (a growing integer, as a string)'),
  action: z.string(),
  actor_id: z.uuid().nullable(),
  actor_email: z.string().nullable(),
  actor_phone: z.string().nullable(),
  target_type: z.string().nullable(),
  target_id: z.string().nullable(),
  target_label: z.string().nullable().describe("The target user's email or phone, when the target is a user"),
  meta: z.record(z.string(), z.unknown()),
  ip: z.string().nullable(),
  created_at: datetime,
});

export const auditListInput = z.object({
  action: z.string().trim().max(100).optional().describe('Exact action, or a prefix ending in "." (e.g. "user.")'),
  actor_id: z.uuid().optional(),
  cursor: cursor.optional(),
  limit,
});

export const auditListOutput = z.object({
  results: z.array(auditEntrySchema),
  next: z.string().nullable(),
});

export const jobOverviewSchema = z.object({
  name: z.string(),
  known: z.boolean().describe('Defined by this version of the server (false: left over in the queue)'),
  schedule: z.string().nullable().describe('Interval of a recurring job, e.g. "1 minute"; null for one-off jobs'),
  total: z.number().int().nonnegative(),
  running: z.number().int().nonnegative(),
  scheduled: z.number().int().nonnegative(),
  queued: z.number().int().nonnegative(),
  completed: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  repeating: z.number().int().nonnegative(),
  paused: z.number().int().nonnegative(),
});

export const jobFailureSchema = z.object({
  id: z.string(),
  name: z.string(),
  fail_reason: z.string().nullable(),
  fail_count: z.number().int().nonnegative(),
  failed_at: datetime.nullable(),
  next_run_at: datetime.nullable().describe('When a retry is due, if any'),
});

export const jobsOverviewOutput = z.object({
  jobs: z.array(jobOverviewSchema),
  recent_failures: z.array(jobFailureSchema),
});

export const fileOwnerSchema = z.object({
  id: z.uuid(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
});

/** A file in the admin console's list (stats without the 30-day history), with its owner. */
export const adminFileSchema = fileListItemSchema.extend({ owner: fileOwnerSchema });

export const adminFileListInput = z.object({
  owner_id: z.uuid().optional(),
  search: z.string().trim().max(200).optional().describe('Part of the name or description'),
  hashtag: z.string().trim().max(100).optional(),
  cursor: cursor.optional(),
  limit,
});

export const adminFileListOutput = z.object({
  results: z.array(adminFileSchema),
  next: z.string().nullable(),
});

export const adminFileIdInput = z.object({ id: z.uuid() });
export const adminFileDeleteOutput = z.object({ detail: z.string() });

export const adminHashtagSchema = z.object({
  name: z.string(),
  file_count: z.number().int().nonnegative().describe('Every file linked to it: public, private and expired'),
  created_at: datetime,
});

export const adminHashtagListInput = z
  .object({
    search: z.string().trim().max(100).optional(),
    limit: z.coerce.number().int().min(1).max(2000).default(500),
  })
  .optional();

export const adminHashtagListOutput = z.object({ results: z.array(adminHashtagSchema) });

export const adminHashtagDeleteInput = z.object({ name: z.string().trim().min(1).max(100) });
export const adminHashtagDeleteOutput = z.object({
  name: z.string(),
  unlinked: z.number().int().nonnegative().describe('How many files lost the hashtag'),
});

const count = z.number().int().nonnegative();

export const adminOverviewOutput = z.object({
  users: z.object({
    total: count,
    admins: count,
    blocked: count,
    active_30d: count.describe('Logged in during the last 30 days'),
  }),
  sessions_open: count,
  files: z.object({
    total: count,
    public: count,
    private: count,
    expired: count.describe('Past their expiry, not yet swept'),
    bytes: count,
  }),
  hashtags: count,
  uploads_in_progress: count,
});

export type AdminUserDto = z.infer<typeof adminUserSchema>;
export type AdminUserListInput = z.infer<typeof adminUserListInput>;
export type AdminUserListOutput = z.infer<typeof adminUserListOutput>;
export type AdminCreateUserInput = z.infer<typeof adminCreateUserInput>;
export type AuditEntryDto = z.infer<typeof auditEntrySchema>;
export type AuditListInput = z.infer<typeof auditListInput>;
export type AuditListOutput = z.infer<typeof auditListOutput>;
export type JobOverviewDto = z.infer<typeof jobOverviewSchema>;
export type JobFailureDto = z.infer<typeof jobFailureSchema>;
export type JobsOverviewOutput = z.infer<typeof jobsOverviewOutput>;
export type FileOwnerDto = z.infer<typeof fileOwnerSchema>;
export type AdminFileDto = z.infer<typeof adminFileSchema>;
export type AdminFileListInput = z.infer<typeof adminFileListInput>;
export type AdminFileListOutput = z.infer<typeof adminFileListOutput>;
export type AdminHashtagDto = z.infer<typeof adminHashtagSchema>;
export type AdminHashtagListInput = z.infer<typeof adminHashtagListInput>;
export type AdminOverviewOutput = z.infer<typeof adminOverviewOutput>;
