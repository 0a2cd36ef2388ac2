/**
 * e2e support: the real API exactly as in production — `createServer(config, { serveSpas: true })` serving the built
 * admin SPA at /admin with its index.html fallback — against a fresh PostgreSQL database, a unique Redis prefix and an
 * SMTP server that receives the real login emails; plus a headless system Chromium driven by playwright-core.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createTestDatabase, type TestDatabase } from '@tagdrop/db/testing';
import { simpleParser } from 'mailparser';
import { type Browser, chromium, type Page } from 'playwright-core';
import { SMTPServer } from 'smtp-server';
import type { AppDeps } from '../../api/src/deps.js';
import { loadConfig } from '../../api/src/env.js';
import { createServer } from '../../api/src/server.js';

export const SHOTS = '/tmp/tagdrop-admin-e2e';

interface Mail {
  to: string;
  text: string;
}

/** Received emails; `next(to, since)` waits for the first one to `to` after mail number `since`. */
class Mailbox {
  readonly items: Mail[] = [];
  private waiters: { to: string; since: number; resolve: (m: Mail) => void }[] = [];

  push(mail: Mail) {
    this.items.push(mail);
    const index = this.items.length - 1;
    this.waiters = this.waiters.filter((w) => {
      if (w.to !== mail.to || index < w.since) return true;
      w.resolve(mail);
      return false;
    });
  }

  next(to: string, since: number, timeoutMs = 15_000): Promise<Mail> {
    const address = to.toLowerCase();
    const found = this.items.slice(since).find((m) => m.to === address);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no email to ${address}`)), timeoutMs);
      this.waiters.push({
        to: address,
        since,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }
}

async function startSmtp(mailbox: Mailbox) {
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          for (const rcpt of session.envelope.rcptTo) {
            mailbox.push({ to: rcpt.address.toLowerCase(), text: mail.text ?? '' });
          }
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const port = (smtp.server.address() as AddressInfo).port;
  return { port, close: () => new Promise<void>((resolve) => smtp.close(() => resolve())) };
}

export const codeIn = (text: string) => {
  const match = /\b(\d{6})\b/.exec(text);
  if (!match?.[1]) throw new Error(`no code in: ${text}`);
  return match[1];
};

export interface Stack {
  /** The API's origin; the console is at `${url}/admin/`. */
  url: string;
  deps: AppDeps;
  mail: Mailbox;
  browser: Browser;
  /** JSON request against the API. */
  api<T = unknown>(
    method: string,
    path: string,
    options?: { body?: unknown; token?: string },
  ): Promise<{ status: number; body: T }>;
  /** Logs in over the REST API (not the browser). */
  login(email: string): Promise<{ access: string; refresh: string; user: { id: string; role: string } }>;
  /** Uploads a small text file over the REST API as the token's owner. */
  upload(
    token: string,
    name: string,
    content: string,
    fields?: { description?: string; hashtags?: string; is_public?: boolean },
  ): Promise<{ id: string }>;
  /** Creates a user directly in the database. */
  createUser(email: string, role?: 'user' | 'admin'): Promise<string>;
  stop(): Promise<void>;
}

export async function startStack(): Promise<Stack> {
  const database: TestDatabase = await createTestDatabase('tagdrop_admin_e2e');
  const mail = new Mailbox();
  const smtp = await startSmtp(mail);
  const dataDir = `/tmp/tagdrop-admin-e2e-${randomBytes(6).toString('hex')}`;
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    SECRET_KEY: randomBytes(32).toString('hex'),
    DATABASE_URL: database.url,
    REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_KEY_PREFIX: `tagdrop-admin-e2e:${randomBytes(6).toString('hex')}:`,
    DATA_DIR: dataDir,
    EMAIL_HOST: '127.0.0.1',
    EMAIL_PORT: String(smtp.port),
    EMAIL_FROM: 'Tagdrop <no-reply@tagdrop.test>',
    JOB_PROCESS_EVERY: '1 second',
    LOG_LEVEL: 'warn',
  });
  const server = createServer(config, { serveSpas: true });
  const { url } = await server.start();
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });

  const api: Stack['api'] = async (method, path, options = {}) => {
    const headers: Record<string, string> = {};
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const res = await fetch(`${url}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as never };
  };

  return {
    url,
    deps: server.deps,
    mail,
    browser,
    api,
    async login(email) {
      const since = mail.items.length;
      const requested = await api('POST', '/api/otp-login/', { body: { email } });
      if (requested.status !== 200) throw new Error(`otp-login answered ${requested.status}`);
      const message = await mail.next(email, since);
      const verified = await api<{ access: string; refresh: string; user: { id: string; role: string } }>(
        'POST',
        '/api/verify-otp/',
        { body: { email, otp: codeIn(message.text) } },
      );
      if (verified.status !== 200) throw new Error(`verify-otp answered ${verified.status}`);
      return verified.body;
    },
    async upload(token, name, content, fields = {}) {
      const form = new FormData();
      for (const [key, value] of Object.entries(fields)) form.append(key, String(value));
      form.append('file', new Blob([content], { type: 'text/plain' }), name);
      const res = await fetch(`${url}/api/files/`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: form,
      });
      if (res.status !== 201) throw new Error(`upload answered ${res.status}: ${await res.text()}`);
      return (await res.json()) as { id: string };
    },
    async createUser(email, role = 'user') {
      const row = await server.deps.db
        .insertInto('users')
        .values({ email, role })
        .returning('id')
        .executeTakeFirstOrThrow();
      return row.id;
    },
    async stop() {
      await browser.close();
      await server.stop();
      await smtp.close();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Logs in through the console's login form on the current page. */
export async function loginThroughUi(page: Page, stack: Stack, email: string): Promise<void> {
  const since = stack.mail.items.length;
  await page.getByLabel('Email address').fill(email);
  await page.getByRole('button', { name: 'Send code' }).click();
  const message = await stack.mail.next(email, since);
  await page.getByLabel('Login code').fill(codeIn(message.text));
  await page.getByRole('button', { name: 'Log in' }).click();
}

export const uniqueEmail = (name: string) => `${name}-${randomBytes(3).toString('hex')}@example.com`;
