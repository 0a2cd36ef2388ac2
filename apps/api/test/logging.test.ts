import { rm } from 'node:fs/promises';
import { createTestDatabase, type TestDatabase } from '@tagdrop/db/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { REDIS_URL } from './harness.js';
import { type EntryProcess, freePort, productionEnv, spawnEntry } from './process-helpers.js';

// Child processes start slowly on a busy machine: generous timeouts (the assertions carry the real limits).
vi.setConfig({ testTimeout: 120_000, hookTimeout: 180_000 });

let database: TestDatabase;
const started: { proc: EntryProcess; dataDir: string }[] = [];
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  for (const { proc, dataDir } of started) {
    await proc.stop('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  }
  await database?.drop();
});

async function startMain(nodeEnv: 'development' | 'production') {
  const port = await freePort();
  const env = productionEnv({
    NODE_ENV: nodeEnv,
    PORT: String(port),
    DATABASE_URL: database.url,
    REDIS_URL,
    JOBS_IN_PROCESS: 'false',
  });
  const proc = spawnEntry('main', env);
  started.push({ proc, dataDir: env.DATA_DIR as string });
  await proc.waitFor(/Tagdrop is running/);
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  expect(res.status).toBe(200);
  expect(await proc.stop()).toEqual({ code: 0, signal: null });
  return proc.output().split('\n').filter(Boolean);
}

const isJson = (line: string) => {
  try {
    return typeof JSON.parse(line) === 'object';
  } catch {
    return false;
  }
};

describe('npm start logs', () => {
  it('human-readable lines in development', async () => {
    const lines = await startMain('development');
    const running = lines.find((l) => l.includes('Tagdrop is running'));
    expect(running).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: Tagdrop is running: /);
    expect(lines.filter(isJson)).toEqual([]);
  });

  it('one JSON object per line in production', async () => {
    const lines = await startMain('production');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((l) => !isJson(l))).toEqual([]);
    const records = lines.map((l) => JSON.parse(l) as { level: number; msg: string; service: string });
    const running = records.find((r) => r.msg.startsWith('Tagdrop is running'));
    expect(running).toMatchObject({ level: 30, service: 'tagdrop' });
  });
});
