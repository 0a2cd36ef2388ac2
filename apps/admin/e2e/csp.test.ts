/**
 * The admin console under the server's real Content-Security-Policy: every section renders and the browser reports
 * no violation at all.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CspWatch, loginThroughUi, type Stack, startStack, uniqueEmail, watchCsp } from './support.js';

let stack: Stack;
let context: BrowserContext;
let page: Page;
let csp: CspWatch;

beforeAll(async () => {
  stack = await startStack();
  context = await stack.browser.newContext({ baseURL: stack.url, viewport: { width: 1366, height: 860 } });
  page = await context.newPage();
  csp = await watchCsp(page);
});
afterAll(async () => {
  await context?.close();
  await stack?.stop();
});

describe('the admin console under its CSP', () => {
  it('serves /admin with the strict policy and logs in with no violation', async () => {
    const res = await page.goto('/admin/');
    const policy = res?.headers()['content-security-policy'] ?? '';
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).toContain("object-src 'none'");
    const email = uniqueEmail('csp-admin');
    await stack.createUser(email, 'admin');
    const { access } = await stack.login(uniqueEmail('csp-user'));
    await stack.upload(access, 'seen-by-admin.txt', 'hello', { hashtags: 'csp', is_public: true });
    await page.waitForURL(/\/admin\/login/);
    await loginThroughUi(page, stack, email);
    await page.waitForURL(/\/admin\/users$/);
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    expect(await csp.violations()).toEqual([]);
  });

  it.each([
    ['Files', 'Files'],
    ['Hashtags', 'Hashtags'],
    ['Statistics', 'Statistics'],
    ['Jobs', 'Background jobs'],
    ['Audit log', 'Audit log'],
    ['Users', 'Users'],
  ])('the %s section renders with no violation', async (link, heading) => {
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: link }).click();
    await page.getByRole('heading', { name: heading, exact: true }).waitFor();
    await page.waitForLoadState('networkidle');
    expect(await csp.violations()).toEqual([]);
  });
});
