import type { Db, Role } from '@tagdrop/db';
import { type Expression, type SqlBool, sql } from 'kysely';
import { AppError } from '../../errors.js';

/**
 * Keyset cursors over (created_at, id), newest first. The timestamp travels as text with microseconds, since
 * PostgreSQL keeps more precision than a JS Date and a millisecond cursor would skip or repeat rows.
 */
export interface Cursor {
  t: string;
  id: string;
}

const CURSOR_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.t, c.id])).toString('base64url');
}

export function decodeCursor(raw: string, idPattern: RegExp): Cursor {
  const invalid = () => new AppError('validation_error', 'Invalid cursor.', { fields: { cursor: ['Invalid cursor'] } });
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw invalid();
  const [t, id] = parsed as unknown[];
  if (typeof t !== 'string' || typeof id !== 'string' || !CURSOR_TS.test(t) || !idPattern.test(id)) throw invalid();
  return { t, id };
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const BIGINT = /^\d{1,19}$/;

/** created_at as UTC text with microseconds, for the cursor. */
const cursorTs = (table: string) =>
  sql<string>`to_char(${sql.ref(`${table}.created_at`)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Escapes LIKE wildcards so a search matches literally. */
export const likeContains = (s: string) => `%${s.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;

export interface UserFilter {
  search?: string | undefined;
  role?: Role | undefined;
  active?: boolean | undefined;
  id?: string | undefined;
  after?: Cursor | undefined;
  limit: number;
}

/** Users with their open sessions (and, once files exist, their files and bytes), newest first. */
export function selectUsers(db: Db, f: UserFilter) {
  let q = db
    .selectFrom('users')
    .select([
      'users.id',
      'users.email',
      'users.phone',
      'users.role',
      'users.is_active',
      'users.created_at',
      'users.last_login_at',
      cursorTs('users').as('cursor_ts'),
    ])
    .select((eb) =>
      eb
        .selectFrom('sessions')
        .select(sql<number>`count(*)::int`.as('n'))
        .whereRef('sessions.user_id', '=', 'users.id')
        .where('sessions.revoked_at', 'is', null)
        .where('sessions.expires_at', '>', sql<Date>`now()`)
        .as('sessions_open'),
    )
    .select((eb) => [
      eb
        .selectFrom('files')
        .select(sql<number>`count(*)::int`.as('n'))
        .whereRef('files.owner_id', '=', 'users.id')
        .as('file_count'),
      eb
        .selectFrom('files')
        .select(sql<string>`coalesce(sum(files.size), 0)::text`.as('s'))
        .whereRef('files.owner_id', '=', 'users.id')
        .as('bytes_used'),
    ]);
  if (f.id) q = q.where('users.id', '=', f.id);
  if (f.role) q = q.where('users.role', '=', f.role);
  if (f.active !== undefined) q = q.where('users.is_active', '=', f.active);
  if (f.search) {
    const email = likeContains(f.search.toLowerCase());
    // Phones are stored as E.164: ignore the spaces, dashes and brackets people type.
    const digits = f.search.replace(/[\s().-]/g, '');
    q = q.where((eb) =>
      eb.or([eb('users.email', 'ilike', email), ...(digits ? [eb('users.phone', 'like', likeContains(digits))] : [])]),
    );
  }
  if (f.after) {
    const after = f.after;
    q = q.where(
      sql<SqlBool>`(users.created_at, users.id) < (${after.t}::timestamptz, ${after.id}::uuid)` as Expression<SqlBool>,
    );
  }
  return q.orderBy('users.created_at', 'desc').orderBy('users.id', 'desc').limit(f.limit).execute();
}

export type UserRow = Awaited<ReturnType<typeof selectUsers>>[number];

export interface AuditFilter {
  action?: string | undefined;
  actorId?: string | undefined;
  after?: Cursor | undefined;
  limit: number;
}

/** Audit entries with the actor's email/phone, newest first. */
export function selectAudit(db: Db, f: AuditFilter) {
  let q = db
    .selectFrom('audit_log')
    .leftJoin('users', 'users.id', 'audit_log.actor_id')
    // For entries about a user, the user's email/phone, so the log reads without looking ids up.
    .leftJoin('users as target', (join) =>
      join.on(sql<SqlBool>`audit_log.target_type = 'user' and target.id::text = audit_log.target_id`),
    )
    .select([
      'audit_log.id',
      'audit_log.action',
      'audit_log.actor_id',
      'users.email as actor_email',
      'users.phone as actor_phone',
      'audit_log.target_type',
      'audit_log.target_id',
      sql<string | null>`coalesce(target.email, target.phone)`.as('target_label'),
      'audit_log.meta',
      'audit_log.ip',
      'audit_log.created_at',
      cursorTs('audit_log').as('cursor_ts'),
    ]);
  if (f.action) {
    q = f.action.endsWith('.')
      ? q.where('audit_log.action', 'like', `${f.action.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`)
      : q.where('audit_log.action', '=', f.action);
  }
  if (f.actorId) q = q.where('audit_log.actor_id', '=', f.actorId);
  if (f.after) {
    const after = f.after;
    q = q.where(
      sql<SqlBool>`(audit_log.created_at, audit_log.id) < (${after.t}::timestamptz, ${after.id}::bigint)` as Expression<SqlBool>,
    );
  }
  return q.orderBy('audit_log.created_at', 'desc').orderBy('audit_log.id', 'desc').limit(f.limit).execute();
}

export type AuditRow = Awaited<ReturnType<typeof selectAudit>>[number];

/** Owners of these files. */
export function fileOwners(db: Db, fileIds: string[]) {
  if (fileIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('files')
    .innerJoin('users', 'users.id', 'files.owner_id')
    .select(['files.id as file_id', 'users.id', 'users.email', 'users.phone'])
    .where('files.id', 'in', fileIds)
    .execute();
}

/**
 * Every hashtag with the number of files linked to it (orphans included, with 0), most used first: the kept
 * counts (hashtag_counts), never a count over the links.
 */
export function selectHashtags(db: Db, f: { search?: string | undefined; limit: number }) {
  const fileCount = sql<string>`coalesce(hashtag_counts.total_count, 0)`;
  let q = db
    .selectFrom('hashtags')
    .leftJoin('hashtag_counts', 'hashtag_counts.hashtag_id', 'hashtags.id')
    .select(['hashtags.name', 'hashtags.created_at', fileCount.as('file_count')]);
  if (f.search) q = q.where('hashtags.name', 'like', likeContains(f.search));
  return q.orderBy(fileCount, 'desc').orderBy('hashtags.name').limit(f.limit).execute();
}

/** Instance-wide counts, in one round trip. */
export function selectOverview(db: Db) {
  return db
    .selectNoFrom([
      sql<string>`(select count(*) from users)`.as('users'),
      sql<string>`(select count(*) from users where role = 'admin')`.as('admins'),
      sql<string>`(select count(*) from users where not is_active)`.as('blocked'),
      sql<string>`(select count(*) from users where last_login_at > now() - interval '30 days')`.as('active_30d'),
      sql<string>`(select count(*) from sessions where revoked_at is null and expires_at > now())`.as('sessions'),
      sql<string>`(select count(*) from files)`.as('files'),
      sql<string>`(select count(*) from files where is_public)`.as('public_files'),
      sql<string>`(select count(*) from files where expires_at <= now())`.as('expired_files'),
      sql<string>`(select coalesce(sum(size), 0) from files)`.as('bytes'),
      sql<string>`(select count(*) from hashtags)`.as('hashtags'),
      sql<string>`(select count(*) from uploads where completed_at is null)`.as('uploads'),
    ])
    .executeTakeFirstOrThrow();
}
