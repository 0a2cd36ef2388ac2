import { mkdirSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signInLinkFrom } from '../../api/test/auth-helpers.js';
import { emailedCode, loginThroughUi, SHOTS, type Stack, startStack, uniqueEmail } from './support.js';

let stack: Stack;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(async () => {
  await context?.close();
  context = await stack.browser.newContext({ baseURL: stack.url });
  page = await context.newPage();
});

describe('login', () => {
  it('logs in by email with the emailed code and lands on /files', async () => {
    const email = uniqueEmail('alice');
    await page.goto('/otp-login');
    await expect.poll(() => page.getByRole('heading', { name: 'Log in' }).isVisible()).toBe(true);
    await page.screenshot({ path: `${SHOTS}/login.png`, fullPage: true });
    await loginThroughUi(page, stack.app, email);
    await page.waitForURL('**/files');
    await expect.poll(() => page.getByRole('heading', { name: 'My files' }).isVisible()).toBe(true);
    await expect.poll(() => page.getByTestId('who').textContent()).toBe(email);
    await page.screenshot({ path: `${SHOTS}/code-step-done.png`, fullPage: true });
  });

  it('shows an error for a wrong code and accepts the right one afterwards', async () => {
    const email = uniqueEmail('bob');
    await page.goto('/otp-login');
    const since = stack.app.mail.items.length;
    await page.getByLabel('Email address').fill(email);
    await page.getByRole('button', { name: 'Send code' }).click();
    const code = await emailedCode(stack.app, email, since);
    const wrong = code === '000000' ? '111111' : '000000';
    await page.getByLabel('Code').fill(wrong);
    await page.screenshot({ path: `${SHOTS}/login-code.png`, fullPage: true });
    await page.getByRole('button', { name: 'Log in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect((await alert.textContent())?.length).toBeGreaterThan(3);
    expect(page.url()).toContain('/otp-login');
    await page.screenshot({ path: `${SHOTS}/login-error.png`, fullPage: true });
    // The resend button is on a cooldown right after sending.
    expect(await page.getByRole('button', { name: /Resend code in \d+s/ }).isDisabled()).toBe(true);
    await page.getByLabel('Code').fill(code);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL('**/files');
  });

  it('signs in with the link of the code email, and takes the token out of the address bar', async () => {
    const email = uniqueEmail('linda');
    const since = stack.app.mail.items.length;
    expect((await stack.app.api('POST', '/api/otp-login/', { body: { email } })).status).toBe(200);
    const mail = await stack.app.mail.wait((m) => m.to === email, { since });
    const { url } = signInLinkFrom(mail.text);
    expect(url.startsWith(`${stack.url}/otp-login#token=`)).toBe(true);
    const seen: string[] = [];
    page.on('request', (r) => seen.push(r.url()));

    await page.goto(url);
    await page.waitForURL('**/files');
    await expect.poll(() => page.getByTestId('who').textContent()).toBe(email);
    expect(new URL(page.url()).hash).toBe('');
    // The token reached the server only in the POST body, never in a URL the browser fetched.
    const token = url.split('#token=')[1] as string;
    expect(seen.filter((u) => u.startsWith(stack.url) && !u.includes('#')).some((u) => u.includes(token))).toBe(false);
    // Back does not bring the token back: the entry that held it was replaced.
    await page.goBack().catch(() => undefined);
    expect(page.url()).not.toContain('token=');

    // The link works once: opened again, it shows the error as for a wrong code, and the fragment is gone too.
    await page.goto(url);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/link is invalid, used or expired/);
    expect(new URL(page.url()).hash).toBe('');
    expect(page.url()).toContain('/otp-login');
    await page.screenshot({ path: `${SHOTS}/login-link-used.png`, fullPage: true });
  });

  it('when no more codes may be asked for (429), points to the link of the latest message, which signs in', async () => {
    const email = uniqueEmail('lena');
    // This address has used up its code requests from this IP (as a stranger on the same network could).
    for (let i = 0; i < 5; i++) {
      expect((await stack.app.api('POST', '/api/otp-login/', { body: { email } })).status).toBe(200);
    }
    await expect.poll(() => stack.app.mail.items.filter((m) => m.to === email).length).toBe(5);
    await page.goto('/otp-login');
    await page.getByLabel('Email address').fill(email);
    await page.getByRole('button', { name: 'Send code' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/open the sign-in link in the latest one: it still works/);
    await page.screenshot({ path: `${SHOTS}/login-code-limited.png`, fullPage: true });

    const latest = stack.app.mail.items.filter((m) => m.to === email).at(-1);
    await page.goto(signInLinkFrom(latest?.text ?? '').url);
    await page.waitForURL('**/files');
    await expect.poll(() => page.getByTestId('who').textContent()).toBe(email);
  });

  it('shows the server message for an invalid phone number', async () => {
    await page.goto('/otp-login');
    await page.getByRole('tab', { name: 'Phone' }).click();
    await page.getByLabel('Phone number').fill('12');
    await page.getByRole('button', { name: 'Send code' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(/\w+/);
  });

  it('sends a logged-out visitor of /settings to login and back there afterwards', async () => {
    const email = uniqueEmail('carol');
    await page.goto('/settings');
    await page.waitForURL(/\/otp-login\?redirect=/);
    await loginThroughUi(page, stack.app, email);
    await page.waitForURL('**/settings');
    await expect.poll(() => page.getByTestId('me-email').textContent()).toBe(email);
  });

  it('redirects a logged-out visit to /files to login', async () => {
    await page.goto('/files');
    await page.waitForURL(/\/otp-login\?redirect=%2Ffiles/);
    await expect.poll(() => page.getByRole('button', { name: 'Send code' }).isVisible()).toBe(true);
  });
});

describe('session', () => {
  it('survives a reload (refresh token), lists the current session, and logs out back to login', async () => {
    const email = uniqueEmail('dave');
    // A second session for the same person, from "another device".
    const other = await stack.app.login(email);
    await page.goto('/otp-login');
    await loginThroughUi(page, stack.app, email);
    await page.waitForURL('**/files');
    await page.reload();
    // The reloaded page refreshes its tokens first; leaving before that answer arrives would lose the new ones.
    await page.getByRole('heading', { name: 'My files' }).waitFor();
    await page.goto('/settings');
    await page.getByTestId('me-email').waitFor();
    const sessions = page.getByTestId('session');
    await expect.poll(() => sessions.count()).toBe(2);
    expect(await page.getByText('This device').count()).toBe(1);
    await page.screenshot({ path: `${SHOTS}/settings.png`, fullPage: true });

    // Revoke the other device's session.
    await page.getByRole('button', { name: 'Revoke' }).click();
    await expect.poll(() => sessions.count()).toBe(1);
    const refreshed = await stack.app.api('POST', '/api/token/refresh/', { body: { refresh: other.refresh } });
    expect(refreshed.status).toBe(401);

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL('**/otp-login');
    expect(await page.evaluate(() => localStorage.getItem('tagdrop.refresh'))).toBeNull();
    await page.goto('/settings');
    await page.waitForURL(/\/otp-login/);
  });

  it('runs a single refresh for many concurrent requests after the access token is lost', async () => {
    const email = uniqueEmail('erin');
    await page.goto('/otp-login');
    await loginThroughUi(page, stack.app, email);
    await page.waitForURL('**/files');
    const refreshCalls: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('auth.refresh')) refreshCalls.push(r.url());
    });
    // A reload drops the in-memory access token; the settings page then fires several queries at once.
    await page.goto('/settings');
    await page.getByTestId('me-email').waitFor();
    await expect.poll(() => page.getByTestId('session').count()).toBe(1);
    expect(refreshCalls.length).toBe(1);
    // Still logged in, with a working (rotated) refresh token.
    await page.reload();
    await page.getByTestId('me-email').waitFor();
    expect(refreshCalls.length).toBe(2);
  });
});
