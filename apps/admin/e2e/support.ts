/**
 * e2e support: the real API exactly as in production — `createServer(config, { serveSpas: true })` serving the built
 * admin SPA at /admin with its index.html fallback — against a fresh PostgreSQL database, a unique Redis prefix and an
 * SMTP server that receives the real login emails; plus a headless system Chromium driven by playwright-core.
 */
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import type { AppDeps } from '../../api/src/deps.types.js';
import { codeFrom, type Inbox, type ReceivedMail, startTestApp } from '../../api/test/harness.js';
import { launchChromium } from '../../web/e2e/support.js';

/** Screenshots of the console's browser tests: CI keeps artifacts/ (see .ci/run). */
export const SHOTS = new URL('../../../artifacts/screenshots/admin', import.meta.url).pathname;
export const codeIn = codeFrom;

export interface Stack {
  /** The API's origin; the console is at `${url}/admin/`. */
  url: string;
  deps: AppDeps;
  mail: Inbox<ReceivedMail>;
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

export async function startStack(env: Record<string, string> = {}): Promise<Stack> {
  // The real API exactly as in production, serving the built console at /admin (see apps/api/test/harness.ts).
  const app = await startTestApp({ LOG_LEVEL: 'warn', ...env }, { serveSpas: true });
  const { url } = app;
  const browser = await launchChromium();

  return {
    url,
    deps: app.deps,
    mail: app.mail,
    browser,
    api: app.api,
    login: (email) => app.login(email),
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
      const row = await app.deps.db
        .insertInto('users')
        .values({ email, role })
        .returning('id')
        .executeTakeFirstOrThrow();
      return row.id;
    },
    async stop() {
      await browser.close();
      await app.stop();
    },
  };
}

/** Logs in through the console's login form on the current page. */
export async function loginThroughUi(page: Page, stack: Stack, email: string): Promise<void> {
  const since = stack.mail.items.length;
  await page.getByLabel('Email address').fill(email);
  await page.getByRole('button', { name: 'Send code' }).click();
  const message = await stack.mail.wait((m) => m.to === email.toLowerCase(), { since });
  await page.getByLabel('Login code').fill(codeIn(message.text));
  await page.getByRole('button', { name: 'Log in' }).click();
}

export const uniqueEmail = (name: string) => `${name}-${randomBytes(3).toString('hex')}@example.com`;

/** The CSP violation recorder shared with the user SPA's browser tests. */
export { addVirtualAuthenticator, type CspWatch, localhostEnv, watchCsp } from '../../web/e2e/support.js';
