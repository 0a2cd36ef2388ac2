/**
 * The embedded database (no DATABASE_URL: PGlite behind its socket server) under concurrency, as `npm start` uses
 * it: the app's pool and the job runner's pool send parameterized queries at once over several connections into
 * one PGlite session. Each query must get its own answer, and transactions must not see each other's statements.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/env.js';
import { type DatabaseEndpoint, resolveDatabase } from '../src/infra/database.js';
import { createLogger } from '../src/infra/logger.js';

let dataDir: string;
let endpoint: DatabaseEndpoint;
let pools: pg.Pool[];

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tagdrop-embedded-'));
  const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir });
  endpoint = await resolveDatabase(config, createLogger(config));
  expect(endpoint.embedded).toBe(true);
  pools = [0, 1].map(() => new pg.Pool({ connectionString: endpoint.url, max: endpoint.poolMax }));
}, 120_000);
afterAll(async () => {
  await Promise.all((pools ?? []).map((p) => p.end()));
  await endpoint?.close();
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe('the embedded database', () => {
  it('serves transactions on one pool and parameterized queries on another at once, each with its own rows', async () => {
    // As at start-up: the job runner's transactions (begin, a select of 11 parameters, an insert, commit) beside the
    // app's 9-parameter queries. Served message by message, a Bind met the other connection's statement ("bind
    // message supplies 9 parameters, but prepared statement requires 11"), or the queue stalled for good.
    const [a, b] = pools as [pg.Pool, pg.Pool];
    await a.query('create table if not exists work (n int)');
    const select = (k: number) =>
      `select ${Array.from({ length: k }, (_, j) => `$${j + 1}::text as c${j}`).join(', ')}`;
    const values = (k: number, tag: string) => Array.from({ length: k }, (_, j) => `${tag}-${j}`);
    const transactions = Array.from({ length: 60 }, async (_, i) => {
      const client = await a.connect();
      try {
        await client.query('begin');
        const { rows } = await client.query(select(11), values(11, `t${i}`));
        await client.query('insert into work values ($1)', [i]);
        await client.query('commit');
        return rows[0]?.c10 === `t${i}-10`;
      } finally {
        client.release();
      }
    });
    const queries = Array.from({ length: 150 }, async (_, i) => {
      const { rows } = await b.query(select(9), values(9, `q${i}`));
      return rows[0]?.c8 === `q${i}-8`;
    });
    const all = Promise.all([...transactions, ...queries]);
    const stalled = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('the embedded database stopped answering')), 30_000).unref(),
    );
    const results = await Promise.race([all, stalled]);
    expect(results.filter((ok) => !ok)).toEqual([]);
    expect((await b.query('select count(*)::int as n from work')).rows[0]?.n).toBe(60);
  });

  it('keeps a transaction to its own connection while others query', async () => {
    await pools[0]?.query('create table if not exists turns (n int)');
    const inside = await pools[0]?.connect();
    try {
      await inside?.query('begin');
      await inside?.query('insert into turns values ($1)', [1]);
      // Another connection meanwhile: it must not see (or join) the open transaction.
      const outside = pools[1]?.query('select count(*)::int as n from turns');
      await new Promise((r) => setTimeout(r, 100));
      await inside?.query('rollback');
      expect((await outside)?.rows[0]?.n).toBe(0);
    } finally {
      inside?.release();
    }
  });
});
