/**
 * Bulk work on My files, as a person does it: tick a file, Shift-click another to take the range, tag and
 * publish them in one go, untag and make private part of them, download a selection as one ZIP (opened and compared
 * byte for byte), set an expiry, and delete after confirming.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readZip } from '../../api/test/zip-helpers.js';
import { loginThroughUi, SHOTS, type Stack, startStack, uniqueEmail, uploadFile } from './support.js';

let stack: Stack;
let context: BrowserContext;
let page: Page;
let access: string;
const email = uniqueEmail('bulk');
const NAMES = ['a.txt', 'b.txt', 'c.txt', 'd.txt', 'e.txt'];
const content = (name: string) => `the content of ${name}\n`.repeat(50);
const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

beforeAll(async () => {
  stack = await startStack();
  context = await stack.browser.newContext({
    baseURL: stack.url,
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
  });
  page = await context.newPage();
  await page.goto('/otp-login');
  await loginThroughUi(page, stack.app, email);
  await page.waitForURL('**/files');
  ({ access } = await stack.app.login(email));
  // Uploaded in order, so the list (newest first) shows e, d, c, b, a.
  for (const name of NAMES) await uploadFile(stack.app, access, name, content(name));
  await page.reload();
  await page.getByRole('checkbox', { name: 'Select a.txt', exact: true }).waitFor();
});
afterAll(async () => {
  await context?.close();
  await stack?.stop();
});

const card = (name: string) => page.getByTestId('file-card').filter({ hasText: name });
const box = (name: string) => page.getByRole('checkbox', { name: `Select ${name}`, exact: true });
const toolbar = () => page.getByRole('region', { name: 'Selected files' });
const status = () => toolbar().getByRole('status').textContent();
const selectedCount = () => page.getByTestId('selected-count').textContent();
const checked = async () => {
  const out: string[] = [];
  for (const name of NAMES) if (await box(name).isChecked()) out.push(name);
  return out;
};

describe('bulk actions on my files', () => {
  it('Shift-click selects a range; tagging and publishing apply to exactly that range', async () => {
    await box('d.txt').click();
    await box('b.txt').click({ modifiers: ['Shift'] });
    expect(await checked()).toEqual(['b.txt', 'c.txt', 'd.txt']);
    expect(await selectedCount()).toBe('3 files selected');

    await page.getByRole('textbox', { name: 'Tags to add or remove' }).fill('#Bulk E2E');
    await page.getByRole('button', { name: 'Add hashtags' }).click();
    await expect.poll(() => status()).toBe('Tagged 3 files.');
    await page.getByRole('button', { name: 'Make public' }).click();
    await expect.poll(() => status()).toBe('Made public 3 files.');
    for (const name of ['b.txt', 'c.txt', 'd.txt']) {
      await expect.poll(() => card(name).getByRole('link', { name: 'Files tagged bulk' }).count()).toBe(1);
      await expect.poll(() => card(name).getByText('Public', { exact: true }).count()).toBe(1);
    }
    for (const name of ['a.txt', 'e.txt']) {
      expect(await card(name).getByRole('link', { name: 'Files tagged bulk' }).count()).toBe(0);
      expect(await card(name).getByText('Private', { exact: true }).count()).toBe(1);
    }
    // What the server holds, not only what the page shows.
    const res = await fetch(`${stack.url}/api/public/files/?hashtag=e2e`);
    const body = (await res.json()) as { results: { name: string }[] };
    expect(body.results.map((f) => f.name).sort()).toEqual(['b.txt', 'c.txt', 'd.txt']);
    await page.screenshot({ path: `${SHOTS}/bulk-toolbar.png`, fullPage: true });
  });

  it('removing hashtags and making private apply to exactly the selection; the server agrees', async () => {
    await box('b.txt').click();
    expect(await checked()).toEqual(['c.txt', 'd.txt']);
    expect(await selectedCount()).toBe('2 files selected');

    await page.getByRole('textbox', { name: 'Tags to add or remove' }).fill('#E2E');
    await page.getByRole('button', { name: 'Remove hashtags' }).click();
    await expect.poll(() => status()).toBe('Untagged 2 files.');
    expect(await page.getByRole('textbox', { name: 'Tags to add or remove' }).inputValue()).toBe('');
    await page.getByRole('button', { name: 'Make private' }).click();
    await expect.poll(() => status()).toBe('Made private 2 files.');
    for (const name of ['c.txt', 'd.txt']) {
      await expect.poll(() => card(name).getByRole('link', { name: 'Files tagged e2e' }).count()).toBe(0);
      await expect.poll(() => card(name).getByText('Private', { exact: true }).count()).toBe(1);
      expect(await card(name).getByRole('link', { name: 'Files tagged bulk' }).count()).toBe(1);
    }
    expect(await card('b.txt').getByRole('link', { name: 'Files tagged e2e' }).count()).toBe(1);
    expect(await card('b.txt').getByText('Public', { exact: true }).count()).toBe(1);

    // The server: only b.txt is public or tagged #e2e still; c and d keep #bulk, privately.
    type Listing = { results: { name: string; is_public: boolean; hashtags: string[] }[] };
    const get = async (path: string, headers: Record<string, string> = {}) =>
      (await (await fetch(`${stack.url}${path}`, { headers })).json()) as Listing;
    const mineOnly = (path: string) => get(path, { authorization: `Bearer ${access}` });
    const names = (body: Listing) => body.results.map((f) => f.name).sort();
    expect(names(await get('/api/public/files/?hashtag=e2e'))).toEqual(['b.txt']);
    expect(names(await get('/api/public/files/?hashtag=bulk'))).toEqual(['b.txt']);
    expect(names(await mineOnly('/api/files/?hashtag=e2e'))).toEqual(['b.txt']);
    const mine = await mineOnly('/api/files/?hashtag=bulk');
    expect(mine.results.map((f) => [f.name, f.is_public, f.hashtags]).sort()).toEqual([
      ['b.txt', true, ['bulk', 'e2e']],
      ['c.txt', false, ['bulk']],
      ['d.txt', false, ['bulk']],
    ]);
  });

  it('the keyboard works: Space on "Select all on page" selects every file, again clears them', async () => {
    await page.getByRole('button', { name: 'Clear selection' }).click();
    const all = page.getByRole('checkbox', { name: 'Select all on page' });
    await all.focus();
    await page.keyboard.press('Space');
    expect(await checked()).toEqual(NAMES);
    expect(await selectedCount()).toBe('5 files selected');
    await page.keyboard.press('Space');
    expect(await checked()).toEqual([]);
    await box('a.txt').focus();
    await page.keyboard.press('Space');
    expect(await checked()).toEqual(['a.txt']);
  });

  it('downloads the selection as one ZIP holding each file’s bytes', async () => {
    await box('c.txt').click();
    expect(await checked()).toEqual(['a.txt', 'c.txt']);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download as ZIP' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('tagdrop-2-files.zip');
    // The browser downloaded it itself from a one-time ZIP link (streamed to disk), not from a blob in the page.
    expect(download.url()).toMatch(new RegExp(`^${stack.url}/api/files/zip/\\?grant=[A-Za-z0-9_-]{32}$`));
    const entries = await readZip(await readFile(await download.path()));
    expect(entries.map((e) => [e.name, e.sha256]).sort()).toEqual(
      ['a.txt', 'c.txt'].map((name) => [name, sha256(content(name))]),
    );
  });

  it('sets an expiry, then deletes after confirming', async () => {
    const tomorrow = new Date(Date.now() + 86400_000);
    const pad = (n: number) => String(n).padStart(2, '0');
    const local = `${tomorrow.getFullYear()}-${pad(tomorrow.getMonth() + 1)}-${pad(tomorrow.getDate())}T12:00`;
    await page.getByLabel('New expiry').fill(local);
    await page.getByRole('button', { name: 'Set expiry' }).click();
    await expect.poll(() => status()).toBe('Set the expiry of 2 files.');
    for (const name of ['a.txt', 'c.txt'])
      await expect
        .poll(() =>
          card(name)
            .getByText(/^Expires /)
            .count(),
        )
        .toBe(1);
    expect(
      await card('b.txt')
        .getByText(/^Expires /)
        .count(),
    ).toBe(0);

    await page.getByRole('button', { name: 'Delete…' }).click();
    const dialog = page.getByRole('alertdialog');
    expect(await dialog.textContent()).toContain('Delete 2 files for good?');
    await dialog.getByRole('button', { name: 'Yes, delete 2 files' }).click();
    await expect.poll(() => status()).toBe('Deleted 2 files.');
    await expect.poll(() => page.getByTestId('file-card').count()).toBe(3);
    expect(await card('a.txt').count()).toBe(0);
    expect(await card('c.txt').count()).toBe(0);
    expect(await selectedCount()).toBe('No file selected');
  });
});
