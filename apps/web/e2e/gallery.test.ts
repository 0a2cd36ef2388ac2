/**
 * The public gallery and hashtag pages as a grid of thumbnails: the thumbnails the server made, type pictures for
 * files without one, arrow-key navigation across the grid and Enter to open, and the list view as a remembered
 * toggle.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../api/test/thumbnail-helpers.js';
import { readZip } from '../../api/test/zip-helpers.js';
import { formatOf, type Scene, sceneImage } from './images.js';
import { SHOTS, type Stack, startStack, uniqueEmail, uploadFile } from './support.js';

let stack: Stack;
let visitor: BrowserContext;
let page: Page;
const names = ['sunset.png', 'harbour.jpg', 'forest.webp', 'readme.txt', 'tabby.png', 'lake.png', 'notes.txt'];
const README = 'Photos from the coast trip, 12–19 September.\nLake and forest: day 2. Harbour and sunset: day 5.\n';
const texts: Record<string, string> = {
  'readme.txt': README,
  'notes.txt': 'Next time: the tripod, a polarising filter, and more coffee.\n',
};

beforeAll(async () => {
  stack = await startStack();
  const { access } = await stack.app.login(uniqueEmail('gallery'));
  // Photo-sized pictures (1600×1067), so the README's screenshot of this page looks like a real instance's.
  const contents = await Promise.all(
    names.map((name) => texts[name] ?? sceneImage(name.split('.')[0] as Scene, formatOf(name))),
  );
  // Oldest first: the gallery shows the newest first, so reversed.
  for (const [i, name] of names.entries()) {
    const hashtags = i % 2 === 0 ? 'cats' : 'views';
    await uploadFile(stack.app, access, name, contents[i] as Buffer | string, { is_public: 'true', hashtags });
  }
  // The thumbnails are made by the job in the background: wait until the five images have theirs.
  await eventually(async () => {
    const { body } = await stack.app.api<{ results: { thumbnail_url: string | null }[] }>(
      'GET',
      '/api/public/files/?limit=50',
    );
    return body.results.filter((f) => f.thumbnail_url).length === 5 ? true : null;
  }, 30_000);
  visitor = await stack.browser.newContext({ baseURL: stack.url, viewport: { width: 1280, height: 900 } });
  page = await visitor.newPage();
});
afterAll(async () => {
  await visitor?.close();
  await stack?.stop();
});

const cards = () => page.getByTestId('grid-card');
const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
const focusedName = () =>
  page.evaluate(() => (document.activeElement as HTMLElement | null)?.querySelector('.grid-name')?.textContent);

describe('gallery grid', () => {
  it('shows every public file as a card: the thumbnails of images, a type picture for the rest', async () => {
    await page.goto('/');
    await expect.poll(() => cards().count()).toBe(names.length);
    expect(await page.locator('.grid-name').allTextContents()).toEqual([...names].reverse());
    const images = page.getByTestId('file-grid').locator('img');
    await expect
      .poll(() => images.evaluateAll((els) => els.filter((e) => (e as HTMLImageElement).naturalWidth > 0).length))
      .toBe(5);
    const sources = await images.evaluateAll((els) => els.map((e) => (e as HTMLImageElement).getAttribute('src')));
    for (const src of sources) expect(src).toMatch(/^\/f\/[0-9a-f-]{36}\/thumb\?v=[0-9a-f]{16}$/);
    // A thumbnail is at most 640 px wide (not the 1600 px original).
    expect(await images.first().evaluate((e) => (e as HTMLImageElement).naturalWidth)).toBe(640);
    expect(await cards().filter({ hasText: 'readme.txt' }).locator('.type-icon').textContent()).toBe('TXT');
    await page.screenshot({ path: `${SHOTS}/gallery-grid.png`, fullPage: true });
  });

  it('arrow keys move the focus across the grid as laid out; Enter opens the file', async () => {
    await page.goto('/');
    await cards().first().waitFor();
    const tops = await page
      .locator('a.grid-link')
      .evaluateAll((els) => els.map((e) => Math.round(e.getBoundingClientRect().top)));
    const columns = tops.filter((t) => t === tops[0]).length;
    expect(columns).toBeGreaterThan(1);
    expect(columns).toBeLessThan(names.length);
    const order = [...names].reverse();

    await page.locator('a.grid-link').first().focus();
    await page.keyboard.press('ArrowRight');
    expect(await focusedName()).toBe(order[1]);
    await page.keyboard.press('ArrowLeft');
    expect(await focusedName()).toBe(order[0]);
    await page.keyboard.press('ArrowDown');
    expect(await focusedName()).toBe(order[columns]);
    await page.keyboard.press('ArrowUp');
    expect(await focusedName()).toBe(order[0]);
    await page.keyboard.press('End');
    expect(await focusedName()).toBe(order.at(-1));
    await page.keyboard.press('ArrowRight');
    expect(await focusedName()).toBe(order.at(-1));
    await page.keyboard.press('Home');
    expect(await focusedName()).toBe(order[0]);

    await page.keyboard.press('ArrowRight');
    await Promise.all([page.waitForURL(/\/f\/[0-9a-f-]{36}$/), page.keyboard.press('Enter')]);
    // The browser shows the image itself.
    expect(await page.evaluate(() => document.contentType)).toBe('image/png');
  });

  it('the list view is a toggle, remembered across visits', async () => {
    await page.goto('/');
    await page.getByRole('button', { name: 'List' }).click();
    await expect.poll(() => page.getByTestId('file-card').count()).toBe(names.length);
    expect(await cards().count()).toBe(0);
    expect(await page.getByRole('button', { name: 'List' }).getAttribute('aria-pressed')).toBe('true');
    await page.reload();
    await expect.poll(() => page.getByTestId('file-card').count()).toBe(names.length);
    await page.goto('/tags/cats');
    await expect.poll(() => page.getByTestId('file-card').count()).toBe(4);
    await page.getByRole('button', { name: 'Grid' }).click();
    await expect.poll(() => cards().count()).toBe(4);
    await page.goto('/');
    await expect.poll(() => cards().count()).toBe(names.length);
  });

  it('hashtag pages are grids too', async () => {
    await page.goto('/tags/views');
    await expect.poll(() => cards().count()).toBe(3);
    expect(await page.locator('.grid-name').allTextContents()).toEqual(['lake.png', 'readme.txt', 'harbour.jpg']);
    await page.screenshot({ path: `${SHOTS}/tag-grid.png`, fullPage: true });
  });

  it('a hashtag page downloads all its public files as one ZIP, streamed by the browser', async () => {
    const zipPage = await (
      await stack.browser.newContext({
        baseURL: stack.url,
        viewport: { width: 1280, height: 900 },
        acceptDownloads: true,
      })
    ).newPage();
    try {
      await zipPage.goto('/tags/views');
      await expect.poll(() => zipPage.getByTestId('grid-card').count()).toBe(3);
      const link = zipPage.getByRole('link', { name: 'Download all as ZIP' });
      expect(await link.getAttribute('href')).toBe('/api/public/files/zip/?hashtag=views');
      const [download] = await Promise.all([zipPage.waitForEvent('download'), link.click()]);
      expect(download.suggestedFilename()).toBe('views.zip');
      const entries = await readZip(await readFile(await download.path()));
      expect(entries.map((e) => e.name)).toEqual(['lake.png', 'readme.txt', 'harbour.jpg']);
      expect(entries.find((e) => e.name === 'readme.txt')?.sha256).toBe(sha256(README));
    } finally {
      await zipPage.context().close();
    }
  });
});
