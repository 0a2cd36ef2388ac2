import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { createTagdropClient } from '@tagdrop/contracts/client';
import { afterAll, describe, expect, it } from 'vitest';
import { clickCountFailures } from '../src/modules/stats/stats.metrics.js';
import { REDIS_URL, startTestApp, type TestApp } from './harness.js';

const apps: TestApp[] = [];
afterAll(async () => {
  for (const app of apps) await app.stop();
});

const failures = async () =>
  (await clickCountFailures.get()).values.reduce((n, v) => n + (v.labels.operation === 'record' ? v.value : 0), 0);

/** A public file put straight into the database and storage (no login: nothing here may need Redis). */
async function seedPublicFile(app: TestApp, body: Buffer) {
  const user = await app.deps.db
    .insertInto('users')
    .values({ email: `seed-${randomUUID()}@example.com` })
    .returning('id')
    .executeTakeFirstOrThrow();
  const id = randomUUID();
  await app.deps.storage.put(id, Readable.from([body]));
  await app.deps.db
    .insertInto('files')
    .values({
      id,
      owner_id: user.id,
      name: 'seed.bin',
      size: body.length,
      mime_type: 'application/octet-stream',
      storage_key: id,
      is_public: true,
      share_token: randomBytes(24).toString('base64url'),
    })
    .execute();
  return id;
}

async function timedGet(url: string) {
  const started = performance.now();
  const res = await fetch(url);
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, body, ms: performance.now() - started };
}

/** A TCP proxy in front of the shared Redis that the test can stop and start again (Redis "restarts"). */
async function redisProxy() {
  const target = new URL(REDIS_URL);
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const start = async () => {
    server = createServer((client) => {
      const upstream = createConnection(Number(target.port || 6379), target.hostname);
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const close = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    });
    await new Promise<void>((resolve) => server?.listen(port, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  };
  await start();
  return {
    url: () => `redis://127.0.0.1:${port}`,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server?.close(() => resolve()));
    },
    start,
  };
}

describe('downloads when Redis is unavailable', () => {
  it('serves every download at once when Redis is unreachable from the start, and measures the failures', async () => {
    const app = await startTestApp({ REDIS_URL: 'redis://127.0.0.1:1' });
    apps.push(app);
    const body = randomBytes(2048);
    const id = await seedPublicFile(app, body);
    // One download first, so the measured ones meet warm connections (the first one opens the database pool).
    const warm = await failures();
    expect((await timedGet(`${app.url}/f/${id}`)).status).toBe(200);
    await expect.poll(failures).toBe(warm + 1);
    const before = warm + 1;
    const results = await Promise.all(Array.from({ length: 50 }, () => timedGet(`${app.url}/f/${id}`)));
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(r.body.equals(body)).toBe(true);
    }
    expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(1_000);
    expect((await failures()) - before).toBe(50);
    // The detail view still answers (history from PostgreSQL).
    const detail = await createTagdropClient({ url: app.url }).public.get.query({ id });
    expect(detail.stats.clicks).toBe(0);
    // The flush waits for Redis instead of pretending.
    await expect(app.deps.jobs.runNow('flush-click-stats')).rejects.toThrow(/unavailable/);
  });

  it('keeps serving while Redis stops mid-way, and counts again once it is back', async () => {
    const proxy = await redisProxy();
    const app = await startTestApp({ REDIS_URL: proxy.url(), STATS_FLUSH_INTERVAL: '1 hour' });
    apps.push(app);
    const body = randomBytes(1024);
    const id = await seedPublicFile(app, body);
    const anonymous = createTagdropClient({ url: app.url });
    const clicksOf = async () => (await anonymous.public.get.query({ id })).stats.clicks;
    const waitClicks = async (n: number) => {
      for (let i = 0; i < 100 && (await clicksOf()) < n; i++) await new Promise((r) => setTimeout(r, 50));
      return clicksOf();
    };

    await Promise.all(Array.from({ length: 10 }, () => timedGet(`${app.url}/f/${id}`)));
    expect(await waitClicks(10)).toBe(10);
    await app.deps.jobs.runNow('flush-click-stats');

    await proxy.stop();
    const during = await Promise.all(Array.from({ length: 20 }, () => timedGet(`${app.url}/f/${id}`)));
    for (const r of during) {
      expect(r.status).toBe(200);
      expect(r.body.equals(body)).toBe(true);
    }
    expect(Math.max(...during.map((r) => r.ms))).toBeLessThan(1_000);
    expect(await clicksOf()).toBe(10); // flushed history, served without Redis

    await proxy.start();
    for (let i = 0; i < 100 && app.deps.redis.client?.status !== 'ready'; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(app.deps.redis.client?.status).toBe('ready');
    await Promise.all(Array.from({ length: 5 }, () => timedGet(`${app.url}/f/${id}`)));
    expect(await waitClicks(15)).toBe(15);
    await proxy.stop();
    await app.stop();
    apps.pop();
  });
});
