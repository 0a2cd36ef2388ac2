/**
 * Tagdrop on a real 3-master Redis Cluster (REDIS_URL `redis+cluster://…`, started by redis-cluster.setup.ts):
 * the client is a Cluster, the statistics of one file live in one hash slot while files spread over every
 * master, and pub/sub reaches a subscriber whichever node the message was published on. The statistics and
 * rate-limit suites run on the same cluster (vitest.config.ts, redisClusterTests).
 */
import { randomBytes } from 'node:crypto';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, startTestApp, type TestApp } from './harness.js';
import { keysMatching } from './redis-helpers.js';

let app: TestApp;
let cluster: Cluster;
beforeAll(async () => {
  expect(REDIS_URL).toMatch(/^redis\+cluster:\/\//);
  app = await startTestApp({ STATS_FLUSH_INTERVAL: '1 hour' });
  cluster = app.deps.redis.client as Cluster;
});
afterAll(async () => {
  await app?.stop();
});

async function publicFile(token: string) {
  const form = new FormData();
  form.set('file', new Blob([randomBytes(16)]), 'c.bin');
  form.set('is_public', 'true');
  const res = await fetch(`${app.url}/api/files/`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

describe('Redis Cluster', () => {
  it('connects as a cluster client and is ready', async () => {
    expect(cluster).toBeInstanceOf(Cluster);
    expect(cluster.nodes('master')).toHaveLength(3);
    expect((await app.api('GET', '/readyz')).status).toBe(200);
  });

  it("keeps each file's statistics in one slot and spreads files over every master", async () => {
    const { access } = await app.login('cluster@example.com');
    const ids = await Promise.all(Array.from({ length: 24 }, () => publicFile(access)));
    await Promise.all(ids.map((id) => fetch(`${app.url}/f/${id}`).then((r) => r.arrayBuffer())));
    const slots = new Map<string, Set<number>>();
    const perMaster = await Promise.all(
      cluster.nodes('master').map(async (node) => keysMatching(node, `${app.deps.redis.prefix}{stats:*`)),
    );
    for (const id of ids) {
      const keys = perMaster.flat().filter((k) => k.includes(id) && !/:\d{4}-\d{2}-\d{2}$/.test(k));
      expect(keys.length).toBeGreaterThanOrEqual(3); // pending, unique, last (at least)
      slots.set(id, new Set(await Promise.all(keys.map((k) => cluster.cluster('KEYSLOT', k) as Promise<number>))));
    }
    for (const set of slots.values()) expect(set.size).toBe(1);
    expect(perMaster.filter((keys) => keys.length > 0)).toHaveLength(3);
    // And the counts are right: flushed to PostgreSQL and read back.
    await app.deps.jobs.runNow('flush-click-stats');
    const stats = await app.api<{ stats: { clicks: number } }>('GET', `/api/files/${ids[0]}/`, { token: access });
    expect(stats.body.stats.clicks).toBe(1);
  });

  it('delivers pub/sub messages published on any node', async () => {
    const subscriber = app.deps.redis.duplicate();
    const channel = `${app.deps.redis.prefix}cluster-test`;
    const received: string[] = [];
    subscriber.on('message', (_channel: string, message: string) => received.push(message));
    await subscriber.subscribe(channel);
    try {
      const masters = cluster.nodes('master');
      await Promise.all(masters.map((node, i) => node.publish(channel, `from-${i}`)));
      for (let i = 0; i < 100 && received.length < masters.length; i++) await new Promise((r) => setTimeout(r, 20));
      expect(received.sort()).toEqual(masters.map((_, i) => `from-${i}`));
    } finally {
      subscriber.disconnect();
    }
  });
});
