/**
 * e2e support: the real API exactly as in production — `createServer(config, { serveSpas: true })` serving the
 * built SPA (with its headers and server-rendered share-page tags) on the same origin as /api, /trpc, /uploads,
 * /f and /s — against a fresh database, a Redis prefix, an SMTP server and an SMS webhook receiver (test
 * harness), and a headless system Chromium driven by playwright-core.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { codeFrom, startTestApp, type TestApp } from '../../api/test/harness.js';
import { freePort } from '../../api/test/process-helpers.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** Screenshots of the browser tests: CI keeps this directory as an artifact (see .ci/run). */
export const SHOTS = path.join(repoRoot, 'artifacts/screenshots/web');
mkdirSync(SHOTS, { recursive: true });

export interface Stack {
  app: TestApp;
  /** The app's origin (what the browser opens). */
  url: string;
  browser: Browser;
  stop(): Promise<void>;
}

export const launchChromium = () =>
  chromium.launch({
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

export async function startStack(env: Record<string, string> = {}): Promise<Stack> {
  const app = await startTestApp({ LOG_LEVEL: 'warn', ...env }, { serveSpas: true });
  const browser = await launchChromium();
  return {
    app,
    url: app.url,
    browser,
    async stop() {
      await browser.close();
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

/** A new browser context on the app, logged in (through the UI) as `email`, on /files. */
export async function loggedInContext(
  stack: Stack,
  email: string,
  options: Parameters<Browser['newContext']>[0] = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await stack.browser.newContext({ baseURL: stack.url, ...options });
  const page = await context.newPage();
  await page.goto('/otp-login');
  await loginThroughUi(page, stack.app, email);
  await page.waitForURL('**/files');
  return { context, page };
}

/** Uploads a file over the REST API as the token's owner (faster than the UI where the upload is not the point). */
export async function uploadFile(
  app: TestApp,
  token: string,
  name: string,
  content: Buffer | string,
  fields: Record<string, string> = {},
): Promise<{ id: string; share_url: string | null; thumbnail_url: string | null }> {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  form.append('file', new Blob([typeof content === 'string' ? content : new Uint8Array(content)]), name);
  const res = await fetch(`${app.url}/api/files/`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  if (res.status !== 201) throw new Error(`upload answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { id: string; share_url: string | null; thumbnail_url: string | null };
}

/**
 * A Chromium virtual authenticator on the page (CDP WebAuthn domain): a platform authenticator that holds resident
 * keys and verifies its user, as a laptop's fingerprint reader would. Returns its id and the CDP session.
 */
export async function addVirtualAuthenticator(context: BrowserContext, page: Page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
    },
  });
  return {
    authenticatorId,
    /** The credentials the authenticator holds (as the browser stored them). */
    credentials: async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials,
  };
}

/**
 * Environment for a stack whose pages are opened at http://localhost:<port>: WebAuthn refuses an IP address as the
 * relying party ID, so PUBLIC_URL (the relying party) names localhost, and the server listens on that port.
 */
export async function localhostEnv(): Promise<{ env: Record<string, string>; origin: string }> {
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  return { env: { PORT: String(port), PUBLIC_URL: origin }, origin };
}

export const uniqueEmail = (name: string) => `${name}-${Math.random().toString(36).slice(2, 8)}@example.com`;

export interface CspWatch {
  /** Violations reported so far (securitypolicyviolation events and CSP console errors), one line each. */
  violations(): Promise<string[]>;
}

/**
 * Records every Content-Security-Policy violation of a page, across navigations and in every frame: the
 * `securitypolicyviolation` events (reported by a script the browser injects before the page's own, which CSP does
 * not block) and the console errors Chromium prints for blocked resources.
 */
export async function watchCsp(page: Page): Promise<CspWatch> {
  const seen: string[] = [];
  page.on('console', (msg) => {
    if (/Content[- ]Security[- ]Policy|Refused to (load|execute|apply|connect|frame)/i.test(msg.text())) {
      seen.push(`console: ${msg.text()}`);
    }
  });
  await page.exposeBinding('__reportCspViolation', (_source, line: string) => {
    seen.push(line);
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const report = (window as unknown as { __reportCspViolation?: (line: string) => void }).__reportCspViolation;
      report?.(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  return {
    async violations() {
      // Events are delivered asynchronously: let the page's pending reports arrive first.
      await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 50))).catch(() => undefined);
      return [...seen];
    },
  };
}

/**
 * axe-core's serious and critical violations on the page as it is now (WCAG 2.x A/AA and best practices), as
 * "rule (impact): selector" lines. axe is injected through the DevTools protocol, so the page's CSP stays on.
 */
export async function axeViolations(page: Page): Promise<string[]> {
  const { AxeBuilder } = await import('@axe-core/playwright');
  const results = await new AxeBuilder({ page })
    // Chromium's own PDF viewer (an extension frame) is not ours to audit.
    .exclude('iframe.preview-pdf')
    .analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${n.target.join(' ')} — ${n.failureSummary ?? ''}`));
}
