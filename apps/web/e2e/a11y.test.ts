/**
 * Every page of the user app, logged out and logged in, and the states in between (the login's code step, an
 * expired link, My files with files selected): axe-core finds no serious or critical violation; and a
 * phone-sized pass (390×844) over the main pages, nothing wider than the screen, with screenshots kept as CI
 * artifacts (artifacts/screenshots/web/mobile).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, solidImage } from '../../api/test/thumbnail-helpers.js';
import { makePdf } from './fixtures.js';
import {
  axeViolations,
  emailedCode,
  loggedInContext,
  SHOTS,
  type Stack,
  startStack,
  uniqueEmail,
  uploadFile,
} from './support.js';

let stack: Stack;
let email: string;
let token: string;
const files: Record<string, { id: string; share_url: string | null }> = {};
const MOBILE = path.join(SHOTS, 'mobile');

beforeAll(async () => {
  mkdirSync(MOBILE, { recursive: true });
  // The expiry sweeper runs once at start, then not again here: an expired file stays to answer 410.
  stack = await startStack({ EXPIRY_INTERVAL: '1 hour' });
  email = uniqueEmail('a11y');
  token = (await stack.app.login(email)).access;
  files.image = await uploadFile(stack.app, token, 'harbour.png', await solidImage('png'), {
    hashtags: 'harbour',
    description: 'Boats at dusk #harbour',
  });
  files.public = await uploadFile(stack.app, token, 'map.png', await solidImage('png'), {
    is_public: 'true',
    hashtags: 'harbour',
  });
  files.text = await uploadFile(stack.app, token, 'notes.md', '# Notes\n\nSome *text*.\n', { is_public: 'true' });
  files.pdf = await uploadFile(stack.app, token, 'guide.pdf', makePdf('Guide'));
  files.other = await uploadFile(stack.app, token, 'archive.bin', Buffer.alloc(2048, 1));
  await eventually(async () => {
    const { body } = await stack.app.api<{ thumbnail_url: string | null }>('GET', `/api/files/${files.public?.id}/`, {
      token,
    });
    return body.thumbnail_url;
  });
});
afterAll(async () => {
  await stack?.stop();
});

const tokenOf = (f: { share_url: string | null } | undefined) =>
  new URL(f?.share_url as string).pathname.split('/').pop();

/** Visits each page, waits for its main heading, and collects axe's serious and critical findings. */
async function audit(page: Page, pages: [string, string | RegExp][]) {
  const found: string[] = [];
  for (const [url, heading] of pages) {
    await page.goto(url);
    await page.getByRole('heading', { level: 1, name: heading }).first().waitFor();
    await page.waitForLoadState('networkidle');
    for (const v of await axeViolations(page)) found.push(`${url}: ${v}`);
  }
  return found;
}

describe('axe-core: no serious or critical violations', () => {
  it('on every page, logged out', async () => {
    const context = await stack.browser.newContext({ baseURL: stack.url });
    const page = await context.newPage();
    const found = await audit(page, [
      ['/', 'Public files'],
      ['/tags/harbour', /harbour/],
      ['/otp-login', 'Log in'],
      [`/share/${tokenOf(files.image)}`, 'harbour.png'],
      [`/share/${tokenOf(files.pdf)}`, 'guide.pdf'],
      [`/share/${tokenOf(files.other)}`, 'archive.bin'],
      ['/share/not-a-real-token-at-all-0000000', 'Not found'],
      ['/no/such/page', /not found/i],
    ]);
    // The list view too.
    await page.goto('/');
    await page.getByRole('button', { name: 'List' }).click();
    await page.getByTestId('file-card').first().waitFor();
    found.push(...(await axeViolations(page)).map((v) => `/ (list): ${v}`));
    await page.getByRole('button', { name: 'Grid' }).click();
    expect(found).toEqual([]);
    await context.close();
  });

  it('on every page, logged in', async () => {
    const { context, page } = await loggedInContext(stack, email);
    const found = await audit(page, [
      ['/files', 'My files'],
      [`/files/${files.image?.id}`, 'harbour.png'],
      [`/files/${files.text?.id}`, 'notes.md'],
      [`/files/${files.pdf?.id}`, 'guide.pdf'],
      [`/files/${files.other?.id}`, 'archive.bin'],
      ['/settings', 'Settings'],
      ['/', 'Public files'],
      ['/tags/harbour', /harbour/],
    ]);
    expect(found).toEqual([]);
    await context.close();
  });
});

describe('axe-core, on the states between pages: no serious or critical violations', () => {
  it('the code-entry step of the login, with and without a wrong code', async () => {
    const context = await stack.browser.newContext({ baseURL: stack.url });
    const page = await context.newPage();
    const someone = uniqueEmail('a11y-code');
    await page.goto('/otp-login');
    const since = stack.app.mail.items.length;
    await page.getByLabel('Email address').fill(someone);
    await page.getByRole('button', { name: 'Send code' }).click();
    const code = page.getByLabel('Code', { exact: true });
    await code.waitFor();
    const found = (await axeViolations(page)).map((v) => `code step: ${v}`);
    // A wrong code: the field is marked invalid and the message is announced.
    const right = await emailedCode(stack.app, someone, since);
    await code.fill(right === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').waitFor();
    expect(await code.getAttribute('aria-invalid')).toBe('true');
    found.push(...(await axeViolations(page)).map((v) => `wrong code: ${v}`));
    expect(found).toEqual([]);
    await context.close();
  });

  it('the page of an expired share link (410)', async () => {
    const file = await uploadFile(stack.app, token, 'last-week.txt', 'old news\n');
    await stack.app.deps.db
      .updateTable('files')
      .set({ expires_at: new Date(Date.now() - 60_000) })
      .where('id', '=', file.id)
      .execute();
    const context = await stack.browser.newContext({ baseURL: stack.url });
    const page = await context.newPage();
    const res = await page.goto(`/share/${tokenOf(file)}`);
    expect(res?.status()).toBe(410);
    await page.getByRole('heading', { level: 1, name: 'Expired' }).waitFor();
    await page.waitForLoadState('networkidle');
    expect(await axeViolations(page)).toEqual([]);
    await context.close();
  });

  it('My files with files selected: the bulk toolbar, its delete confirmation and its result', async () => {
    const { context, page } = await loggedInContext(stack, email);
    await page.getByRole('heading', { level: 1, name: 'My files' }).waitFor();
    await page.getByRole('checkbox', { name: 'Select harbour.png', exact: true }).click();
    await page.getByRole('checkbox', { name: 'Select map.png', exact: true }).click();
    await expect.poll(() => page.getByTestId('selected-count').textContent()).toBe('2 files selected');
    const toolbar = page.getByRole('region', { name: 'Selected files' });
    const found = (await axeViolations(page)).map((v) => `selected: ${v}`);

    await toolbar.getByRole('button', { name: 'Delete…' }).click();
    await toolbar.getByRole('alertdialog').waitFor();
    found.push(...(await axeViolations(page)).map((v) => `confirm delete: ${v}`));
    await toolbar.getByRole('button', { name: 'Keep them' }).click();

    await toolbar.getByRole('textbox', { name: 'Tags to add or remove' }).fill('#checked');
    await toolbar.getByRole('button', { name: 'Add hashtags' }).click();
    await expect.poll(() => toolbar.getByRole('status').textContent()).toBe('Tagged 2 files.');
    found.push(...(await axeViolations(page)).map((v) => `after an action: ${v}`));
    expect(found).toEqual([]);
    await context.close();
  });
});

describe('a phone-sized screen (390×844)', () => {
  it('the main pages fit the screen; screenshots are kept', async () => {
    const { context, page } = await loggedInContext(stack, email, {
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    const pages: [string, string, string | RegExp][] = [
      ['gallery', '/', 'Public files'],
      ['my-files', '/files', 'My files'],
      ['detail-image', `/files/${files.image?.id}`, 'harbour.png'],
      ['detail-text', `/files/${files.text?.id}`, 'notes.md'],
      ['tag', '/tags/harbour', /harbour/],
      ['settings', '/settings', 'Settings'],
      ['share', `/share/${tokenOf(files.image)}`, 'harbour.png'],
    ];
    const tooWide: string[] = [];
    for (const [name, url, heading] of pages) {
      await page.goto(url);
      await page.getByRole('heading', { level: 1, name: heading }).first().waitFor();
      await page.waitForLoadState('networkidle');
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      if (width > 390) tooWide.push(`${url}: ${width}px`);
      await page.screenshot({ path: path.join(MOBILE, `${name}.png`), fullPage: true });
    }
    expect(tooWide).toEqual([]);
    await context.close();
    const visitor = await stack.browser.newContext({ baseURL: stack.url, viewport: { width: 390, height: 844 } });
    const login = await visitor.newPage();
    await login.goto('/otp-login');
    await login.getByRole('heading', { name: 'Log in' }).waitFor();
    await login.screenshot({ path: path.join(MOBILE, 'login.png'), fullPage: true });
    await visitor.close();
  });
});
