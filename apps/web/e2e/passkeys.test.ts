/**
 * Passkeys in Chromium with a virtual authenticator (CDP WebAuthn, ctap2, internal transport, resident keys, user
 * verification): add one in Settings after a code login, log out, sign in with it from the login page without
 * typing an address, see it used and the session's method, remove it. No CSP violation on the way.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addVirtualAuthenticator,
  localhostEnv,
  loginThroughUi,
  SHOTS,
  type Stack,
  startStack,
  uniqueEmail,
  watchCsp,
} from './support.js';

let stack: Stack;
let origin: string;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  const local = await localhostEnv();
  origin = local.origin;
  stack = await startStack(local.env);
  context = await stack.browser.newContext({ baseURL: origin });
  page = await context.newPage();
});
afterAll(async () => {
  await context?.close();
  await stack?.stop();
});

describe('passkeys', () => {
  it('adds a passkey in Settings, logs out, and signs back in with it', async () => {
    const csp = await watchCsp(page);
    const authenticator = await addVirtualAuthenticator(context, page);
    const email = uniqueEmail('passkey');
    await page.goto('/otp-login');
    await loginThroughUi(page, stack.app, email);
    await page.waitForURL('**/files');

    await page.goto('/settings');
    await expect.poll(() => page.getByText('No passkeys yet.').isVisible()).toBe(true);
    await page.getByLabel('Passkey name').fill('Laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    const item = page.getByTestId('passkey');
    await expect.poll(() => item.count()).toBe(1);
    expect(await item.textContent()).toContain('Laptop');
    expect(await item.textContent()).toContain('never used');
    expect(await authenticator.credentials()).toHaveLength(1);
    expect((await authenticator.credentials())[0]?.isResidentCredential).toBe(true);
    await page.screenshot({ path: `${SHOTS}/settings-passkeys.png`, fullPage: true });

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL('**/otp-login**');
    await page.screenshot({ path: `${SHOTS}/login-passkey.png`, fullPage: true });
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForURL('**/files');
    await expect.poll(() => page.getByTestId('who').textContent()).toBe(email);

    await page.goto('/settings');
    await expect.poll(async () => (await page.getByTestId('passkey').textContent()) ?? '').toContain('last used');
    // The code session ended at logout; this one began with the passkey.
    const sessions = page.getByTestId('session');
    await expect.poll(() => sessions.count()).toBe(1);
    expect(await sessions.textContent()).toContain('This device');
    expect(await sessions.textContent()).toContain('signed in with a passkey');
    await page.screenshot({ path: `${SHOTS}/settings-passkey-used.png`, fullPage: true });

    await page.getByRole('button', { name: 'Remove passkey Laptop' }).click();
    await expect.poll(() => page.getByText('No passkeys yet.').isVisible()).toBe(true);
    expect(await csp.violations()).toEqual([]);
  });

  it('says so when the browser has no passkey for the site', async () => {
    const fresh = await stack.browser.newContext({ baseURL: origin });
    try {
      const other = await fresh.newPage();
      await addVirtualAuthenticator(fresh, other); // an authenticator with no credential for this site
      await other.goto('/otp-login');
      await other.getByRole('button', { name: 'Sign in with a passkey' }).click();
      const alert = other.getByRole('alert');
      await alert.waitFor({ timeout: 30_000 });
      expect(await alert.textContent()).toMatch(/no passkey|cancelled|timed out/i);
      expect(other.url()).toContain('/otp-login');
    } finally {
      await fresh.close();
    }
  });
});
