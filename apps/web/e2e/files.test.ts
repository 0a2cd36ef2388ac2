import { mkdirSync } from 'node:fs';
import { sql } from 'kysely';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sceneImage } from './images.js';
import { loginThroughUi, SHOTS, type Stack, startStack, uniqueEmail } from './support.js';

let stack: Stack;
let context: BrowserContext;
let page: Page;
const email = uniqueEmail('uploader');

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  stack = await startStack();
  context = await stack.browser.newContext({ baseURL: stack.url, viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  await page.goto('/otp-login');
  await loginThroughUi(page, stack.app, email);
  await page.waitForURL('**/files');
});
afterAll(async () => {
  await context?.close();
  await stack?.stop();
});

const cards = () => page.getByTestId('file-card');
const card = (name: string) => cards().filter({ hasText: name });

describe('my files', () => {
  it('uploads several files with hashtags and shows them listed with completed progress', async () => {
    await page.locator('input[type=file]').setInputFiles([
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello tagdrop\n'.repeat(100)) },
      { name: 'data.csv', mimeType: 'text/csv', buffer: Buffer.from('a,b\n1,2\n') },
    ]);
    await page.getByRole('textbox', { name: 'Hashtags' }).fill('#e2e, demo');
    await page.getByRole('textbox', { name: 'Description' }).fill('Uploaded by the browser test');
    await page.getByRole('button', { name: 'Upload 2 files' }).click();

    const statuses = page.getByTestId('upload-status');
    await expect
      .poll(() => statuses.allTextContents(), { timeout: 20_000 })
      .toEqual([expect.stringMatching(/^Done · 100%/), expect.stringMatching(/^Done · 100%/)]);
    expect(
      await page.locator('progress').evaluateAll((els) => els.map((e) => (e as HTMLProgressElement).value)),
    ).toEqual([100, 100]);
    // Both appear in the list (refreshed after the uploads finished), private by default, with their hashtags.
    await expect.poll(() => cards().count()).toBe(2);
    expect(await card('notes.txt').getByText('Private').count()).toBe(1);
    expect(
      await card('notes.txt')
        .getByRole('link', { name: /tagged e2e/ })
        .count(),
    ).toBe(1);
    await page.screenshot({ path: `${SHOTS}/files.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `${SHOTS}/files-mobile.png`, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('pauses, resumes and cancels an upload', async () => {
    // Slow the browser's uploads down so there is time to press the buttons.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 256 * 1024,
    });
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    await page.locator('input[type=file]').setInputFiles([
      { name: 'big-resumed.bin', mimeType: 'application/octet-stream', buffer: big },
      { name: 'big-cancelled.bin', mimeType: 'application/octet-stream', buffer: big },
    ]);
    await page.getByRole('textbox', { name: 'Hashtags' }).fill('');
    await page.getByRole('button', { name: 'Upload 2 files' }).click();
    const row = (name: string) => page.getByTestId('upload-row').filter({ hasText: name });

    await row('big-cancelled.bin').getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => row('big-cancelled.bin').getByTestId('upload-status').textContent()).toMatch(/^Cancelled/);

    await row('big-resumed.bin').getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => row('big-resumed.bin').getByTestId('upload-status').textContent()).toMatch(/^Paused/);
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    await row('big-resumed.bin').getByRole('button', { name: 'Resume' }).click();
    await expect
      .poll(() => row('big-resumed.bin').getByTestId('upload-status').textContent(), { timeout: 20_000 })
      .toMatch(/^Done · 100%/);
    await cdp.detach();

    // The resumed one is listed complete; the cancelled one is not listed at all.
    await expect.poll(() => card('big-resumed.bin').count()).toBe(1);
    expect(await card('big-resumed.bin').textContent()).toContain('3.0 MB');
    expect(await card('big-cancelled.bin').count()).toBe(0);
    await page.getByRole('button', { name: 'Clear finished' }).click();
  });

  it('filters by hashtag chip and search box', async () => {
    await page
      .locator('input[type=file]')
      .setInputFiles([{ name: 'other.bin', mimeType: 'application/octet-stream', buffer: Buffer.from([1, 2, 3]) }]);
    await page.getByRole('textbox', { name: 'Hashtags' }).fill('misc');
    await page.getByRole('textbox', { name: 'Description' }).fill('');
    await page.getByRole('button', { name: /^Upload/ }).click();
    await expect.poll(() => cards().count(), { timeout: 20_000 }).toBe(4);

    await page.getByRole('button', { name: /#misc/ }).click();
    await page.waitForURL(/hashtag=misc/);
    await expect.poll(() => cards().allTextContents()).toEqual([expect.stringContaining('other.bin')]);
    await page.getByRole('button', { name: 'All', exact: true }).click();
    await expect.poll(() => cards().count()).toBe(4);

    await page.getByRole('searchbox', { name: 'Search my files' }).fill('notes');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/q=notes/);
    await expect.poll(() => cards().allTextContents()).toEqual([expect.stringContaining('notes.txt')]);
  });

  it('navigates to the hashtag page when a hashtag is clicked', async () => {
    await page.goto('/files');
    await card('notes.txt').getByRole('link', { name: 'Files tagged demo' }).click();
    await page.waitForURL('**/tags/demo');
    await page.getByRole('heading', { name: 'Your files tagged #demo' }).waitFor();
    // Hashtag pages show a grid of thumbnails by default.
    await expect.poll(() => page.getByTestId('grid-card').count()).toBe(2);
    await expect.poll(() => page.getByText('No public files are tagged #demo.').isVisible()).toBe(true);
  });
});

describe('file detail', () => {
  it('shows the click chart and totals, edits metadata, and makes the file public', async () => {
    await page.goto('/files');
    await card('notes.txt').getByRole('link', { name: 'notes.txt', exact: true }).click();
    await page.waitForURL(/\/files\/[0-9a-f-]{36}$/);
    await page.getByRole('heading', { name: 'notes.txt' }).waitFor();
    // A download through the private link counts a click, shown on the page after a reload.
    await page.getByTestId('total-clicks').waitFor();
    const before = Number(await page.getByTestId('total-clicks').textContent());
    const shareLink = await page.getByLabel('Share link').inputValue();
    const token = shareLink.split('/').pop();
    const download = await page.request.get(`/s/${token}`);
    expect(download.status()).toBe(200);
    expect(await download.text()).toContain('hello tagdrop');
    await page.reload();
    await expect
      .poll(async () => Number(await page.getByTestId('total-clicks').textContent()), { timeout: 10_000 })
      .toBe(before + 1);

    // The chart draws the last 30 days (one bar slot per day), with the totals above it.
    await page.locator('[data-testid=click-chart] svg.recharts-surface').waitFor();
    expect(
      await page.locator('[data-testid=click-chart] .recharts-xAxis .recharts-cartesian-axis-tick').count(),
    ).toBeGreaterThan(1);
    await page.screenshot({ path: `${SHOTS}/detail-text.png`, fullPage: true });

    await page.getByLabel('Name', { exact: true }).fill('notes-renamed.txt');
    await page.getByRole('textbox', { name: 'Description' }).fill('Now with a better description');
    await page.getByRole('textbox', { name: 'Hashtags' }).fill('e2e demo public-now');
    await page.getByLabel(/^Public/).check();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('heading', { name: 'notes-renamed.txt' }).waitFor();
    expect(await page.getByRole('link', { name: 'Files tagged public_now' }).count()).toBe(1);

    // The gallery (logged out too) shows it now.
    const anon = await stack.browser.newContext({ baseURL: stack.url });
    const anonPage = await anon.newPage();
    await anonPage.goto('/');
    await anonPage.getByTestId('grid-card').filter({ hasText: 'notes-renamed.txt' }).waitFor();
    // The list view shows the description too.
    await anonPage.getByRole('button', { name: 'List' }).click();
    await anonPage.getByRole('link', { name: 'notes-renamed.txt', exact: true }).waitFor();
    await expect.poll(() => anonPage.getByText('Now with a better description').isVisible()).toBe(true);
    await anonPage.screenshot({ path: `${SHOTS}/gallery.png`, fullPage: true });
    await anon.close();
  });

  it('shows a private link landing page, and rotating the link retires the old one', async () => {
    await page.goto('/files');
    await card('data.csv').getByRole('link', { name: 'data.csv', exact: true }).click();
    await page.getByRole('heading', { name: 'data.csv' }).waitFor();
    const oldLink = await page.getByLabel('Share link').inputValue();
    expect(oldLink).toMatch(/\/share\/[^/]+$/);

    const visitor = await stack.browser.newContext({ baseURL: stack.url });
    const vPage = await visitor.newPage();
    await vPage.goto(new URL(oldLink).pathname);
    await vPage.getByRole('heading', { name: 'data.csv' }).waitFor();
    expect(await vPage.getByRole('link', { name: 'Download' }).getAttribute('href')).toMatch(/^\/s\//);
    await vPage.screenshot({ path: `${SHOTS}/share.png`, fullPage: true });

    await page.getByRole('button', { name: 'Rotate link' }).click();
    await page.getByText('New link created.').waitFor();
    const newLink = await page.getByLabel('Share link').inputValue();
    expect(newLink).not.toBe(oldLink);

    await vPage.goto(new URL(oldLink).pathname);
    await vPage.getByRole('heading', { name: 'Not found' }).waitFor();
    await vPage.goto(new URL(newLink).pathname);
    await vPage.getByRole('heading', { name: 'data.csv' }).waitFor();
    await visitor.close();
  });

  it('deletes a file after confirmation', async () => {
    await page.goto('/files');
    await card('other.bin').getByRole('link', { name: 'other.bin', exact: true }).click();
    await page.getByRole('heading', { name: 'other.bin' }).waitFor();
    await page.getByRole('button', { name: 'Delete file' }).click();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Delete file' }).click();
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    await page.waitForURL(/\/files$/);
    await expect.poll(() => cards().count()).toBe(3);
    expect(await card('other.bin').count()).toBe(0);
  });

  it('a photo’s detail page: its preview, three weeks of clicks, the share link and its QR code', async () => {
    // The README's screenshot of the detail page: a photo uploaded through the page, with a click history.
    await page.goto('/files');
    await page
      .locator('input[type=file]')
      .setInputFiles([{ name: 'lake-at-dawn.jpg', mimeType: 'image/jpeg', buffer: await sceneImage('lake', 'jpeg') }]);
    await page.getByRole('textbox', { name: 'Hashtags' }).fill('holiday mountains');
    await page.getByRole('textbox', { name: 'Description' }).fill('First light over the lake, from the cabin porch.');
    await page.getByRole('button', { name: /^Upload/ }).click();
    const link = card('lake-at-dawn.jpg').getByRole('link', { name: 'lake-at-dawn.jpg', exact: true });
    await link.waitFor({ timeout: 20_000 });
    const id = ((await link.getAttribute('href')) as string).split('/').pop() as string;

    // Earlier days' clicks are seeded in the database (as the nightly flush would have written them), and the
    // upload dated to match; today's are real downloads through the private link.
    const db = stack.app.deps.db;
    const perDay = [4, 11, 23, 17, 9, 6, 8, 5, 3, 7, 12, 8, 5, 4, 6, 3, 5, 9, 6, 4]; // 20 days ago … yesterday
    const dayMs = 86_400_000;
    const daysAgo = (n: number) => new Date(Date.now() - n * dayMs);
    await db
      .insertInto('file_click_daily')
      .values(
        perDay.map((clicks, i) => ({
          file_id: id,
          day: daysAgo(perDay.length - i)
            .toISOString()
            .slice(0, 10),
          clicks,
          unique_visitors: Math.ceil(clicks * 0.8),
        })),
      )
      .execute();
    const seeded = perDay.reduce((a, b) => a + b, 0);
    await db
      .insertInto('file_click_totals')
      .values({ file_id: id, clicks: seeded, unique_visitors: Math.round(seeded * 0.7), last_click_at: daysAgo(1) })
      .execute();
    await sql`update files set created_at = ${daysAgo(21)} where id = ${id}`.execute(db);
    const { share_token } = await db
      .selectFrom('files')
      .select('share_token')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    const today = 5;
    for (let i = 0; i < today; i++) expect((await page.request.get(`/s/${share_token}`)).status()).toBe(200);

    await page.goto(`/files/${id}`);
    const preview = page.getByRole('region', { name: 'Preview' }).getByRole('img', { name: 'lake-at-dawn.jpg' });
    await expect.poll(() => preview.evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBe(1600);
    await expect
      .poll(async () => Number(await page.getByTestId('total-clicks').textContent()), { timeout: 10_000 })
      .toBe(seeded + today);
    await page.locator('[data-testid=click-chart] .recharts-bar-rectangle').first().waitFor();
    // One bar a day with clicks (one more if UTC midnight passed meanwhile).
    expect(await page.locator('[data-testid=click-chart] .recharts-bar-rectangle path').count()).toBeGreaterThanOrEqual(
      perDay.length + 1,
    );
    await page.getByRole('img', { name: "QR code of this file's link" }).waitFor();
    await page.screenshot({ path: `${SHOTS}/detail.png`, fullPage: true });
  });
});
