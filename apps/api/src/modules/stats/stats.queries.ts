import type { StatsOverview } from '@tagdrop/contracts';
import type { Db } from '@tagdrop/db';
import { sql } from 'kysely';
import { notExpired } from '../files/files.queries.js';
import { lastDays, type TakenCounts } from './live-store.js';

/** What PostgreSQL knows about one file's clicks (everything flushed so far). */
export interface History {
  clicks: number;
  unique: number;
  lastClickMs: number | null;
  /** UTC day → clicks, for the summary window. */
  daily: Record<string, number>;
}

export const emptyHistory = (): History => ({ clicks: 0, unique: 0, lastClickMs: null, daily: {} });

/**
 * Histories of these files (the daily counts from `fromDay` on; none when `fromDay` is null) and which of
 * the given (file, batch) pairs are applied.
 */
export async function loadHistories(
  db: Db,
  fileIds: string[],
  fromDay: string | null,
  inflight: { fileId: string; batch: string }[],
): Promise<{ histories: Map<string, History>; applied: Set<string> }> {
  const histories = new Map(fileIds.map((id) => [id, emptyHistory()]));
  if (fileIds.length === 0) return { histories, applied: new Set() };
  const [totals, daily, applied] = await Promise.all([
    db
      .selectFrom('file_click_totals')
      .select(['file_id', 'clicks', 'unique_visitors', 'last_click_at'])
      .where('file_id', 'in', fileIds)
      .execute(),
    fromDay === null
      ? Promise.resolve([])
      : db
          .selectFrom('file_click_daily')
          .select(['file_id', sql<string>`day::text`.as('day'), 'clicks'])
          .where('file_id', 'in', fileIds)
          .where('day', '>=', fromDay)
          .execute(),
    inflight.length === 0
      ? Promise.resolve([])
      : db
          .selectFrom('stats_flush_applied')
          .select(['file_id', 'batch_id'])
          .where(
            'file_id',
            'in',
            inflight.map((i) => i.fileId),
          )
          .where(
            'batch_id',
            'in',
            inflight.map((i) => i.batch),
          )
          .execute(),
  ]);
  for (const t of totals) {
    const h = histories.get(t.file_id);
    if (!h) continue;
    h.clicks = Number(t.clicks);
    h.unique = Number(t.unique_visitors);
    h.lastClickMs = t.last_click_at ? t.last_click_at.getTime() : null;
  }
  for (const d of daily) {
    const h = histories.get(d.file_id);
    if (h) h.daily[d.day] = Number(d.clicks);
  }
  return { histories, applied: new Set(applied.map((a) => `${a.file_id}|${a.batch_id}`)) };
}

/**
 * Adds one flush batch's counts to the history, once: a (batch, file) pair already applied is skipped, so
 * replaying a batch after a crash changes nothing. Files deleted meanwhile are skipped and returned.
 */
export async function applyBatch(db: Db, taken: TakenCounts[]): Promise<{ missing: string[]; clicks: number }> {
  if (taken.length === 0) return { missing: [], clicks: 0 };
  return db.transaction().execute(async (trx) => {
    const ids = [...new Set(taken.map((t) => t.fileId))].sort();
    // Key-share locks: a concurrent delete waits for this transaction instead of breaking its inserts.
    const existing = new Set(
      (await trx.selectFrom('files').select('id').where('id', 'in', ids).orderBy('id').forKeyShare().execute()).map(
        (r) => r.id,
      ),
    );
    const present = taken.filter((t) => existing.has(t.fileId));
    const missing = ids.filter((id) => !existing.has(id));
    if (present.length === 0) return { missing, clicks: 0 };
    const fresh = await trx
      .insertInto('stats_flush_applied')
      .values(present.map((t) => ({ batch_id: t.batch, file_id: t.fileId })))
      .onConflict((oc) => oc.columns(['batch_id', 'file_id']).doNothing())
      .returning(['file_id', 'batch_id'])
      .execute();
    const isFresh = new Set(fresh.map((f) => `${f.file_id}|${f.batch_id}`));
    const apply = present.filter((t) => isFresh.has(`${t.fileId}|${t.batch}`));
    const dailyRows = apply.flatMap((t) =>
      Object.entries(t.days).map(([day, clicks]) => ({
        file_id: t.fileId,
        day,
        clicks,
        unique_visitors: Math.min(clicks, t.dayUnique[day] ?? 0) || 0,
      })),
    );
    let clicks = 0;
    if (dailyRows.length > 0) {
      // A stored daily unique count only grows: after a Redis wipe the live estimate starts again from zero.
      await trx
        .insertInto('file_click_daily')
        .values(dailyRows)
        .onConflict((oc) =>
          oc.columns(['file_id', 'day']).doUpdateSet({
            clicks: sql`file_click_daily.clicks + excluded.clicks`,
            unique_visitors: sql`greatest(file_click_daily.unique_visitors, excluded.unique_visitors)`,
          }),
        )
        .execute();
      const totals = apply.map((t) => {
        const sum = Object.values(t.days).reduce((a, b) => a + b, 0);
        clicks += sum;
        return {
          file_id: t.fileId,
          clicks: sum,
          unique_visitors: Math.min(t.unique, sum),
          last_click_at: t.lastClickMs ? new Date(t.lastClickMs) : null,
        };
      });
      await trx
        .insertInto('file_click_totals')
        .values(totals)
        .onConflict((oc) =>
          oc.column('file_id').doUpdateSet({
            clicks: sql`file_click_totals.clicks + excluded.clicks`,
            unique_visitors: sql`least(file_click_totals.clicks + excluded.clicks, greatest(file_click_totals.unique_visitors, excluded.unique_visitors))`,
            last_click_at: sql`greatest(file_click_totals.last_click_at, excluded.last_click_at)`,
            updated_at: sql`now()`,
          }),
        )
        .execute();
    }
    return { missing, clicks };
  });
}

/** Forgets applied-batch markers old enough that no interrupted flush can still replay them. */
export async function pruneApplied(db: Db, olderThanMs = 2 * 86_400_000): Promise<void> {
  await db
    .deleteFrom('stats_flush_applied')
    .where('applied_at', '<', new Date(Date.now() - olderThanMs))
    .execute();
}

/** The admin overview: clicks per day across the instance, top files and hashtags (last 30 days). */
export async function statsOverview(db: Db, nowMs = Date.now()): Promise<StatsOverview> {
  const days = lastDays(30, nowMs);
  const from = days[0] as string;
  const [daily, topFiles, topHashtags] = await Promise.all([
    db
      .selectFrom('file_click_daily')
      .select([sql<string>`day::text`.as('day'), sql<string>`sum(clicks)`.as('clicks')])
      .where('day', '>=', from)
      .groupBy('day')
      .execute(),
    db
      .selectFrom('file_click_daily as d')
      .innerJoin('files', 'files.id', 'd.file_id')
      .where('d.day', '>=', from)
      .where(notExpired)
      .groupBy(['files.id', 'files.name', 'files.owner_id', 'files.is_public'])
      .select(['files.id', 'files.name', 'files.owner_id', 'files.is_public', sql<string>`sum(d.clicks)`.as('clicks')])
      .orderBy(sql`sum(d.clicks)`, 'desc')
      .orderBy('files.id')
      .limit(10)
      .execute(),
    db
      .selectFrom('file_click_daily as d')
      .innerJoin('files', 'files.id', 'd.file_id')
      .innerJoin('file_hashtags as fh', 'fh.file_id', 'd.file_id')
      .innerJoin('hashtags as h', 'h.id', 'fh.hashtag_id')
      .where('d.day', '>=', from)
      .where(notExpired)
      .groupBy('h.name')
      .select(['h.name', sql<string>`sum(d.clicks)`.as('clicks'), sql<string>`count(distinct d.file_id)`.as('files')])
      .orderBy(sql`sum(d.clicks)`, 'desc')
      .orderBy('h.name')
      .limit(10)
      .execute(),
  ]);
  const byDay = new Map(daily.map((d) => [d.day, Number(d.clicks)]));
  const series = days.map((date) => ({ date, clicks: byDay.get(date) ?? 0 }));
  return {
    daily: series,
    total_clicks: series.reduce((n, d) => n + d.clicks, 0),
    top_files: topFiles.map((f) => ({
      id: f.id,
      name: f.name,
      owner_id: f.owner_id,
      is_public: f.is_public,
      clicks: Number(f.clicks),
    })),
    top_hashtags: topHashtags.map((h) => ({ name: h.name, clicks: Number(h.clicks), files: Number(h.files) })),
    as_of: new Date(nowMs).toISOString(),
  };
}
