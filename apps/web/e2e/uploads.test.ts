/**
 * Uploading as a person does: several files dragged onto the upload area at once, one paused and resumed,
 * a large one (sent in parallel parts, tus concatenation) interrupted by a page reload and finished after
 * the same file is dropped again, with one progress bar per file.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginThroughUi, SHOTS, type Stack, startStack, uniqueEmail } from './support.js';

let stack: Stack;
let context: BrowserContext;
let page: Page;
let cdp: CDPSession;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  stack = await startStack();
  context = await stack.browser.newContext({ baseURL: stack.url, viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  await page.goto('/otp-login');
  await loginThroughUi(page, stack.app, uniqueEmail('dropper'));
  await page.waitForURL('**/files');
  cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
});
afterAll(async () => {
  await context?.close();
  await stack?.stop();
});

interface DroppedFile {
  name: string;
  size: number;
  type: string;
  seed: number;
}
/** The bytes of a dropped file (the same in the page and here): a pattern, so a re-drop is the same file. */
const contentOf = (f: DroppedFile) => {
  const data = Buffer.alloc(f.size);
  for (let i = 0; i < f.size; i++) data[i] = (i * 31 + f.seed) % 251;
  return data;
};
const LAST_MODIFIED = Date.parse('2026-11-30T12:00:00Z');

/** Drags `files` (made in the page) onto the upload area and drops them. */
async function drop(files: DroppedFile[]) {
  const dataTransfer = await page.evaluateHandle(
    ({ files, lastModified }) => {
      const dt = new DataTransfer();
      for (const f of files) {
        const data = new Uint8Array(f.size);
        for (let i = 0; i < f.size; i++) data[i] = (i * 31 + f.seed) % 251;
        dt.items.add(new File([data], f.name, { type: f.type, lastModified }));
      }
      return dt;
    },
    { files, lastModified: LAST_MODIFIED },
  );
  const zone = page.locator('.dropzone');
  await zone.dispatchEvent('dragenter', { dataTransfer });
  await zone.dispatchEvent('dragover', { dataTransfer });
  expect(await zone.getAttribute('class')).toContain('dragging');
  await zone.dispatchEvent('drop', { dataTransfer });
  await dataTransfer.dispose();
}

const throttle = (bytesPerSecond: number) =>
  cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond,
  });
const row = (name: string) => page.getByTestId('upload-row').filter({ hasText: name });
const statusOf = (name: string) => row(name).getByTestId('upload-status').textContent();
const percentOf = async (name: string) => Number(/(\d+)%/.exec((await statusOf(name)) ?? '')?.[1] ?? -1);

const small: DroppedFile = { name: 'drop-notes.txt', size: 40_000, type: 'text/plain', seed: 1 };
const medium: DroppedFile = {
  name: 'drop-medium.bin',
  size: 3 * 1024 * 1024,
  type: 'application/octet-stream',
  seed: 2,
};
const large: DroppedFile = {
  name: 'drop-large.bin',
  size: 34 * 1024 * 1024,
  type: 'application/octet-stream',
  seed: 3,
};

describe('drag-and-drop uploads', () => {
  it('drops several files, pauses and resumes one, and finishes a large one after a page reload', async () => {
    await throttle(2 * 1024 * 1024);
    await drop([small, medium, large]);
    await expect.poll(() => page.locator('.dropzone').textContent()).toContain('3 selected');
    await page.getByRole('textbox', { name: 'Hashtags' }).fill('dropped');
    await page.getByRole('button', { name: 'Upload 3 files' }).click();
    expect(await page.getByTestId('upload-row').count()).toBe(3);
    await expect.poll(() => row(large.name).getByTestId('upload-note').textContent()).toContain('4 parallel parts');

    // Pause the medium one: it stops moving; resume it: it finishes.
    await row(medium.name).getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => statusOf(medium.name)).toMatch(/^Paused/);
    const pausedAt = await percentOf(medium.name);
    await page.waitForTimeout(800);
    expect(await percentOf(medium.name)).toBe(pausedAt);
    await row(medium.name).getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => statusOf(small.name), { timeout: 30_000 }).toMatch(/^Done · 100%/);
    await expect.poll(() => statusOf(medium.name), { timeout: 30_000 }).toMatch(/^Done · 100%/);

    // The large one is on its way (one bar for its four parts) when the page is reloaded.
    await expect.poll(() => percentOf(large.name), { timeout: 30_000 }).toBeGreaterThanOrEqual(5);
    await page.screenshot({ path: `${SHOTS}/uploads-parallel.png`, fullPage: true });
    await page.reload();
    await page.waitForURL('**/files');
    expect(await page.getByTestId('upload-row').count()).toBe(0);

    // Dropping the same file again continues where it stopped.
    await throttle(-1);
    await drop([large]);
    await page.getByRole('textbox', { name: 'Hashtags' }).fill('dropped');
    await page.getByRole('button', { name: 'Upload' }).click();
    await expect.poll(() => statusOf(large.name), { timeout: 60_000 }).toMatch(/^Done · 100%/);
    expect(await row(large.name).getByTestId('upload-note').textContent()).toMatch(/Resumed at [1-9]\d*%/);

    // Three files, each once, each the bytes that were dropped.
    const cards = page.getByTestId('file-card');
    await expect.poll(() => cards.count()).toBe(3);
    const rows = await stack.app.deps.db.selectFrom('files').select(['name', 'size', 'sha256']).execute();
    expect(rows.map((r) => r.name).sort()).toEqual([large.name, medium.name, small.name].sort());
    for (const f of [small, medium, large]) {
      const stored = rows.find((r) => r.name === f.name);
      expect(Number(stored?.size), f.name).toBe(f.size);
      expect(stored?.sha256, f.name).toBe(createHash('sha256').update(contentOf(f)).digest('hex'));
    }
    // No partial upload is left holding quota or bytes: every part is consumed by the large file (its row stays
    // until it expires, so that a client retrying the upload learns that it is complete), its bytes are gone.
    const partials = await stack.app.deps.db
      .selectFrom('uploads')
      .select(['id', 'consumed_at'])
      .where('concat', '=', 'partial')
      .execute();
    expect(partials.length).toBeGreaterThan(0);
    expect(partials.filter((p) => p.consumed_at === null)).toEqual([]);
    for (const p of partials) expect(await stack.app.deps.storage.stat(p.id), p.id).toBeNull();
  });
});
