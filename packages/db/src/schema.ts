import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** Timestamps are read as Date and may be written as Date or ISO string. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

export type Role = 'user' | 'admin';
export type OtpChannel = 'email' | 'sms';
export type SessionMethod = 'otp' | 'passkey';
/**
 * A thumbnail's outcome for a file's content: made; refused (the image could not be decoded, or declares too many
 * pixels); skipped (not a type that is thumbnailed, or too large to read).
 */
export type ThumbnailState = 'made' | 'refused' | 'skipped';

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
  /** Closed: used, expired, replaced, burned or undeliverable. */
  consumed_at: Timestamp | null;
  /** This challenge signed the address in (by its code or its link); set in the statement that closes it. */
  verified_at: Timestamp | null;
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
  /** How the session began: a one-time code or a passkey. */
  method: ColumnType<SessionMethod, SessionMethod | undefined, never>;
}

export interface RefreshTokensTable {
  id: Generated<string>;
  session_id: string;
  token_hash: string;
  rotated_from: string | null;
  rotated_at: Timestamp | null;
  created_at: CreatedAt;
}

/** A WebAuthn credential (passkey) of a user. */
export interface PasskeysTable {
  id: Generated<string>;
  user_id: string;
  /** base64url credential id, as the browser reports it. */
  credential_id: string;
  /** COSE public key. */
  public_key: Uint8Array;
  counter: ColumnType<string, number | string | bigint | undefined, number | string | bigint>;
  transports: ColumnType<string[], string | undefined, string>;
  device_type: 'singleDevice' | 'multiDevice';
  backed_up: ColumnType<boolean, boolean | undefined, boolean>;
  aaguid: string | null;
  name: string;
  created_at: CreatedAt;
  last_used_at: Timestamp | null;
}

/** A WebAuthn challenge waiting for its answer: single use, short-lived, stored as a SHA-256. */
export interface WebauthnChallengesTable {
  challenge_hash: string;
  purpose: 'register' | 'login';
  user_id: string | null;
  expires_at: Timestamp;
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
  /** The file's hashtag names, sorted (kept with file_hashtags by setFileHashtags). */
  hashtags: ColumnType<string[], string[] | undefined, string[]>;
  /** Storage key of the thumbnail (made by the make-thumbnail job), null while there is none. */
  thumbnail_key: ColumnType<string | null, string | null | undefined, string | null>;
  /** Content type of the thumbnail (image/jpeg or image/webp). */
  thumbnail_type: ColumnType<string | null, string | null | undefined, string | null>;
  /** What became of the current content's thumbnail; null while nothing is decided (cleared with new content). */
  thumbnail_state: ColumnType<ThumbnailState | null, ThumbnailState | null | undefined, ThumbnailState | null>;
  /** How often the backfill-thumbnails job has tried the current content (reset with new content). */
  thumbnail_attempts: ColumnType<number, number | undefined, number>;
  /** argon2id hash of the private link's password; null: the link needs none. */
  link_password_hash: ColumnType<string | null, string | null | undefined, string | null>;
  /** Counted downloads after which the file answers 410 (and the sweeper removes it); null: no limit. */
  max_downloads: ColumnType<number | null, number | null | undefined, number | null>;
  /** Counted downloads so far (only kept while max_downloads is set). */
  download_count: ColumnType<number, number | undefined, number>;
}

export interface HashtagsTable {
  id: Generated<string>;
  name: string;
  created_at: CreatedAt;
}

/** A file's link to a hashtag, with the file's owner, visibility and times (kept in step by a trigger on files). */
export interface FileHashtagsTable {
  file_id: string;
  hashtag_id: string;
  owner_id: string;
  is_public: boolean;
  created_at: Timestamp;
  expires_at: Timestamp | null;
}

/** Kept counts per hashtag (statement triggers on file_hashtags): public files and all files. */
export interface HashtagCountsTable {
  hashtag_id: string;
  public_count: BigInt8;
  total_count: BigInt8;
}

/** Kept counts of each owner's private files per hashtag. */
export interface HashtagOwnerCountsTable {
  owner_id: string;
  hashtag_id: string;
  private_count: BigInt8;
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
  /** tus concatenation: 'partial', the 'final;<url> <url>…' header of a final upload, or null (a plain upload). */
  concat: string | null;
  /** A final upload's partial upload ids, in order. */
  parts: ColumnType<string[] | null, string | null, string | null>;
  /** A partial upload: the final upload that claimed it (foreign key, ON DELETE CASCADE: it goes with that upload). */
  final_id: string | null;
  /** A partial upload whose final upload became a file: its bytes are that file's (and count there), its own gone. */
  consumed_at: Timestamp | null;
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
  passkeys: PasskeysTable;
  webauthn_challenges: WebauthnChallengesTable;
  files: FilesTable;
  hashtags: HashtagsTable;
  file_hashtags: FileHashtagsTable;
  hashtag_counts: HashtagCountsTable;
  hashtag_owner_counts: HashtagOwnerCountsTable;
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
export type Passkey = Selectable<PasskeysTable>;
export type FileRow = Selectable<FilesTable>;
export type NewFile = Insertable<FilesTable>;
export type FileUpdate = Updateable<FilesTable>;
export type Hashtag = Selectable<HashtagsTable>;
export type UploadRow = Selectable<UploadsTable>;
export type FileClickDaily = Selectable<FileClickDailyTable>;
export type FileClickTotals = Selectable<FileClickTotalsTable>;
