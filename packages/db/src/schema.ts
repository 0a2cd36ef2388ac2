import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** Timestamps are read as Date and may be written as Date or ISO string. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

export type Role = 'user' | 'admin';
export type OtpChannel = 'email' | 'sms';

export interface UsersTable {
  id: Generated<string>;
  email: string | null;
  phone: string | null;
  role: ColumnType<Role, Role | undefined, Role>;
  is_active: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
  last_login_at: Timestamp | null;
}

export interface OtpChallengesTable {
  id: Generated<string>;
  channel: OtpChannel;
  destination: string;
  code_hash: string;
  expires_at: Timestamp;
  attempts: ColumnType<number, number | undefined, number>;
  consumed_at: Timestamp | null;
  ip: string | null;
  created_at: CreatedAt;
}

export interface SessionsTable {
  id: Generated<string>;
  user_id: string;
  created_at: CreatedAt;
  last_used_at: ColumnType<Date, Date | string | undefined, Date | string>;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
  revoked_reason: string | null;
  user_agent: string | null;
  ip: string | null;
}

export interface RefreshTokensTable {
  id: Generated<string>;
  session_id: string;
  token_hash: string;
  rotated_from: string | null;
  rotated_at: Timestamp | null;
  created_at: CreatedAt;
}

export interface AuditLogTable {
  id: ColumnType<string, never, never>;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  meta: ColumnType<Record<string, unknown>, string | undefined, string>;
  ip: string | null;
  created_at: CreatedAt;
}

/** bigint columns are read as strings by pg; written as number or string. */
type BigInt8 = ColumnType<string, number | string | bigint, number | string | bigint>;

export interface FilesTable {
  id: string;
  owner_id: string;
  name: string;
  size: BigInt8;
  mime_type: string;
  sha256: string | null;
  storage_key: string;
  is_public: ColumnType<boolean, boolean | undefined, boolean>;
  share_token: string;
  description: ColumnType<string, string | undefined, string>;
  expires_at: Timestamp | null;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface HashtagsTable {
  id: Generated<string>;
  name: string;
  created_at: CreatedAt;
}

export interface FileHashtagsTable {
  file_id: string;
  hashtag_id: string;
}

export interface UploadsTable {
  id: string;
  owner_id: string;
  replaces_file_id: string | null;
  size: BigInt8 | null;
  metadata: ColumnType<Record<string, string | null>, string, string>;
  created_at: CreatedAt;
  expires_at: Timestamp;
  /** Set when the last byte landed (the row stays until it expires, for HEAD). */
  completed_at: Timestamp | null;
}

/** Click history per file and UTC day (flushed from the live counters). */
export interface FileClickDailyTable {
  file_id: string;
  /** A pg date: written as 'YYYY-MM-DD'; select it as `day::text` (pg's default parser makes a local Date). */
  day: ColumnType<string, string, string>;
  clicks: BigInt8;
  unique_visitors: BigInt8;
}

/** Lifetime click totals per file. */
export interface FileClickTotalsTable {
  file_id: string;
  clicks: BigInt8;
  unique_visitors: BigInt8;
  last_click_at: Timestamp | null;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** Flush batches already applied, per file (idempotent flushing). */
export interface StatsFlushAppliedTable {
  batch_id: string;
  file_id: string;
  applied_at: CreatedAt;
}

export interface Database {
  users: UsersTable;
  otp_challenges: OtpChallengesTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  audit_log: AuditLogTable;
  files: FilesTable;
  hashtags: HashtagsTable;
  file_hashtags: FileHashtagsTable;
  uploads: UploadsTable;
  file_click_daily: FileClickDailyTable;
  file_click_totals: FileClickTotalsTable;
  stats_flush_applied: StatsFlushAppliedTable;
}

export type User = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type OtpChallenge = Selectable<OtpChallengesTable>;
export type Session = Selectable<SessionsTable>;
export type RefreshToken = Selectable<RefreshTokensTable>;
export type AuditEntry = Selectable<AuditLogTable>;
export type FileRow = Selectable<FilesTable>;
export type NewFile = Insertable<FilesTable>;
export type FileUpdate = Updateable<FilesTable>;
export type Hashtag = Selectable<HashtagsTable>;
export type UploadRow = Selectable<UploadsTable>;
export type FileClickDaily = Selectable<FileClickDailyTable>;
export type FileClickTotals = Selectable<FileClickTotalsTable>;
