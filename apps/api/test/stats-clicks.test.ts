import { randomBytes } from 'node:crypto';
import { createTagdropClient, type TagdropClient } from '@tagdrop/contracts/client';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisClient } from '../src/infra/redis.js';
import { redisLiveStore } from '../src/modules/stats/redis-store.js';
import { applyBatch } from '../src/modules/stats/stats.queries.js';
import { startTestApp, type TestApp } from './harness.js';
import { deleteKeys, keysMatching } from './redis-helpers.js';

type Stats = {
  clicks: number;
  unique_visitors: number;
  last_click_at: string | null;
  daily: { date: string; clicks: number }[];
};

let app: TestApp;
let owner: { access: string; user: { id: string } };
let admin: { access: string; user: { id: string } };
let ownerClient: TagdropClient;

async function upload(token: string, body: Buffer, fields: Record<string, string> = { is_public: 'true' }) {
  const form = new FormData();
  form.set('file', new Blob([new Uint8Array(body)]), 'clicks.bin');
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  const res = await fetch(`${app.url}/api/files/`, {
    method: 'POST',
    body: form,
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; share_url: string | null };
}

const statsOf = async (id: string) =>
  (await app.api<{ stats: Stats }>('GET', `/api/files/${id}/`, { token: owner.access })).body.stats;

/** Clicks are counted after the response (never on the download's path): wait until the count settles. */
async function settledClicks(id: string, expected: number) {
  let stats = await statsOf(id);
  for (let i = 0; i < 100 && stats.clicks < expected; i++) {
    await new Promise((r) => setTimeout(r, 50));
    stats = await statsOf(id);
  }
  await new Promise((r) => setTimeout(r, 200));
  return statsOf(id);
}

const today = () => new Date().toISOString().slice(0, 10);

/** Deletes this test app's Redis keys only (other test files share the Redis server). */
async function wipeRedisPrefix() {
  const client = app.deps.redis.client;
  if (!client) throw new Error('these tests need Redis');
  return deleteKeys(client, await keysMatching(client, `${app.deps.redis.prefix}*`));
}

beforeAll(async () => {
  // The flush runs when the tests say so (hourly schedule), so every count below is deterministic.
  app = await startTestApp({ STATS_FLUSH_INTERVAL: '1 hour' });
  owner = await app.login('stats-owner@example.com');
  await app.login('stats-admin@example.com');
  await app.deps.db
    .updateTable('users')
    .set({ role: 'admin' })
    .where('email', '=', 'stats-admin@example.com')
    .execute();
  admin = await app.login('stats-admin@example.com');
  ownerClient = createTagdropClient({ url: app.url, token: owner.access });
});
afterAll(async () => {
  await app?.stop();
});

describe('click counting', () => {
  it('counts 1,000 concurrent downloads exactly', async () => {
    const file = await upload(owner.access, randomBytes(512));
    const responses = await Promise.all(
      Array.from({ length: 1000 }, () =>
        fetch(`${app.url}/f/${file.id}`).then(async (r) => [r.status, (await r.arrayBuffer()).byteLength]),
      ),
    );
    expect(responses.every(([status, length]) => status === 200 && length === 512)).toBe(true);
    const stats = await settledClicks(file.id, 1000);
    expect(stats.clicks).toBe(1000);
    expect(stats.daily.at(-1)).toEqual({ date: today(), clicks: 1000 });
    expect(stats.daily).toHaveLength(30);
    expect(stats.unique_visitors).toBe(1); // one IP and user agent
    expect(stats.last_click_at).not.toBeNull();
  });

  it('counts GET and Range from byte 0 only; HEAD, later ranges and unsatisfiable ranges are not clicks', async () => {
    const file = await upload(owner.access, randomBytes(100));
    const get = (headers: Record<string, string> = {}, method = 'GET') =>
      fetch(`${app.url}/f/${file.id}`, { method, headers }).then(async (r) => {
        await r.arrayBuffer();
        return r.status;
      });
    expect(await get()).toBe(200); // 1
    expect(await get({}, 'HEAD')).toBe(200);
    expect(await get({ range: 'bytes=0-9' })).toBe(206); // 2
    expect(await get({ range: 'bytes=0-' })).toBe(206); // 3
    expect(await get({ range: 'bytes=10-19' })).toBe(206);
    expect(await get({ range: 'bytes=-5' })).toBe(206);
    expect(await get({ range: 'bytes=500-600' })).toBe(416);
    expect(await get({ range: 'bytes=0-9' }, 'HEAD')).toBe(206);
    const stats = await settledClicks(file.id, 3);
    expect(stats.clicks).toBe(3);
  });

  it('counts private-link clicks and estimates unique visitors from IP and user agent', async () => {
    const file = await upload(owner.access, randomBytes(10), { is_public: 'false' });
    expect(file.share_url).toBeTruthy();
    const shareUrl = `${app.url}/s/${String(file.share_url).split('/s/')[1]}`;
    for (let visitor = 0; visitor < 5; visitor++) {
      for (let i = 0; i < 4; i++) {
        const res = await fetch(shareUrl, { headers: { 'user-agent': `visitor-${visitor}` } });
        expect(res.status).toBe(200);
        await res.arrayBuffer();
      }
    }
    const stats = await settledClicks(file.id, 20);
    expect(stats.clicks).toBe(20);
    expect(stats.unique_visitors).toBe(5);
    // No raw IP or user agent is stored in the statistics' Redis keys.
    const keys = await keysMatching(app.deps.redis.client as RedisClient, `${app.deps.redis.prefix}{stats:*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(key).not.toContain('127.0.0.1');
      const type = await app.deps.redis.client?.type(key);
      if (type === 'string') expect(await app.deps.redis.client?.get(key)).not.toContain('127.0.0.1');
      if (type === 'hash') expect(JSON.stringify(await app.deps.redis.client?.hgetall(key))).not.toContain('127.0.0.1');
    }
  });
});

describe('flush to PostgreSQL', () => {
  it('moves the counters into file_click_daily; after a Redis wipe the history is still shown', async () => {
    const file = await upload(owner.access, randomBytes(64));
    await Promise.all(Array.from({ length: 40 }, () => fetch(`${app.url}/f/${file.id}`).then((r) => r.arrayBuffer())));
    expect((await settledClicks(file.id, 40)).clicks).toBe(40);

    await app.deps.jobs.runNow('flush-click-stats');
    const row = await app.deps.db
      .selectFrom('file_click_daily')
      .select([sql<string>`day::text`.as('day'), 'clicks', 'unique_visitors'])
      .where('file_id', '=', file.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ day: today(), clicks: '40', unique_visitors: '1' });

    expect(await wipeRedisPrefix()).toBeGreaterThan(0);
    const after = await statsOf(file.id);
    expect(after.clicks).toBe(40);
    expect(after.unique_visitors).toBe(1);
    expect(after.last_click_at).not.toBeNull();
    expect(after.daily.at(-1)).toEqual({ date: today(), clicks: 40 });

    // Counting goes on from there, and the next flush adds to the history.
    await Promise.all(Array.from({ length: 5 }, () => fetch(`${app.url}/f/${file.id}`).then((r) => r.arrayBuffer())));
    expect((await settledClicks(file.id, 45)).clicks).toBe(45);
    await app.deps.jobs.runNow('flush-click-stats');
    await wipeRedisPrefix();
    expect((await ownerClient.stats.file.query({ id: file.id })).clicks).toBe(45);
  });

  it('never counts twice: concurrent flushes, and a flush interrupted after PostgreSQL committed', async () => {
    const file = await upload(owner.access, randomBytes(64));
    await Promise.all(Array.from({ length: 30 }, () => fetch(`${app.url}/f/${file.id}`).then((r) => r.arrayBuffer())));
    expect((await settledClicks(file.id, 30)).clicks).toBe(30);
    // Two flushes at once (the CLI and the schedule, say).
    await Promise.all([app.deps.jobs.runNow('flush-click-stats'), app.deps.jobs.runNow('flush-click-stats')]);
    const total = async () =>
      Number(
        (
          await app.deps.db
            .selectFrom('file_click_totals')
            .select('clicks')
            .where('file_id', '=', file.id)
            .executeTakeFirst()
        )?.clicks ?? 0,
      );
    expect(await total()).toBe(30);

    // 12 more clicks, then a flush that dies right after its PostgreSQL commit (before it settles Redis).
    await Promise.all(Array.from({ length: 12 }, () => fetch(`${app.url}/f/${file.id}`).then((r) => r.arrayBuffer())));
    expect((await settledClicks(file.id, 42)).clicks).toBe(42);
    const client = app.deps.redis.client;
    if (!client) throw new Error('needs Redis');
    const store = redisLiveStore(client, app.deps.redis.prefix);
    expect(await store.openFlush()).toBeGreaterThan(0);
    const taken = (await store.take(await store.flushingChunk(500), 'crashed-batch')).filter((t) => t !== null);
    await applyBatch(app.deps.db, taken);
    expect(await total()).toBe(42);
    // Meanwhile the detail view shows every click once (the inflight batch is known to be applied).
    expect((await statsOf(file.id)).clicks).toBe(42);
    // The next run finishes the interrupted flush without applying it again.
    await app.deps.jobs.runNow('flush-click-stats');
    expect(await total()).toBe(42);
    expect((await statsOf(file.id)).clicks).toBe(42);
    await wipeRedisPrefix();
    expect((await statsOf(file.id)).clicks).toBe(42);
  });

  it('a flush interrupted before PostgreSQL is applied by the next run', async () => {
    const file = await upload(owner.access, randomBytes(64));
    await Promise.all(Array.from({ length: 7 }, () => fetch(`${app.url}/f/${file.id}`).then((r) => r.arrayBuffer())));
    expect((await settledClicks(file.id, 7)).clicks).toBe(7);
    const client = app.deps.redis.client;
    if (!client) throw new Error('needs Redis');
    const store = redisLiveStore(client, app.deps.redis.prefix);
    await store.openFlush();
    await store.take(await store.flushingChunk(500), 'dies-before-pg');
    expect((await statsOf(file.id)).clicks).toBe(7); // inflight, not yet applied: still counted once
    await app.deps.jobs.runNow('flush-click-stats');
    await wipeRedisPrefix();
    expect((await statsOf(file.id)).clicks).toBe(7);
  });
});

describe('stats procedures', () => {
  it('stats.file for the owner and admins only; stats.overview for admins only', async () => {
    const file = await upload(owner.access, randomBytes(32), { is_public: 'true', hashtags: 'overview,stats' });
    await Promise.all(Array.from({ length: 9 }, () => fetch(`${app.url}/f/${file.id}`).then((r) => r.arrayBuffer())));
    expect((await settledClicks(file.id, 9)).clicks).toBe(9);
    await app.deps.jobs.runNow('flush-click-stats');

    const adminClient = createTagdropClient({ url: app.url, token: admin.access });
    expect((await adminClient.stats.file.query({ id: file.id })).clicks).toBe(9);
    const stranger = createTagdropClient({ url: app.url, token: (await app.login('stranger@example.com')).access });
    await expect(stranger.stats.file.query({ id: file.id })).rejects.toMatchObject({ data: { code: 'not_found' } });
    await expect(stranger.stats.overview.query()).rejects.toMatchObject({ data: { code: 'forbidden' } });
    await expect(createTagdropClient({ url: app.url }).stats.file.query({ id: file.id })).rejects.toMatchObject({
      data: { code: 'unauthorized' },
    });

    const overview = await adminClient.stats.overview.query();
    expect(overview.daily).toHaveLength(30);
    expect(overview.daily.at(-1)?.date).toBe(today());
    expect(overview.total_clicks).toBe(overview.daily.reduce((n, d) => n + d.clicks, 0));
    expect(overview.daily.at(-1)?.clicks).toBeGreaterThanOrEqual(9);
    expect(overview.top_files.find((f) => f.id === file.id)?.clicks).toBe(9);
    expect(overview.top_hashtags).toEqual(
      expect.arrayContaining([
        { name: 'overview', clicks: 9, files: 1 },
        { name: 'stats', clicks: 9, files: 1 },
      ]),
    );
  });

  it('deleting a file drops its live counters and history', async () => {
    const file = await upload(owner.access, randomBytes(32));
    await Promise.all(Array.from({ length: 3 }, () => fetch(`${app.url}/f/${file.id}`).then((r) => r.arrayBuffer())));
    expect((await settledClicks(file.id, 3)).clicks).toBe(3);
    await app.deps.jobs.runNow('flush-click-stats');
    const liveKeys = () => keysMatching(app.deps.redis.client as RedisClient, `${app.deps.redis.prefix}*${file.id}`);
    expect((await liveKeys()).length).toBeGreaterThan(0);
    expect((await app.api('DELETE', `/api/files/${file.id}/`, { token: owner.access })).status).toBeLessThan(300);
    // Everything but the per-day unique-visitor sets, which expire on their own.
    expect(await liveKeys()).toEqual([]);
    const rows = await app.deps.db
      .selectFrom('file_click_daily')
      .select('day')
      .where('file_id', '=', file.id)
      .execute();
    expect(rows).toEqual([]);
  });
});
