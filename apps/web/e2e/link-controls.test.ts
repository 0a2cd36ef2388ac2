/**
 * Link controls as people use them: the owner sets a password, a download limit and an expiry on the upload form
 * and changes them on the detail page; someone without an account opens the link in their own browser (their own
 * time zone), is asked for the password, gets a wrong one refused, the right one lets them download the very same
 * bytes; a link limited to two downloads shows what is left and then a clear "no downloads left" page. axe finds
 * no serious or critical violation on any of these pages.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, RED, solidImage } from '../../api/test/thumbnail-helpers.js';
import { axeViolations, loginThroughUi, SHOTS, type Stack, startStack, uniqueEmail, uploadFile } from './support.js';

let stack: Stack;
let owner: BrowserContext;
let page: Page;
let token: string;
const email = uniqueEmail('links');
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

beforeAll(async () => {
  stack = await startStack();
  owner = await stack.browser.newContext({ baseURL: stack.url, viewport: { width: 1280, height: 900 } });
  page = await owner.newPage();
  await page.goto('/otp-login');
  await loginThroughUi(page, stack.app, email);
  await page.waitForURL('**/files');
  ({ access: token } = await stack.app.login(email));
});
afterAll(async () => {
  await owner?.close();
  await stack?.stop();
});

/** A browser of someone without an account, in Tokyo. */
const visitor = () =>
  stack.browser.newContext({
    baseURL: stack.url,
    viewport: { width: 1280, height: 900 },
    locale: 'en-US',
    timezoneId: 'Asia/Tokyo',
  });

const shareLinkOf = async (p: Page) => new URL(await p.getByLabel('Share link').inputValue()).pathname;
const fact = (p: Page, id: string) => p.getByTestId(id).first().textContent();

/** Clicks Download and returns the bytes the browser saved. */
async function download(p: Page): Promise<Buffer> {
  const [saved] = await Promise.all([
    p.waitForEvent('download'),
    p.getByRole('link', { name: 'Download', exact: true }).click(),
  ]);
  return readFile((await saved.path()) as string);
}

describe('link controls', () => {
  it('a password-protected link: set on upload, changed on the detail page, opened by someone logged out', async () => {
    const bytes = randomBytes(300 * 1024);
    await page
      .locator('input[type=file]')
      .setInputFiles([{ name: 'contract.bin', mimeType: 'application/octet-stream', buffer: bytes }]);
    await page.getByLabel('Downloads allowed (optional)').fill('5');
    await page.getByLabel('Link password (optional)').fill('first password');
    // Two days and one hour from now, typed in the owner's own time zone.
    const expiry = new Date(Date.now() + 49 * 3600_000);
    const local = await page.evaluate((ms) => {
      const d = new Date(ms);
      const pad = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
    }, expiry.getTime());
    await page.getByLabel('Expires (optional)').fill(local);
    await page.getByRole('button', { name: 'Upload' }).click();
    await expect
      .poll(() => page.getByTestId('upload-status').allTextContents(), { timeout: 20_000 })
      .toEqual([expect.stringMatching(/^Done/)]);
    expect(await page.getByTestId('upload-row').getByRole('alert').count()).toBe(0);

    await page.getByTestId('upload-row').getByRole('link', { name: 'contract.bin' }).click();
    await page.getByRole('heading', { name: 'Link controls' }).waitFor();
    expect(await fact(page, 'password-state')).toMatch(/^On/);
    expect(await fact(page, 'downloads-left')).toBe('5 downloads left (of 5)');
    expect(await fact(page, 'expires')).toMatch(/^in 2 days \(/);
    expect(await axeViolations(page)).toEqual([]);

    // A new password replaces the first one.
    await page.getByLabel('New link password').fill('open sesame');
    await page.getByRole('button', { name: 'Save link controls' }).click();
    await page.getByRole('status').filter({ hasText: 'Password set.' }).waitFor();
    const link = await shareLinkOf(page);
    await page.screenshot({ path: `${SHOTS}/link-controls-detail.png`, fullPage: true });

    const guest = await visitor();
    try {
      const p = await guest.newPage();
      await p.goto(link);
      await p.getByRole('heading', { name: 'This link is protected' }).waitFor();
      // Nothing about the file before the password: not even its name.
      expect(await p.getByText('contract.bin').count()).toBe(0);
      expect(await axeViolations(p)).toEqual([]);

      for (const wrong of ['first password', 'guess']) {
        await p.getByLabel('Password').fill(wrong);
        await p.getByRole('button', { name: 'Unlock' }).click();
        await expect.poll(() => p.getByRole('alert').textContent()).toContain('not the password of this link');
      }
      await expect.poll(() => p.getByLabel('Password').getAttribute('aria-invalid')).toBe('true');
      expect(await axeViolations(p)).toEqual([]);
      await p.screenshot({ path: `${SHOTS}/share-password-wrong.png`, fullPage: true });

      await p.getByLabel('Password').fill('open sesame');
      await p.getByRole('button', { name: 'Unlock' }).click();
      await p.getByRole('heading', { name: 'contract.bin' }).waitFor();
      expect(await fact(p, 'downloads-left')).toBe('5 downloads left (of 5)');
      // The expiry in the visitor's own time zone (Tokyo), as they read dates.
      const tokyo = expiry.toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Asia/Tokyo' });
      expect(await fact(p, 'expires')).toBe(`in 2 days (${tokyo})`);
      expect(await axeViolations(p)).toEqual([]);
      await p.screenshot({ path: `${SHOTS}/share-unlocked.png`, fullPage: true });

      const saved = await download(p);
      expect(sha256(saved)).toBe(sha256(bytes));
      // A reload within the grant's life does not ask again, and shows the download counted.
      await p.reload();
      await expect.poll(() => fact(p, 'downloads-left')).toBe('4 downloads left (of 5)');
    } finally {
      await guest.close();
    }

    // Once the owner removes the password, the link opens without one.
    await page.getByRole('button', { name: 'Remove password' }).click();
    await page.getByRole('status').filter({ hasText: 'Password removed.' }).waitFor();
    expect(await fact(page, 'password-state')).toBe('Off');
    const again = await visitor();
    try {
      const p = await again.newPage();
      await p.goto(link);
      await p.getByRole('heading', { name: 'contract.bin' }).waitFor();
      expect(sha256(await download(p))).toBe(sha256(bytes));
    } finally {
      await again.close();
    }
  });

  it('too many wrong passwords: the share page says when to try again', async () => {
    const file = await uploadFile(stack.app, token, 'locked.txt', 'secret', { link_password: 'right one' });
    const link = new URL(file.share_url as string).pathname;
    const unlockApi = `${stack.url}/api/share/${link.split('/').pop()}/unlock/`;
    for (let i = 0; i < 10; i++) {
      const res = await fetch(unlockApi, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ password: `wrong ${i}` }),
      });
      expect(res.status).toBe(400);
    }
    const guest = await visitor();
    try {
      const p = await guest.newPage();
      await p.goto(`/share/${link.split('/').pop()}`);
      await p.getByLabel('Password').fill('right one');
      await p.getByRole('button', { name: 'Unlock' }).click();
      await expect
        .poll(() => p.getByRole('alert').textContent())
        .toMatch(/^Too many wrong passwords for this link\. Try again in \d+ minutes\.$/);
      expect(await p.getByText('locked.txt').count()).toBe(0);
    } finally {
      await guest.close();
    }
  });

  it('the share page of an image limited to one download shows its thumbnail and uses no download', async () => {
    const image = await solidImage('png', { width: 800, height: 500, colour: RED });
    const file = await uploadFile(stack.app, token, 'once.png', image, { max_downloads: '1' });
    const shareToken = (file.share_url as string).split('/').pop() as string;
    // The thumbnail is made in the background: wait for it.
    await eventually(async () => {
      const { body } = await stack.app.api<{ thumbnail_url: string | null }>('GET', `/api/files/${file.id}/`, {
        token,
      });
      return body.thumbnail_url;
    }, 30_000);
    const left = async () =>
      (await stack.app.api<{ downloads_left: number | null }>('GET', `/api/files/${file.id}/`, { token })).body
        .downloads_left;
    const guest = await visitor();
    try {
      const p = await guest.newPage();
      const contentRequests: string[] = [];
      p.on('request', (req) => {
        const url = new URL(req.url());
        if (url.pathname.startsWith(`/s/${shareToken}`) && !url.pathname.endsWith('/thumb'))
          contentRequests.push(url.pathname);
      });
      await p.goto(`/share/${shareToken}`);
      await p.getByRole('heading', { name: 'once.png' }).waitFor();
      const picture = p.getByRole('img', { name: 'once.png' });
      await expect.poll(() => picture.evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
      expect(new URL((await picture.getAttribute('src')) as string, stack.url).pathname).toBe(`/s/${shareToken}/thumb`);
      expect(await fact(p, 'downloads-left')).toBe('1 download left (of 1)');
      await p.reload();
      await p.getByRole('heading', { name: 'once.png' }).waitFor();
      expect(contentRequests).toEqual([]);
      expect(await left()).toBe(1);
      // The download button still gives the whole file, and that takes the one download.
      expect(sha256(await download(p))).toBe(sha256(image));
      await expect.poll(left).toBe(0);
    } finally {
      await guest.close();
    }
  });

  it('a link limited to two downloads shows what is left, then a clear page once none is', async () => {
    const bytes = randomBytes(64 * 1024);
    const file = await uploadFile(stack.app, token, 'twice.bin', bytes, { max_downloads: '2' });
    const shareToken = (file.share_url as string).split('/').pop() as string;

    await page.goto(`/files/${file.id}`);
    expect(await fact(page, 'downloads-left')).toBe('2 downloads left (of 2)');
    expect(await fact(page, 'expires')).toBe('Never');

    const guest = await visitor();
    try {
      const p = await guest.newPage();
      await p.goto(`/share/${shareToken}`);
      await p.getByRole('heading', { name: 'twice.bin' }).waitFor();
      expect(await fact(p, 'downloads-left')).toBe('2 downloads left (of 2)');
      // No preview of the bytes: opening them would use one of the two downloads. Its type and size instead.
      expect(await p.getByText(/No preview: this link allows a limited number of downloads/).count()).toBe(1);
      expect(await p.getByRole('region', { name: 'Preview' }).getByText('application/octet-stream').count()).toBe(1);
      expect(await axeViolations(p)).toEqual([]);

      expect(sha256(await download(p))).toBe(sha256(bytes));
      await expect.poll(() => fact(p, 'downloads-left'), { timeout: 10_000 }).toBe('1 download left (of 2)');
      await p.reload();
      expect(await fact(p, 'downloads-left')).toBe('1 download left (of 2)');

      expect(sha256(await download(p))).toBe(sha256(bytes));
      // The page sees the link end under it, and a fresh visit gets the 410 page.
      await p.getByRole('alert').filter({ hasText: 'This link has stopped working' }).waitFor({ timeout: 10_000 });
      expect(await p.getByRole('link', { name: 'Download', exact: true }).count()).toBe(0);
      await p.reload();
      await p.getByRole('heading', { name: 'No downloads left' }).waitFor();
      expect(await p.getByRole('alert').textContent()).toContain('had all the downloads its link allows');
      expect(await axeViolations(p)).toEqual([]);
      await p.screenshot({ path: `${SHOTS}/share-no-downloads-left.png`, fullPage: true });
      expect((await fetch(`${stack.url}/s/${shareToken}`)).status).toBe(410);
    } finally {
      await guest.close();
    }

    // The owner sees it on the detail page too (until the sweeper removes the file).
    await page.reload();
    expect(await fact(page, 'downloads-left')).toBe('No downloads left');
  });
});
