import type { Db } from '@tagdrop/db';

export interface AuditEntryInput {
  actorId: string | null;
  action: string;
  targetType?: string;
  targetId?: string;
  meta?: Record<string, unknown>;
  ip?: string | null;
}

export async function audit(db: Db, entry: AuditEntryInput): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      actor_id: entry.actorId,
      action: entry.action,
      target_type: entry.targetType ?? null,
      target_id: entry.targetId ?? null,
      meta: JSON.stringify(entry.meta ?? {}),
      ip: entry.ip ?? null,
    })
    .execute();
}
