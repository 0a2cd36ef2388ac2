/**
 * e2e support: the real API (test harness: fresh database, Redis prefix, SMTP capture) behind the built SPA,
 * and a headless system Chromium driven by playwright-core.
 *
 * The harness starts the API with `serveSpas: false`, so the built SPA is served by `vite preview`, which proxies the
 * API's paths to the harness server: one origin for the browser, as in production.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type PreviewServer, preview } from 'vite';
import { codeFrom, startTestApp, type TestApp } from '../../api/test/harness.js';

const webRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SHOTS = '/tmp/tagdrop-web-e2e';

export interface Stack {
  app: TestApp;
  /** The SPA's origin (what the browser opens). */
  url: string;
  browser: Browser;
  stop(): Promise<void>;
}

export async function startStack(): Promise<Stack> {
  const app = await startTestApp();
  const target = app.url;
  const proxy = Object.fromEntries(
    ['/api', '/trpc', '/uploads', '/f/', '/s/', '/healthz'].map((p) => [p, { target, changeOrigin: false, ws: false }]),
  );
  const server: PreviewServer = await preview({
    root: webRoot,
    configFile: false,
    logLevel: 'warn',
    preview: { host: '127.0.0.1', port: 0, strictPort: false, proxy },
  });
  const url = server.resolvedUrls?.local[0]?.replace(/\/$/, '');
  if (!url) throw new Error('vite preview has no URL');
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
  return {
    app,
    url,
    browser,
    async stop() {
      await browser.close();
      await server.close();
      await app.stop();
    },
  };
}

/** Reads the newest code emailed to `email` after mail number `since`. */
export async function emailedCode(app: TestApp, email: string, since: number): Promise<string> {
  const mail = await app.mail.wait((m) => m.to === email.toLowerCase(), { since });
  return codeFrom(mail.text);
}

/** Logs in through the UI on the current page (which must show the login form). */
export async function loginThroughUi(page: Page, app: TestApp, email: string): Promise<void> {
  const since = app.mail.items.length;
  await page.getByLabel('Email address').fill(email);
  await page.getByRole('button', { name: 'Send code' }).click();
  const code = await emailedCode(app, email, since);
  await page.getByLabel('Code').fill(code);
  await page.getByRole('button', { name: 'Log in' }).click();
}

export const uniqueEmail = (name: string) => `${name}-${Math.random().toString(36).slice(2, 8)}@example.com`;
