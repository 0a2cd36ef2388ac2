import type { Db } from '@tagdrop/db';

export interface AuditEntryInput {
  actorId: string | null;
  action: string;
  targetType?: string;
  targetId?: string;
  meta?: Record<string, unknown>;
  ip?: string | null;
}

const row = (entry: AuditEntryInput) => ({
  actor_id: entry.actorId,
  action: entry.action,
  target_type: entry.targetType ?? null,
  target_id: entry.targetId ?? null,
  meta: JSON.stringify(entry.meta ?? {}),
  ip: entry.ip ?? null,
});

export async function audit(db: Db, entry: AuditEntryInput): Promise<void> {
  await auditMany(db, [entry]);
}

/** Several entries in one statement (bulk actions: one entry per file). */
export async function auditMany(db: Db, entries: AuditEntryInput[]): Promise<void> {
  if (entries.length === 0) return;
  await db.insertInto('audit_log').values(entries.map(row)).execute();
}
