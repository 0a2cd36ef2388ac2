/**
 * Journeys a person takes: logging in with a code sent by SMS, choosing an expiry (when uploading and later), and
 * paging through 45 files.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeFrom } from '../../api/test/harness.js';
import { loggedInContext, SHOTS, type Stack, startStack, uniqueEmail, uploadFile } from './support.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe('SMS login', () => {
  it('a phone number gets a code by SMS (the webhook receives it), and the code logs in', async () => {
    const context = await stack.browser.newContext({ baseURL: stack.url });
    const page = await context.newPage();
    const phone = `+1415555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;
    await page.goto('/otp-login');
    await page.getByRole('tab', { name: 'Phone' }).click();
    const since = stack.app.sms.items.length;
    await page.getByLabel('Phone number').fill(phone);
    await page.getByRole('button', { name: 'Send code' }).click();
    const sms = await stack.app.sms.wait((m) => m.to === phone, { since });
    expect(sms.via).toBe('webhook');
    expect(sms.body).toMatch(/^Tagdrop login code: \d{6}\./);
    await page.getByLabel('Code').fill(codeFrom(sms.body));
    await page.screenshot({ path: `${SHOTS}/login-sms.png`, fullPage: true });
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL('**/files');
    await expect.poll(() => page.getByTestId('who').textContent()).toBe(phone);
    await context.close();
  });
});

describe('expiry picker', () => {
  let context: BrowserContext;
  let page: Page;
  beforeAll(async () => {
    ({ context, page } = await loggedInContext(stack, uniqueEmail('expiry'), { timezoneId: 'Europe/Berlin' }));
  });
  afterAll(() => context?.close());

  /** A local date-time string (the picker's value) `days` from now at 14:30. */
  const localInput = (days: number) => {
    const d = new Date(Date.now() + days * 86_400_000);
    const pad = (n: number) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T14:30`;
  };
  /** What Berlin's 14:30 on that day is in UTC. */
  const berlinToIso = (local: string) =>
    new Date(new Date(`${local}:00Z`).getTime() - berlinOffsetMinutes(local) * 60_000).toISOString();
  const berlinOffsetMinutes = (local: string) => {
    const utc = new Date(`${local}:00Z`);
    const there = new Date(utc.toLocaleString('en-US', { timeZone: 'Europe/Berlin' }));
    const here = new Date(utc.toLocaleString('en-US', { timeZone: 'UTC' }));
    return Math.round((there.getTime() - here.getTime()) / 60_000);
  };

  it('an expiry picked when uploading is the file’s expires_at, in the person’s time zone', async () => {
    const when = localInput(3);
    await page
      .locator('input[type=file]')
      .setInputFiles([{ name: 'short-lived.txt', mimeType: 'text/plain', buffer: Buffer.from('gone soon\n') }]);
    await page.getByLabel('Expires (optional)').fill(when);
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    const card = page.getByTestId('file-card').filter({ hasText: 'short-lived.txt' });
    await card.waitFor();
    await expect.poll(() => card.textContent()).toMatch(/Expires/);
    const token = (await stack.app.login((await page.getByTestId('who').textContent()) as string)).access;
    const { body } = await stack.app.api<{ results: { name: string; expires_at: string | null }[] }>(
      'GET',
      '/api/files/',
      { token },
    );
    expect(body.results.find((f) => f.name === 'short-lived.txt')?.expires_at).toBe(berlinToIso(when));
  });

  it('on the detail page the picker shows the expiry, changes it, and "Never" removes it', async () => {
    await page
      .getByTestId('file-card')
      .filter({ hasText: 'short-lived.txt' })
      .getByRole('link', { name: 'short-lived.txt', exact: true })
      .click();
    await page.getByRole('heading', { name: 'short-lived.txt' }).waitFor();
    const picker = page.getByLabel('Expires', { exact: true });
    expect(await picker.inputValue()).toBe(localInput(3));
    const later = localInput(10);
    await picker.fill(later);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    await page.reload();
    await expect.poll(() => page.getByLabel('Expires', { exact: true }).inputValue()).toBe(later);
    await page.screenshot({ path: `${SHOTS}/expiry-picker.png`, fullPage: true });
    await page.getByRole('button', { name: 'Never' }).click();
    expect(await page.getByLabel('Expires', { exact: true }).inputValue()).toBe('');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    await page.reload();
    await expect.poll(() => page.getByLabel('Expires', { exact: true }).inputValue()).toBe('');
  });

  it('a time in the past is refused with a message, and nothing changes', async () => {
    const past = localInput(-1);
    await page.getByLabel('Expires', { exact: true }).fill(past);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/future/i);
    await page.reload();
    await expect.poll(() => page.getByLabel('Expires', { exact: true }).inputValue()).toBe('');
  });
});

describe('paging', () => {
  it('45 files: 20, then 40, then all 45 with "Load more", newest first, none twice', async () => {
    const email = uniqueEmail('pager');
    const { context, page } = await loggedInContext(stack, email);
    const { access } = await stack.app.login(email);
    const names = Array.from({ length: 45 }, (_, i) => `file-${String(i + 1).padStart(2, '0')}.txt`);
    for (const name of names) await uploadFile(stack.app, access, name, `${name}\n`);
    await page.reload();
    const cards = page.getByTestId('file-card');
    await expect.poll(() => cards.count()).toBe(20);
    const more = page.getByRole('button', { name: 'Load more' });
    await more.click();
    await expect.poll(() => cards.count()).toBe(40);
    await more.click();
    await expect.poll(() => cards.count()).toBe(45);
    expect(await more.count()).toBe(0);
    const shown = await page.locator('.file-name').allTextContents();
    expect(shown).toEqual([...names].reverse());
    await context.close();
  });
});
