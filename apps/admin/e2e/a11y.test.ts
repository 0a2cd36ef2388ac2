/**
 * Every page of the admin console, logged out and logged in (the login's SMS choice and code step, the not-found
 * page and, with ADMIN_REQUIRE_PASSKEY, the page that asks a code-session admin for a passkey, included): axe-core
 * finds no serious or critical violation; and the console at 390×844 (screenshots kept as CI artifacts).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp } from '../../api/test/harness.js';
import { axeViolations } from '../../web/e2e/support.js';
import { codeIn, loginThroughUi, SHOTS, type Stack, startStack, uniqueEmail } from './support.js';

let stack: Stack;
const MOBILE = path.join(SHOTS, 'mobile');

beforeAll(async () => {
  mkdirSync(MOBILE, { recursive: true });
  stack = await startStack();
  // Something on every page: a user with public and private files and hashtags, an audit trail.
  const { access } = await stack.login(uniqueEmail('someone'));
  await stack.upload(access, 'report.txt', 'numbers\n', { hashtags: 'work', is_public: true });
  await stack.upload(access, 'secret.txt', 'private\n', { hashtags: 'work,private' });
});
afterAll(async () => {
  await stack?.stop();
});

/** The login form with the code sent by SMS: the phone number field. */
async function chooseSms(page: Page) {
  await page.getByRole('radio', { name: 'SMS' }).check();
  await page.getByLabel('Phone number').waitFor();
}

/** An address that is no page of the console. */
async function openNotFound(page: Page) {
  await page.goto('/admin/no/such/page');
  await page.getByText('There is no such page in the admin console.').waitFor();
  // A page of its own: one main landmark with a top-level heading (logged in or not).
  await page.getByRole('main').getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
  await page.waitForLoadState('networkidle');
}

const pages: [string, string][] = [
  ['/admin/users', 'Users'],
  ['/admin/files', 'Files'],
  ['/admin/hashtags', 'Hashtags'],
  ['/admin/stats', 'Statistics'],
  ['/admin/jobs', 'Background jobs'],
  ['/admin/audit', 'Audit log'],
];

describe('axe-core: no serious or critical violations', () => {
  it('on the login page (logged out) and on every page of the console', async () => {
    const context = await stack.browser.newContext({ baseURL: stack.url });
    const page = await context.newPage();
    const found: string[] = [];
    await page.goto('/admin/');
    await page.waitForURL(/\/admin\/login/);
    await page.getByRole('heading', { name: 'Tagdrop admin' }).waitFor();
    found.push(...(await axeViolations(page)).map((v) => `/admin/login: ${v}`));
    await chooseSms(page);
    found.push(...(await axeViolations(page)).map((v) => `/admin/login (SMS): ${v}`));
    await openNotFound(page);
    found.push(...(await axeViolations(page)).map((v) => `not found (logged out): ${v}`));

    await page.goto('/admin/login');
    const email = uniqueEmail('admin');
    await stack.createUser(email, 'admin');
    // The code-entry step, before the code is typed.
    const since = stack.mail.items.length;
    await page.getByLabel('Email address').fill(email);
    await page.getByRole('button', { name: 'Send code' }).click();
    await page.getByLabel('Login code').waitFor();
    found.push(...(await axeViolations(page)).map((v) => `/admin/login (code step): ${v}`));
    const message = await stack.mail.wait((m) => m.to === email.toLowerCase(), { since });
    await page.getByLabel('Login code').fill(codeIn(message.text));
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(/\/admin\/users$/);
    for (const [url, heading] of pages) {
      await page.goto(url);
      await page.getByRole('heading', { level: 1, name: heading }).waitFor();
      await page.waitForLoadState('networkidle');
      found.push(...(await axeViolations(page)).map((v) => `${url}: ${v}`));
    }
    await openNotFound(page);
    found.push(...(await axeViolations(page)).map((v) => `not found: ${v}`));
    expect(found).toEqual([]);
    await context.close();
  });

  it('on /admin/passkey, where ADMIN_REQUIRE_PASSKEY sends an admin who signed in with a code', async () => {
    const gated = await startTestApp({ LOG_LEVEL: 'warn', ADMIN_REQUIRE_PASSKEY: 'true' }, { serveSpas: true });
    const context = await stack.browser.newContext({ baseURL: gated.url });
    try {
      const page = await context.newPage();
      const email = uniqueEmail('gated');
      await gated.deps.db.insertInto('users').values({ email, role: 'admin' }).execute();
      await page.goto('/admin/users');
      await page.waitForURL(/\/admin\/login/);
      const since = gated.mail.items.length;
      await page.getByLabel('Email address').fill(email);
      await page.getByRole('button', { name: 'Send code' }).click();
      const message = await gated.mail.wait((m) => m.to === email, { since });
      await page.getByLabel('Login code').fill(codeIn(message.text));
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(/\/admin\/passkey/);
      await page.getByRole('heading', { level: 1, name: 'Passkey required' }).waitFor();
      // The form to add one (this browser can use passkeys), not the "cannot" notice.
      await page.getByLabel('Passkey name').waitFor();
      await page.waitForLoadState('networkidle');
      expect(await axeViolations(page)).toEqual([]);
    } finally {
      await context.close();
      await gated.stop();
    }
  });

  it('at 390×844: every page fits the screen; screenshots are kept; axe on the SMS login and not-found page', async () => {
    const context = await stack.browser.newContext({
      baseURL: stack.url,
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    const page = await context.newPage();
    const email = uniqueEmail('admin');
    await stack.createUser(email, 'admin');
    await page.goto('/admin/login');
    await page.getByRole('heading', { name: 'Tagdrop admin' }).waitFor();
    await page.screenshot({ path: path.join(MOBILE, 'login.png'), fullPage: true });
    const found: string[] = [];
    const tooWide: string[] = [];
    const check = async (name: string) => {
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      if (width > 390) tooWide.push(`${name}: ${width}px`);
      await page.screenshot({ path: path.join(MOBILE, `${name}.png`), fullPage: true });
      found.push(...(await axeViolations(page)).map((v) => `${name}: ${v}`));
    };
    await chooseSms(page);
    await check('login-sms');
    await page.getByRole('radio', { name: 'Email' }).check();
    await loginThroughUi(page, stack, email);
    await page.waitForURL(/\/admin\/users$/);
    for (const [url, heading] of pages) {
      await page.goto(url);
      await page.getByRole('heading', { level: 1, name: heading }).waitFor();
      await page.waitForLoadState('networkidle');
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      if (width > 390) tooWide.push(`${url}: ${width}px`);
      await page.screenshot({ path: path.join(MOBILE, `${url.split('/').pop()}.png`), fullPage: true });
    }
    await openNotFound(page);
    await check('not-found');
    expect(tooWide).toEqual([]);
    expect(found).toEqual([]);
    await context.close();
  });
});
