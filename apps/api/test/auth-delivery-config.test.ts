/**
 * Code delivery in production (issue 8 item 6): the server refuses to start without a way to deliver codes (naming
 * the variable), SMS_PROVIDER=none turns phone login off with a clear 400, and codes never reach the log outside
 * development.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/env.js';
import { createLogger } from '../src/infra/logger.js';
import { otpCodeHash } from '../src/modules/auth/otp.service.js';
import { stopWhenIdle } from './auth-helpers.js';
import { codeFrom, startTestApp, type TestApp } from './harness.js';

type ErrorBody = { error: { code: string; fields?: Record<string, string[]> } };

const apiRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const production = {
  NODE_ENV: 'production',
  SECRET_KEY: randomBytes(32).toString('hex'),
  PUBLIC_URL: 'https://files.example.com',
  EMAIL_HOST: 'smtp.example.com',
  SMS_PROVIDER: 'webhook',
  SMS_WEBHOOK_URL: 'https://sms.example.com/hook',
};
const without = (key: keyof typeof production) => {
  const { [key]: _, ...rest } = production;
  return rest;
};
const configError = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  return null;
};

const apps: TestApp[] = [];
afterAll(async () => {
  await Promise.all(apps.map(stopWhenIdle));
});

/** A test app whose log lines are kept (at trace level, through the real logger and its redaction). */
async function loggedApp(env: Record<string, string>) {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const log = createLogger({ LOG_LEVEL: 'trace', DEBUG: false, NODE_ENV: 'test' }, sink);
  const app = await startTestApp(env, { log });
  apps.push(app);
  return { app, text: () => lines.join('') };
}

/** The code of the newest challenge of `destination`, recovered from its hash (for codes that were not delivered). */
async function codeOf(app: TestApp, destination: string): Promise<string> {
  const row = await app.deps.db
    .selectFrom('otp_challenges')
    .select(['id', 'code_hash'])
    .where('destination', '=', destination)
    .orderBy('created_at', 'desc')
    .executeTakeFirstOrThrow();
  for (let n = 0; n < 1_000_000; n++) {
    const code = String(n).padStart(6, '0');
    if (otpCodeHash(app.deps, row.id, code) === row.code_hash) return code;
  }
  throw new Error('no code matches');
}

/** Waits until `times` send-otp jobs ran (each logs one "send-otp:" line: sent, closed or no longer open). */
async function jobsRan(text: () => string, times: number) {
  await expect.poll(() => text().split('send-otp:').length - 1, { timeout: 15_000 }).toBeGreaterThanOrEqual(times);
}

describe('production refuses to start without a way to deliver codes', () => {
  it('names EMAIL_HOST when it is missing', () => {
    expect(configError(without('EMAIL_HOST'))).toMatch(/EMAIL_HOST: required when NODE_ENV=production/);
  });

  it('names SMS_PROVIDER when it is console (the default) and offers none', () => {
    const message = configError({ ...without('SMS_PROVIDER'), SMS_WEBHOOK_URL: '' });
    expect(message).toMatch(/SMS_PROVIDER: set webhook or twilio/);
    expect(message).toMatch(/none/);
    expect(configError({ ...production, SMS_PROVIDER: 'console' })).toMatch(/SMS_PROVIDER/);
  });

  it('starts with EMAIL_HOST and webhook, twilio or none', () => {
    expect(configError(production)).toBeNull();
    expect(configError({ ...production, SMS_PROVIDER: 'none' })).toBeNull();
    expect(
      configError({
        ...production,
        SMS_PROVIDER: 'twilio',
        TWILIO_ACCOUNT_SID: 'AC1',
        TWILIO_AUTH_TOKEN: 't',
        TWILIO_FROM: '+15005550006',
      }),
    ).toBeNull();
    // Development keeps its log fallbacks.
    expect(configError({ NODE_ENV: 'development' })).toBeNull();
  });

  it('npm start exits with the message on stderr', () => {
    const { EMAIL_HOST: _, ...env } = { ...process.env, ...production, SMS_PROVIDER: 'console' };
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: apiRoot,
      env,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(78);
    expect(run.stderr).toMatch(/EMAIL_HOST: required when NODE_ENV=production/);
    expect(run.stderr).toMatch(/SMS_PROVIDER: set webhook or twilio/);
  });
});

describe('SMS_PROVIDER=none', () => {
  it('turns phone login off with 400 phone_login_disabled; email login still works', async () => {
    const app = await startTestApp({ SMS_PROVIDER: 'none', SMS_WEBHOOK_URL: '' });
    apps.push(app);
    for (const path of ['/api/otp-login/', '/api/verify-otp/']) {
      const body = path.includes('verify') ? { phone: '+14155552671', otp: '123456' } : { phone: '+14155552671' };
      const res = await app.api<ErrorBody>('POST', path, { body });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('phone_login_disabled');
      expect(res.body.error.fields?.phone).toBeDefined();
    }
    const trpc = await fetch(`${app.url}/trpc/auth.requestOtp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ phone: '+14155552671' }),
    });
    expect(trpc.status).toBe(400);
    expect(((await trpc.json()) as { error: { data: { code: string } } }).error.data.code).toBe('phone_login_disabled');
    expect((await app.login('still-email@example.com')).access).toEqual(expect.any(String));
  });
});

describe('codes never reach the log outside development', () => {
  it('production: emailed and texted codes, right and wrong guesses, nothing in the log', async () => {
    const { app, text } = await loggedApp({ NODE_ENV: 'production', PUBLIC_URL: 'http://127.0.0.1' });
    const codes: string[] = [];
    let since = app.mail.items.length;
    await app.api('POST', '/api/otp-login/', { body: { email: 'prod@example.com' } });
    codes.push(codeFrom((await app.mail.wait((m) => m.to === 'prod@example.com', { since })).text));
    since = app.sms.items.length;
    await app.api('POST', '/api/otp-login/', { body: { phone: '+14155552671' } });
    codes.push(codeFrom((await app.sms.wait((m) => m.to === '+14155552671', { since })).body));
    const guess = codes[0] === '999999' ? '999998' : '999999';
    const wrong = await app.api('POST', '/api/verify-otp/', { body: { email: 'prod@example.com', otp: guess } });
    expect(wrong.status).toBe(400);
    expect(
      (await app.api('POST', '/api/verify-otp/', { body: { email: 'prod@example.com', otp: codes[0] } })).status,
    ).toBe(200);
    expect((await app.api('POST', '/api/verify-otp/', { body: { phone: '+14155552671', otp: codes[1] } })).status).toBe(
      200,
    );
    await jobsRan(text, 2);
    expect(text()).toContain('send-otp: delivered');
    for (const code of codes) expect(text()).not.toContain(code);
  });

  it('test mode without EMAIL_HOST or an SMS provider: "not sent" is logged, the code is not', async () => {
    const { app, text } = await loggedApp({ EMAIL_HOST: '', SMS_PROVIDER: 'console', SMS_WEBHOOK_URL: '' });
    await app.api('POST', '/api/otp-login/', { body: { email: 'quiet@example.com' } });
    await app.api('POST', '/api/otp-login/', { body: { phone: '+14155552671' } });
    await jobsRan(text, 2);
    expect(text()).toContain('EMAIL_HOST unset: email not sent');
    expect(text()).toContain('SMS_PROVIDER=console: SMS not sent');
    for (const destination of ['quiet@example.com', '+14155552671']) {
      expect(text()).not.toContain(await codeOf(app, destination));
    }
  });

  it('development: the code is printed (so the two checks above can fail)', async () => {
    const { app, text } = await loggedApp({ NODE_ENV: 'development', EMAIL_HOST: '', SMS_PROVIDER: 'console' });
    await app.api('POST', '/api/otp-login/', { body: { email: 'dev@example.com' } });
    await app.api('POST', '/api/otp-login/', { body: { phone: '+14155552671' } });
    await jobsRan(text, 2);
    expect(text()).toContain(await codeOf(app, 'dev@example.com'));
    expect(text()).toContain(await codeOf(app, '+14155552671'));
  });
});
