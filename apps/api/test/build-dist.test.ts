/**
 * The runtime image's entry points (issue 10 "Deployment"): `npm run build -w @tagdrop/api` compiles the API, the
 * worker and the CLIs to dist/ (workspace packages and migrations bundled, node_modules imported), and plain
 * `node dist/main.js` / `node dist/worker.js` without tsx serve a real deployment: health, readiness, a login whose
 * code the compiled worker delivers, an upload and its download, a clean exit on SIGTERM.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createTestDatabase, type TestDatabase } from '@tagdrop/db/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Deployment } from './deployment-helpers.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 180_000 });

const run = promisify(execFile);
const apiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let database: TestDatabase;
let deployment: Deployment;

beforeAll(async () => {
  const [, db, dep] = await Promise.all([
    run('npm', ['run', 'build'], { cwd: apiDir }),
    createTestDatabase(),
    new Deployment({ compiled: true }).init(),
  ]);
  database = db;
  deployment = dep;
});
afterAll(async () => {
  await deployment?.cleanup();
  await database?.drop();
});

/** A compiled CLI with the deployment's settings; resolves with its exit code and output. */
async function cli(name: string, args: string[] = []) {
  try {
    const { stdout, stderr } = await run(process.execPath, [`dist/cli/${name}.js`, ...args], {
      cwd: apiDir,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', DATABASE_URL: database.url, ...deployment.shared },
    });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

describe('dist/ (node, no tsx)', () => {
  it('has the entries of the image and the CLIs', () => {
    for (const f of ['main.js', 'worker.js', 'cli/migrate.js', 'cli/admin-create.js', 'cli/jobs-run.js']) {
      expect(existsSync(path.join(apiDir, 'dist', f)), f).toBe(true);
    }
  });

  it('main.js and worker.js serve a deployment: health, login by a code the worker delivers, upload, download', async () => {
    const [api, worker] = await Promise.all([
      deployment.start('main', database.url, { JOBS_IN_PROCESS: 'false' }),
      deployment.start('worker', database.url),
    ]);
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${api.url}/readyz`)).status).toBe(200);

    const access = await deployment.login(api.url, 'compiled@example.com');
    const form = new FormData();
    form.append('is_public', 'true');
    form.append('file', new Blob(['compiled bytes']), 'built.txt');
    const created = await fetch(`${api.url}/api/files/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${access}` },
      body: form,
    });
    expect(created.status).toBe(201);
    const file = (await created.json()) as { id: string; name: string };
    expect(file.name).toBe('built.txt');
    const got = await fetch(`${api.url}/f/${file.id}`);
    expect(got.status).toBe(200);
    expect(await got.text()).toBe('compiled bytes');

    expect(await api.proc.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(await worker.proc.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('the CLIs run compiled: migrate, admin:create, jobs:run', async () => {
    const [migrate, admin, unknown] = await Promise.all([
      cli('migrate'),
      cli('admin-create', ['--email', 'root@example.com']),
      cli('jobs-run', ['no-such-job']),
    ]);
    expect(migrate).toMatchObject({ code: 0, output: expect.stringMatching(/up to date/) });
    expect(admin.code, admin.output).toBe(0);
    const row = await database.db
      .selectFrom('users')
      .select('role')
      .where('email', '=', 'root@example.com')
      .executeTakeFirstOrThrow();
    expect(row.role).toBe('admin');
    expect(unknown.code).not.toBe(0);
    expect(unknown.output).toMatch(/no-such-job/);
  });
});
