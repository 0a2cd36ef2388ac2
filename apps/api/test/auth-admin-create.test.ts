/**
 * `npm run admin:create -- --email a@b.c` (or `--phone`): creates or promotes an admin, who then logs in with
 * the ordinary OTP flow. Runs the real CLI as a child process against the test database.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeFrom, REDIS_URL, startTestApp, type TestApp } from './harness.js';

const apiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

let app: TestApp;
let existing: { access: string; user: { id: string; role: string } };
type Run = { code: number; stdout: string; stderr: string; afterOutputMs: number };
let runs: Record<'promote' | 'phone' | 'none', Run>;

beforeAll(async () => {
  app = await startTestApp();
  existing = await app.login('Promoted@Example.com');
  // One process at a time: processes starting together can trip over each other (see the report on
  // agenda's schema creation), and that is not what this file tests.
  const promote = await adminCreate('--email', 'PROMOTED@example.com');
  const phone = await adminCreate('--phone', '+1 (415) 555-2671');
  const none = await adminCreate();
  runs = { promote, phone, none };
}, 90_000);
afterAll(async () => {
  if (!app) return;
  // Agenda's drain can miss a job finishing and wait its whole timeout: stop once no job runs.
  for (let i = 0; i < 100; i++) {
    const stats = await app.deps.jobs.agenda.getRunningStats().catch(() => undefined);
    if (!stats || Number(stats.runningJobs) === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await app.stop();
});

async function adminCreate(...args: string[]): Promise<Run> {
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    NODE_ENV: 'test',
    DATABASE_URL: app.database.url,
    REDIS_URL,
    REDIS_KEY_PREFIX: app.config.REDIS_KEY_PREFIX,
    SECRET_KEY: app.config.SECRET_KEY ?? '',
    DATA_DIR: app.config.dataDir,
    LOG_LEVEL: 'warn',
  };
  // Spawned (not execFile) to see when its last output came: the time from there to the exit is what a pool or
  // socket left open would stretch (an idle pg pool keeps a process alive 10 s), whatever the start-up cost.
  return new Promise<Run>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/admin-create.ts', ...args], {
      cwd: apiDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let lastOutputAt = Date.now();
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      lastOutputAt = Date.now();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      lastOutputAt = Date.now();
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code: code ?? 1, stdout, stderr, afterOutputMs: Date.now() - lastOutputAt });
    });
  });
}

describe('admin:create', () => {
  it('promotes an existing user: same account, admin at once, and a fresh login says admin', async () => {
    expect(runs.promote.code, runs.promote.stderr).toBe(0);
    expect(runs.promote.stdout).toContain('promoted@example.com');
    const users = await app.deps.db
      .selectFrom('users')
      .select(['id', 'role'])
      .where('email', '=', 'promoted@example.com')
      .execute();
    expect(users).toEqual([{ id: existing.user.id, role: 'admin' }]);
    const me = await app.api<{ role: string }>('GET', '/api/me/', { token: existing.access });
    expect(me.body.role).toBe('admin');
    const again = await app.login('promoted@example.com');
    expect(again.user).toMatchObject({ id: existing.user.id, role: 'admin' });
  });

  it('creates a new admin by phone, stored in E.164, who logs in by SMS', async () => {
    expect(runs.phone.code, runs.phone.stderr).toBe(0);
    const since = app.sms.items.length;
    await app.api('POST', '/api/otp-login/', { body: { phone: '+14155552671' } });
    const sms = await app.sms.wait((m) => m.to === '+14155552671', { since });
    const verified = await app.api<{ user: { role: string; phone: string } }>('POST', '/api/verify-otp/', {
      body: { phone: '+14155552671', otp: codeFrom(sms.body) },
    });
    expect(verified.status, JSON.stringify(verified.body)).toBe(200);
    expect(verified.body.user).toMatchObject({ role: 'admin', phone: '+14155552671' });
  });

  it('explains its usage and fails without --email or --phone', () => {
    expect(runs.none.code).not.toBe(0);
    expect(runs.none.stderr).toMatch(/--email/);
    expect(runs.none.stderr).toMatch(/--phone/);
  });

  it('exits as soon as it is done (no connection left open)', () => {
    // Its last words come just before the exit; an idle pg pool left open would keep it alive 10 s longer.
    for (const run of Object.values(runs)) expect(run.afterOutputMs).toBeLessThan(5_000);
  });
});
