import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './harness.js';

/** REDIS_URL unset: the in-process store gives the same behaviour (one process). */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ REDIS_URL: '', STATS_FLUSH_INTERVAL: '1 hour' });
});
afterAll(async () => {
  await app?.stop();
});

describe('click statistics without Redis', () => {
  it('counts concurrent clicks exactly, flushes them once, and shows them after the flush', async () => {
    expect(app.deps.redis.client).toBeNull();
    const { access } = await app.login('memory@example.com');
    const form = new FormData();
    form.set('file', new Blob([new Uint8Array(randomBytes(100))]), 'm.bin');
    form.set('is_public', 'true');
    const res = await fetch(`${app.url}/api/files/`, {
      method: 'POST',
      body: form,
      headers: { authorization: `Bearer ${access}` },
    });
    const { id } = (await res.json()) as { id: string };
    await Promise.all(Array.from({ length: 300 }, () => fetch(`${app.url}/f/${id}`).then((r) => r.arrayBuffer())));
    await fetch(`${app.url}/f/${id}`, { method: 'HEAD' });
    const stats = async () =>
      (
        await app.api<{ stats: { clicks: number; unique_visitors: number } }>('GET', `/api/files/${id}/`, {
          token: access,
        })
      ).body.stats;
    expect(await stats()).toMatchObject({ clicks: 300, unique_visitors: 1 });
    await Promise.all([app.deps.jobs.runNow('flush-click-stats'), app.deps.jobs.runNow('flush-click-stats')]);
    const row = await app.deps.db
      .selectFrom('file_click_daily')
      .select([sql<string>`day::text`.as('day'), 'clicks'])
      .where('file_id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.clicks).toBe('300');
    expect(await stats()).toMatchObject({ clicks: 300, unique_visitors: 1 });
    await Promise.all(Array.from({ length: 3 }, () => fetch(`${app.url}/f/${id}`).then((r) => r.arrayBuffer())));
    expect((await stats()).clicks).toBe(303);
  });
});
