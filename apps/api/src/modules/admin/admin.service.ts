import type {
  AdminCreateUserInput,
  AdminFileListInput,
  AdminFileListOutput,
  AdminHashtagDto,
  AdminHashtagListInput,
  AdminOverviewOutput,
  AdminUserDto,
  AdminUserListInput,
  AdminUserListOutput,
  AuditListInput,
  AuditListOutput,
  JobsOverviewOutput,
  Role,
} from '@tagdrop/contracts';
import { sql } from 'kysely';
import type { AppDeps } from '../../deps.types.js';
import { AppError } from '../../errors.js';
import { audit } from '../../infra/audit.js';
import { jobSpecs } from '../../jobs/registry.js';
import {
  type AuthUser,
  revokeUserSessions as revokeAllSessions,
  setUserActive,
  toUserDto,
} from '../auth/auth.service.js';
import { normalizeEmail, normalizePhone } from '../auth/identifier.js';
import { type AccessChangeDeps, restrictAccess, widenAccess } from '../auth/session-access.js';
import { listFiles } from '../files/files.listing.js';
import { deleteFile } from '../files/files.service.js';
import type { FilesDeps } from '../files/files.types.js';
import { normalizeHashtag } from '../files/hashtags.js';
import {
  BIGINT,
  decodeCursor,
  encodeCursor,
  fileOwners,
  selectAudit,
  selectHashtags,
  selectOverview,
  selectUsers,
  type UserRow,
  UUID,
} from './admin.queries.js';

export type AdminDeps = Pick<AppDeps, 'db' | 'config' | 'jobs'>;

/** The admin acting, for the audit trail. */
export interface Actor {
  id: string;
  ip?: string | undefined;
}

const iso = (d: Date) => d.toISOString();

function toAdminUserDto(row: UserRow): AdminUserDto {
  return {
    ...toUserDto(row),
    sessions_open: Number(row.sessions_open ?? 0),
    file_count: Number(row.file_count ?? 0),
    bytes_used: Number(row.bytes_used ?? 0),
  };
}

export async function listUsers(deps: Pick<AppDeps, 'db'>, input: AdminUserListInput): Promise<AdminUserListOutput> {
  const rows = await selectUsers(deps.db, {
    search: input.search || undefined,
    role: input.role,
    active: input.active,
    after: input.cursor ? decodeCursor(input.cursor, UUID) : undefined,
    limit: input.limit + 1,
  });
  const page = rows.slice(0, input.limit);
  const last = page.at(-1);
  return {
    results: page.map(toAdminUserDto),
    next: rows.length > input.limit && last ? encodeCursor({ t: last.cursor_ts, id: last.id }) : null,
  };
}

export async function getUser(deps: Pick<AppDeps, 'db'>, id: string): Promise<AdminUserDto> {
  const [row] = await selectUsers(deps.db, { id, limit: 1 });
  if (!row) throw new AppError('not_found', 'No such user.');
  return toAdminUserDto(row);
}

/** Blocks or unblocks a user (blocking ends all their sessions at once). Admins cannot block themselves. */
export async function setActive(deps: AccessChangeDeps, actor: Actor, input: { id: string; active: boolean }) {
  if (input.id === actor.id && !input.active) {
    throw new AppError('conflict', 'You cannot block your own account.');
  }
  // setUserActive writes the audit entry (user.blocked / user.unblocked).
  await setUserActive(deps, actor.id, input.id, input.active);
  return getUser(deps, input.id);
}

/**
 * Promotes or demotes a user; it takes effect on their next request on every instance (the role of each open
 * session is kept in the session cache: a demotion is written there before the database, a promotion after).
 */
export async function setRole(deps: AccessChangeDeps, actor: Actor, input: { id: string; role: Role }) {
  if (input.id === actor.id && input.role !== 'admin') {
    throw new AppError('conflict', 'You cannot remove your own admin role.');
  }
  const current = await deps.db.selectFrom('users').select('role').where('id', '=', input.id).executeTakeFirst();
  if (!current) throw new AppError('not_found', 'No such user.');
  const change = () =>
    deps.db.transaction().execute(async (trx) => {
      const before = await trx
        .selectFrom('users')
        .select('role')
        .where('id', '=', input.id)
        .forUpdate()
        .executeTakeFirst();
      if (!before) throw new AppError('not_found', 'No such user.');
      if (before.role === input.role) return;
      await trx
        .updateTable('users')
        .set({ role: input.role, updated_at: new Date() })
        .where('id', '=', input.id)
        .execute();
      await audit(trx, {
        actorId: actor.id,
        action: 'user.role_changed',
        targetType: 'user',
        targetId: input.id,
        meta: { from: before.role, to: input.role },
        ip: actor.ip ?? null,
      });
    });
  if (input.role === 'admin') await widenAccess(deps, input.id, 'admin', change);
  else await restrictAccess(deps, input.id, input.role, change);
  return getUser(deps, input.id);
}

/** Creates a user ahead of their first login. */
export async function createUser(
  deps: Pick<AppDeps, 'db' | 'config'>,
  actor: Actor,
  input: AdminCreateUserInput,
): Promise<AdminUserDto> {
  const values =
    input.email !== undefined
      ? { email: normalizeEmail(input.email) }
      : { phone: normalizePhone(input.phone ?? '', deps.config.DEFAULT_PHONE_REGION) };
  const field = 'email' in values ? 'email' : 'phone';
  const created = await deps.db
    .insertInto('users')
    .values({ ...values, role: input.role })
    .onConflict((oc) => oc.column(field).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!created) {
    throw new AppError('conflict', `A user with this ${field === 'email' ? 'email address' : 'phone number'} exists.`, {
      fields: { [field]: ['Already taken'] },
    });
  }
  await audit(deps.db, {
    actorId: actor.id,
    action: 'user.created',
    targetType: 'user',
    targetId: created.id,
    meta: { role: input.role, channel: field },
    ip: actor.ip ?? null,
  });
  return getUser(deps, created.id);
}

/** Ends every open session of a user (their access tokens stop working at once, on every instance). */
export async function revokeUserSessions(deps: AccessChangeDeps, actor: Actor, id: string) {
  const exists = await deps.db.selectFrom('users').select('id').where('id', '=', id).executeTakeFirst();
  if (!exists) throw new AppError('not_found', 'No such user.');
  const revoked = await revokeAllSessions(deps, id, 'revoked_by_admin');
  await audit(deps.db, {
    actorId: actor.id,
    action: 'user.sessions_revoked',
    targetType: 'user',
    targetId: id,
    meta: { count: revoked },
    ip: actor.ip ?? null,
  });
  return { revoked };
}

export async function listAudit(deps: Pick<AppDeps, 'db'>, input: AuditListInput): Promise<AuditListOutput> {
  const rows = await selectAudit(deps.db, {
    action: input.action || undefined,
    actorId: input.actor_id,
    after: input.cursor ? decodeCursor(input.cursor, BIGINT) : undefined,
    limit: input.limit + 1,
  });
  const page = rows.slice(0, input.limit);
  const last = page.at(-1);
  return {
    results: page.map((r) => ({
      id: String(r.id),
      action: r.action,
      actor_id: r.actor_id,
      actor_email: r.actor_email,
      actor_phone: r.actor_phone,
      target_type: r.target_type,
      target_id: r.target_id,
      target_label: r.target_label,
      meta: r.meta ?? {},
      ip: r.ip,
      created_at: iso(r.created_at),
    })),
    next: rows.length > input.limit && last ? encodeCursor({ t: last.cursor_ts, id: String(last.id) }) : null,
  };
}

const RECENT_FAILURES = 20;

/**
 * Every job this server defines (zero counts when none are queued: finished one-off jobs are removed), plus any
 * other name still in agenda_jobs: counts by state as Agenda computes them, and the latest failures.
 */
export async function jobsOverview(deps: Pick<AppDeps, 'jobs' | 'config'>): Promise<JobsOverviewOutput> {
  const agenda = await deps.jobs.ready();
  const [overview, failed] = await Promise.all([
    agenda.getJobsOverview(),
    agenda.queryJobs({ state: 'failed', sort: { lastFinishedAt: 'desc' }, limit: RECENT_FAILURES }),
  ]);
  const isoOrNull = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);
  const specs = new Map(jobSpecs.map((s) => [s.name, s]));
  const counted = new Map(overview.map((o) => [o.name, o]));
  const names = [...new Set([...specs.keys(), ...counted.keys()])].sort();
  return {
    jobs: names.map((name) => {
      const o = counted.get(name);
      const spec = specs.get(name);
      return {
        name,
        known: spec !== undefined,
        schedule: spec?.every?.(deps.config) ?? null,
        total: o?.total ?? 0,
        running: o?.running ?? 0,
        scheduled: o?.scheduled ?? 0,
        queued: o?.queued ?? 0,
        completed: o?.completed ?? 0,
        failed: o?.failed ?? 0,
        repeating: o?.repeating ?? 0,
        paused: o?.paused ?? 0,
      };
    }),
    // Payloads are left out on purpose: they may hold addresses and sealed codes.
    recent_failures: failed.jobs.map((j) => ({
      id: String(j._id),
      name: j.name,
      fail_reason: j.failReason ?? null,
      fail_count: j.failCount ?? 0,
      failed_at: isoOrNull(j.failedAt),
      next_run_at: isoOrNull(j.nextRunAt),
    })),
  };
}

/** Every file of everyone (private and expired included), newest first, with its owner. */
export async function listAllFiles(
  deps: FilesDeps,
  admin: AuthUser,
  input: AdminFileListInput,
  baseUrl: string,
): Promise<AdminFileListOutput> {
  // The files service owns the listing rules (filters, keyset cursor, file object); this only adds the owner.
  const page = await listFiles(
    deps,
    { kind: 'all' },
    {
      owner_id: input.owner_id,
      search: input.search || undefined,
      hashtag: input.hashtag || undefined,
      cursor: input.cursor,
      limit: input.limit,
    },
    admin,
    baseUrl,
  );
  const owners = new Map(
    (
      await fileOwners(
        deps.db,
        page.results.map((f) => f.id),
      )
    ).map((o) => [o.file_id, o]),
  );
  return {
    results: page.results.flatMap((f) => {
      const o = owners.get(f.id);
      // A file deleted between the two queries is left out.
      return o ? [{ ...f, owner: { id: o.id, email: o.email, phone: o.phone } }] : [];
    }),
    next: page.next,
  };
}

/** Deletes anyone's file through the files service (its rules, storage clean-up and audit entry). */
export function deleteAnyFile(deps: FilesDeps, admin: AuthUser, id: string) {
  return deleteFile(deps, admin, id);
}

export async function listAllHashtags(
  deps: Pick<AppDeps, 'db'>,
  input: AdminHashtagListInput,
): Promise<{ results: AdminHashtagDto[] }> {
  const rows = await selectHashtags(deps.db, {
    search: input?.search ? normalizeHashtag(input.search) : undefined,
    limit: input?.limit ?? 500,
  });
  return {
    results: rows.map((r) => ({ name: r.name, file_count: Number(r.file_count), created_at: iso(r.created_at) })),
  };
}

/**
 * Deletes a hashtag: it disappears from every file (the links go with it). A #word still written in a file's
 * description comes back only if that description is edited again.
 */
export async function deleteHashtag(deps: Pick<AppDeps, 'db' | 'stats'>, actor: Actor, rawName: string) {
  const name = normalizeHashtag(rawName);
  const result = await deps.db.transaction().execute(async (trx) => {
    const tag = await trx.selectFrom('hashtags').select('id').where('name', '=', name).forUpdate().executeTakeFirst();
    if (!tag) throw new AppError('not_found', `There is no hashtag #${name}.`);
    const unlinked = await trx
      .deleteFrom('file_hashtags')
      .where('hashtag_id', '=', tag.id)
      .returning('file_id')
      .execute();
    if (unlinked.length > 0) {
      await trx
        .updateTable('files')
        .set({ updated_at: new Date(), hashtags: sql<string[]>`array_remove(hashtags, ${name})` })
        .where(
          'id',
          'in',
          unlinked.map((u) => u.file_id),
        )
        .execute();
    }
    await trx.deleteFrom('hashtags').where('id', '=', tag.id).execute();
    await audit(trx, {
      actorId: actor.id,
      action: 'hashtag.deleted',
      targetType: 'hashtag',
      targetId: name,
      meta: { files: unlinked.length },
      ip: actor.ip ?? null,
    });
    return { name, unlinked: unlinked.length, ids: unlinked.map((u) => u.file_id) };
  });
  // Their rows changed (hashtags, updated_at): cached download rows of them stop being served.
  await deps.stats.dropTokens(result.ids);
  return { name: result.name, unlinked: result.unlinked };
}

/** How big the instance is right now. */
export async function overview(deps: Pick<AppDeps, 'db'>): Promise<AdminOverviewOutput> {
  const r = await selectOverview(deps.db);
  const n = (v: string | number | null) => Number(v ?? 0);
  return {
    users: { total: n(r.users), admins: n(r.admins), blocked: n(r.blocked), active_30d: n(r.active_30d) },
    sessions_open: n(r.sessions),
    files: {
      total: n(r.files),
      public: n(r.public_files),
      private: n(r.files) - n(r.public_files),
      expired: n(r.expired_files),
      bytes: n(r.bytes),
    },
    hashtags: n(r.hashtags),
    uploads_in_progress: n(r.uploads),
  };
}
