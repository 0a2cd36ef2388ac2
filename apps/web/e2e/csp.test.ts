/**
 * The user SPA and the API reference under the server's real Content-Security-Policy (served by the API, as in
 * production): every main page renders, works, and the browser reports no violation at all.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { solidImage } from '../../api/test/thumbnail-helpers.js';
import { makePdf, makeWav } from './fixtures.js';
import { type CspWatch, loginThroughUi, type Stack, startStack, uniqueEmail, uploadFile, watchCsp } from './support.js';

let stack: Stack;
let context: BrowserContext;
let page: Page;
let csp: CspWatch;
const email = uniqueEmail('csp');

beforeAll(async () => {
  stack = await startStack();
  context = await stack.browser.newContext({ baseURL: stack.url, viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  csp = await watchCsp(page);
});
afterAll(async () => {
  await context?.close();
  await stack?.stop();
});

const settle = () => page.waitForLoadState('networkidle');

describe('the user SPA under its CSP', () => {
  it('serves its pages with the strict policy', async () => {
    const res = await page.goto('/');
    const policy = res?.headers()['content-security-policy'] ?? '';
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    await expect.poll(() => page.getByRole('heading', { level: 1 }).count()).toBeGreaterThan(0);
    expect(await csp.violations()).toEqual([]);
  });

  it('logs in, uploads, opens the detail page (chart) and the share page with no violation', async () => {
    await page.goto('/otp-login');
    await loginThroughUi(page, stack.app, email);
    await page.waitForURL('**/files');
    await page
      .locator('input[type=file]')
      .setInputFiles([{ name: 'csp.txt', mimeType: 'text/plain', buffer: Buffer.from('content security policy\n') }]);
    await page.getByRole('textbox', { name: 'Hashtags' }).fill('csp');
    await page.getByRole('button', { name: /^Upload/ }).click();
    const card = page.getByTestId('file-card').filter({ hasText: 'csp.txt' });
    await expect.poll(() => card.count(), { timeout: 20_000 }).toBe(1);

    await card.getByRole('link', { name: 'csp.txt' }).first().click();
    await page.waitForURL('**/files/*');
    await expect.poll(() => page.getByRole('heading', { name: 'csp.txt' }).count()).toBe(1);
    await settle();
    const id = new URL(page.url()).pathname.split('/').pop() ?? '';
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    const file = await stack.app.deps.db
      .selectFrom('files')
      .select('share_token')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    await page.goto(`/share/${file.share_token}`);
    await expect.poll(() => page.getByRole('heading', { name: 'csp.txt' }).count()).toBe(1);
    await page.goto('/tags/csp');
    await expect.poll(() => page.getByText('csp.txt').count()).toBeGreaterThan(0);
    await page.goto('/settings');
    await settle();
    await page.goto('/files');
    await expect.poll(() => page.getByTestId('file-card').count()).toBe(1);
    await settle();
    expect(await csp.violations()).toEqual([]);
  });

  it('the previews (image, PDF in a frame, audio, code) and their share pages run with no violation', async () => {
    const { access } = await stack.app.login(email);
    const uploads: [string, Buffer | string][] = [
      ['photo.png', await solidImage('png', { width: 320, height: 200 })],
      ['report.pdf', makePdf('Under a strict CSP')],
      ['tone.wav', makeWav(1)],
      ['greet.ts', 'export const greet = (name: string) => "Hello, " + name;\n'],
    ];
    for (const [name, content] of uploads) {
      const file = await uploadFile(stack.app, access, name, content);
      await page.goto(`/files/${file.id}`);
      await page.getByRole('heading', { name, exact: true }).waitFor();
      await page.getByRole('region', { name: 'Preview' }).waitFor();
      await settle();
      if (name.endsWith('.pdf')) await expect.poll(() => page.frames().length).toBeGreaterThan(1);
      await page.goto(new URL(file.share_url as string).pathname.replace(/^\/s\//, '/share/'));
      await page.getByRole('heading', { name, exact: true }).waitFor();
      await settle();
    }
    expect(await csp.violations()).toEqual([]);
  });

  it('the API reference (/api/docs) renders under its own policy with no violation', async () => {
    await page.goto('/api/docs/');
    await expect.poll(() => page.getByText('Tagdrop API').count(), { timeout: 20_000 }).toBeGreaterThan(0);
    await expect.poll(() => page.getByText('/api/files/{id}/').count()).toBeGreaterThan(0);
    await settle();
    expect(await csp.violations()).toEqual([]);
  });

  it('the watcher does see a violation (an inline script injected into the page)', async () => {
    const probe = await context.newPage();
    const watch = await watchCsp(probe);
    await probe.goto('/');
    await probe.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__ran = true';
      document.body.append(s);
    });
    await expect.poll(() => watch.violations().then((v) => v.length)).toBeGreaterThan(0);
    expect(await probe.evaluate(() => (window as unknown as { __ran?: boolean }).__ran)).toBeUndefined();
    await probe.close();
  });
});
