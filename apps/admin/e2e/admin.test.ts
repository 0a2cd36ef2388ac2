import { mkdirSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { revokeUserSessions } from '../../api/src/modules/auth/sessions.service.js';
import { loginThroughUi, SHOTS, type Stack, startStack, uniqueEmail } from './support.js';

let stack: Stack;
let context: BrowserContext;
let page: Page;
// Each test logs in as its own admin: a login code may be requested only 5 times per address per 15 minutes.
const adminEmail = 'root@example.com';

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  stack = await startStack();
  await stack.createUser(adminEmail, 'admin');
});
afterAll(async () => {
  await context?.close();
  await stack?.stop();
});
beforeEach(async () => {
  await context?.close();
  context = await stack.browser.newContext({ baseURL: stack.url, viewport: { width: 1366, height: 860 } });
  page = await context.newPage();
});

/** Opens the console logged in as a new admin, on the users page; returns the admin's email and id. */
async function loginAsAdmin(): Promise<{ email: string; id: string }> {
  const email = uniqueEmail('admin');
  const id = await stack.createUser(email, 'admin');
  await page.goto('/admin/');
  await page.waitForURL(/\/admin\/login/);
  await loginThroughUi(page, stack, email);
  await page.waitForURL(/\/admin\/users$/);
  await page.getByRole('heading', { name: 'Users' }).waitFor();
  return { email, id };
}

/** A link of the main navigation. */
const nav = (name: string) => page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name });

/** Waits for the outcome message of an action. */
const flash = (text: string) => page.getByRole('status').filter({ hasText: text }).waitFor();

const row = (email: string) => page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: email }) });

describe('admin console', () => {
  it('serves the console at /admin (with deep links) and asks for a login', async () => {
    const res = await fetch(`${stack.url}/admin/audit`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<div id="root">');
    await page.goto('/admin/jobs');
    await page.waitForURL(/\/admin\/login\?redirect=/);
    await page.getByRole('heading', { name: 'Tagdrop admin' }).waitFor();
    await expect.poll(() => page.getByRole('button', { name: 'Send code' }).isVisible()).toBe(true);
    await page.screenshot({ path: `${SHOTS}/login.png`, fullPage: true });
  });

  it('logs an admin in with the emailed code, shows the users, and goes back to the page asked for', async () => {
    const alice = uniqueEmail('alice');
    await stack.login(alice);
    await page.goto('/admin/jobs');
    await page.waitForURL(/\/admin\/login/);
    await loginThroughUi(page, stack, adminEmail);
    await page.waitForURL(/\/admin\/jobs$/);
    await page.getByRole('heading', { name: 'Background jobs' }).waitFor();
    await expect.poll(() => page.getByRole('rowheader', { name: /send-otp/ }).count()).toBe(1);
    await page.screenshot({ path: `${SHOTS}/jobs.png`, fullPage: true });

    await nav('Users').click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await row(alice).waitFor();
    await expect.poll(() => row(alice).getByText('Active').isVisible()).toBe(true);
    await expect.poll(() => row(adminEmail).getByText('you').isVisible()).toBe(true);
    // An admin cannot block or demote themselves.
    expect(await page.getByRole('button', { name: `Block ${adminEmail}` }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: `Remove admin role from ${adminEmail}` }).isDisabled()).toBe(true);
    await page.screenshot({ path: `${SHOTS}/users.png`, fullPage: true });
  });

  it('blocks a user: their API token fails at once; the filter and audit log show it; unblocking restores access', async () => {
    const mallory = uniqueEmail('mallory');
    const tokens = await stack.login(mallory);
    expect((await stack.api('GET', '/api/me/', { token: tokens.access })).status).toBe(200);

    const admin = await loginAsAdmin();
    await row(mallory).waitFor();
    await page.getByRole('button', { name: `Block ${mallory}` }).click();
    await flash(`Blocked ${mallory}.`);
    await expect.poll(() => row(mallory).getByText('Blocked').isVisible()).toBe(true);
    await page.screenshot({ path: `${SHOTS}/users-blocked.png`, fullPage: true });

    const me = await stack.api('GET', '/api/me/', { token: tokens.access });
    expect([401, 403]).toContain(me.status);
    const refreshed = await stack.api('POST', '/api/token/refresh/', { body: { refresh: tokens.refresh } });
    expect(refreshed.status).toBe(401);

    await page.getByLabel('Status').selectOption('blocked');
    await page.waitForURL(/status=blocked/);
    await expect.poll(() => page.locator('tbody tr').count()).toBe(1);
    await expect.poll(() => row(mallory).isVisible()).toBe(true);

    await nav('Audit log').click();
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    const entry = page.getByRole('row').filter({ hasText: 'user.blocked' });
    await expect.poll(() => entry.count()).toBe(1);
    await expect.poll(() => entry.getByRole('link', { name: admin.email }).isVisible()).toBe(true);
    await page.screenshot({ path: `${SHOTS}/audit.png`, fullPage: true });

    await nav('Users').click();
    await page.getByRole('button', { name: `Unblock ${mallory}` }).click();
    await flash(`Unblocked ${mallory}.`);
    const again = await stack.login(mallory);
    expect((await stack.api('GET', '/api/me/', { token: again.access })).status).toBe(200);
  });

  it('creates a user, searches, promotes, and ends sessions', async () => {
    await loginAsAdmin();
    const dora = uniqueEmail('dora');
    await page.getByRole('button', { name: 'New user' }).click();
    await page.getByLabel('Email or phone').fill(dora.toUpperCase());
    await page.getByRole('button', { name: 'Create' }).click();
    await flash(`Created ${dora}.`);

    // A duplicate is refused with the server's message.
    await page.getByRole('button', { name: 'New user' }).click();
    await page.getByLabel('Email or phone').fill(dora);
    await page.getByRole('button', { name: 'Create' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('exists');
    await page.getByRole('button', { name: 'Cancel' }).click();

    await page.getByRole('searchbox', { name: 'Search' }).fill('dora-');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.waitForURL(/q=dora-/);
    await expect.poll(() => page.locator('tbody tr').count()).toBe(1);

    await page.getByRole('button', { name: `Make admin: ${dora}` }).click();
    await flash(`${dora} is now an admin.`);
    await expect.poll(() => row(dora).getByText('Admin', { exact: true }).isVisible()).toBe(true);

    const tokens = await stack.login(dora);
    await page.reload();
    await expect.poll(() => row(dora).getByRole('cell', { name: '1', exact: true }).count()).toBeGreaterThan(0);
    await page.getByRole('button', { name: `End all sessions of ${dora}` }).click();
    await flash(`Ended 1 session of ${dora}.`);
    expect((await stack.api('GET', '/api/me/', { token: tokens.access })).status).toBe(401);
  });

  it("lists everyone's files with their owner, deletes one, and deletes a hashtag from all files", async () => {
    const carol = uniqueEmail('carol');
    const tokens = await stack.login(carol);
    const notes = await stack.upload(tokens.access, 'notes.txt', 'private notes', {
      hashtags: 'alpha,beta',
      description: 'Meeting notes',
      is_public: false,
    });
    await stack.upload(tokens.access, 'poster.txt', 'a public poster', { hashtags: 'alpha', is_public: true });

    await loginAsAdmin();
    await expect
      .poll(() =>
        row(carol)
          .getByRole('link', { name: `2 files of ${carol}` })
          .count(),
      )
      .toBe(1);
    await row(carol)
      .getByRole('link', { name: `2 files of ${carol}` })
      .click();
    await page.waitForURL(/\/admin\/files\?owner=/);
    await page.getByRole('heading', { name: 'Files' }).waitFor();
    const notesRow = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: /notes\.txt/ }) });
    await notesRow.waitFor();
    await expect.poll(() => notesRow.getByText('Private').isVisible()).toBe(true);
    await expect.poll(() => notesRow.getByRole('link', { name: carol }).isVisible()).toBe(true);
    expect(await page.locator('tbody tr').count()).toBe(2);
    await page.screenshot({ path: `${SHOTS}/files.png`, fullPage: true });

    await page.getByRole('button', { name: 'Delete notes.txt' }).click();
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    await flash('Deleted notes.txt.');
    await expect.poll(() => page.locator('tbody tr').count()).toBe(1);
    expect((await stack.api('GET', `/api/files/${notes.id}/`, { token: tokens.access })).status).toBe(404);

    await nav('Hashtags').click();
    await page.getByRole('heading', { name: 'Hashtags' }).waitFor();
    const alpha = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: '#alpha' }) });
    await expect.poll(() => alpha.getByRole('link', { name: '1 files tagged #alpha' }).isVisible()).toBe(true);
    await alpha.getByRole('button', { name: 'Delete #alpha' }).click();
    await expect.poll(() => alpha.getByText('Remove #alpha from 1 file?').isVisible()).toBe(true);
    await page.screenshot({ path: `${SHOTS}/hashtags.png`, fullPage: true });
    await alpha.getByRole('button', { name: 'Yes, delete' }).click();
    await flash('Deleted #alpha from 1 file.');
    await expect.poll(() => page.getByRole('rowheader', { name: '#alpha' }).count()).toBe(0);

    await nav('Statistics').click();
    await page.getByRole('heading', { name: 'Statistics' }).waitFor();
    const files = await stack.deps.db.selectFrom('files').select('id').execute();
    const card = page.locator('.card').filter({ has: page.getByText('Files', { exact: true }) });
    expect(await card.locator('.card-value').textContent()).toBe(String(files.length));
    await page.screenshot({ path: `${SHOTS}/stats.png`, fullPage: true });
  });

  it('refuses a non-admin who logs in: "admins only", and their new session is ended', async () => {
    const bob = uniqueEmail('bob');
    const bobId = await stack.createUser(bob);
    await page.goto('/admin/login');
    await loginThroughUi(page, stack, bob);
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent()).toContain('admins only');
    expect(page.url()).toContain('/admin/login');
    expect(await page.evaluate(() => localStorage.getItem('tagdrop-admin-refresh'))).toBeNull();
    await page.screenshot({ path: `${SHOTS}/admins-only.png`, fullPage: true });

    const open = await stack.deps.db
      .selectFrom('sessions')
      .select('id')
      .where('user_id', '=', bobId)
      .where('revoked_at', 'is', null)
      .execute();
    expect(open).toEqual([]);
    await page.goto('/admin/users');
    await page.waitForURL(/\/admin\/login/);
  });

  it('keeps the session over a reload with exactly one refresh, and logs out', async () => {
    await loginAsAdmin();
    const refreshes: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('auth.refresh')) refreshes.push(r.url());
    });
    await page.goto('/admin/audit');
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    await page.goto('/admin/users?status=active');
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    expect(refreshes.length).toBe(2);
    expect(await page.evaluate(() => localStorage.getItem('tagdrop.refresh'))).toBeNull();

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(/\/admin\/login/);
    expect(await page.evaluate(() => localStorage.getItem('tagdrop-admin-refresh'))).toBeNull();
    await page.goto('/admin/users');
    await page.waitForURL(/\/admin\/login/);
  });

  it('sends an admin whose session is ended elsewhere back to the login page', async () => {
    const admin = await loginAsAdmin();
    // Ended the way the product ends sessions (another admin, a block, "log out everywhere"): every instance's
    // session cache learns it at once, not only the database.
    expect(await revokeUserSessions(stack.deps, admin.id, 'revoked_by_admin')).toBeGreaterThan(0);
    await nav('Audit log').click();
    await page.waitForURL(/\/admin\/login/);
    await page.getByRole('button', { name: 'Send code' }).waitFor();
    expect(await page.evaluate(() => localStorage.getItem('tagdrop-admin-refresh'))).toBeNull();
  });
});
