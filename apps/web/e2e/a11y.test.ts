/**
 * Every page of the user app, logged out and logged in, and the states in between (the login's code step and its
 * Phone tab, an expired link, a link that asks for its password or allows a limited number of downloads, video and
 * audio previews, Settings with a passkey listed, uploads in progress and paused, My files with files selected):
 * axe-core finds no serious or critical violation; and a phone-sized pass (390×844) over the main pages and those
 * states, nothing wider than the screen, with screenshots kept as CI artifacts (artifacts/screenshots/web/mobile).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, solidImage } from '../../api/test/thumbnail-helpers.js';
import { makePdf, makeWav, makeWebm } from './fixtures.js';
import {
  addVirtualAuthenticator,
  axeViolations,
  emailedCode,
  localhostEnv,
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
  // The expiry sweeper runs once at start, then not again here: an expired file stays to answer 410. The pages are
  // opened at http://localhost:<port>, the relying party of the passkey added below (WebAuthn refuses an IP address).
  const local = await localhostEnv();
  stack = await startStack({ EXPIRY_INTERVAL: '1 hour', ...local.env });
  stack.url = local.origin;
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
  files.audio = await uploadFile(stack.app, token, 'tone.wav', makeWav(1));
  files.locked = await uploadFile(stack.app, token, 'locked.txt', 'secret\n', { link_password: 'open sesame' });
  files.limited = await uploadFile(stack.app, token, 'counted.png', await solidImage('png'), { max_downloads: '3' });
  // The logged-in session of the tests below, with a virtual authenticator: records the video, and adds a passkey in
  // Settings (listed from then on in every session of this person).
  session = loggedInContext(stack, email);
  const { context, page } = await session;
  await addVirtualAuthenticator(context, page);
  files.video = await uploadFile(stack.app, token, 'clip.webm', await makeWebm(page, 800));
  await page.goto('/settings');
  await page.getByLabel('Passkey name').fill('Laptop');
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  await page.getByTestId('passkey').waitFor();
  await eventually(async () => {
    const { body } = await stack.app.api<{ thumbnail_url: string | null }>('GET', `/api/files/${files.public?.id}/`, {
      token,
    });
    return body.thumbnail_url;
  });
});
afterAll(async () => {
  await (await session)?.context.close();
  await (await phoneSession)?.context.close();
  await stack?.stop();
});

/**
 * One logged-in session on a desktop screen and one on a phone for the tests (a login through the UI is the slow
 * part, and logins by code for one address and IP are limited to 5 in 15 minutes).
 */
let session: Promise<{ context: BrowserContext; page: Page }> | undefined;
let phoneSession: Promise<{ context: BrowserContext; page: Page }> | undefined;
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
async function desktop() {
  session ??= loggedInContext(stack, email);
  return (await session).page;
}
async function phone() {
  phoneSession ??= loggedInContext(stack, email, PHONE);
  return (await phoneSession).page;
}

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
    const page = await desktop();
    const found = await audit(page, [
      ['/files', 'My files'],
      [`/files/${files.image?.id}`, 'harbour.png'],
      [`/files/${files.text?.id}`, 'notes.md'],
      [`/files/${files.pdf?.id}`, 'guide.pdf'],
      [`/files/${files.other?.id}`, 'archive.bin'],
      // The link controls with a password set, and with a download limit.
      [`/files/${files.locked?.id}`, 'locked.txt'],
      [`/files/${files.limited?.id}`, 'counted.png'],
      ['/settings', 'Settings'],
      ['/', 'Public files'],
      ['/tags/harbour', /harbour/],
    ]);
    expect(found).toEqual([]);
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
    const page = await desktop();
    await page.goto('/files');
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
  });
});

/** A state of a page: how to reach it (from any page), and how to leave it tidy for the next one. */
interface State {
  name: string;
  open(page: Page): Promise<void>;
  close?(page: Page): Promise<void>;
}

async function openPage(page: Page, url: string, heading: string | RegExp) {
  await page.goto(url);
  await page.getByRole('heading', { level: 1, name: heading }).first().waitFor();
  await page.waitForLoadState('networkidle');
}

/** Walks through the states: axe's serious and critical findings and, with `shots`, screenshots and overflow. */
async function walk(page: Page, states: State[], shots?: string) {
  const found: string[] = [];
  const tooWide: string[] = [];
  for (const state of states) {
    await state.open(page);
    if (shots) {
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      if (width > 390) tooWide.push(`${state.name}: ${width}px`);
      await page.screenshot({ path: path.join(shots, `${state.name}.png`), fullPage: true });
    }
    found.push(...(await axeViolations(page)).map((v) => `${state.name}: ${v}`));
    await state.close?.(page);
  }
  return { found, tooWide };
}

/** Until every player on the page has its metadata (its controls are laid out with the length). */
const playersReady = (page: Page) =>
  expect
    .poll(
      () =>
        page
          .locator('video, audio')
          .evaluateAll((els) => els.length > 0 && els.every((el) => (el as HTMLMediaElement).readyState >= 1)),
      { timeout: 15_000 },
    )
    .toBe(true);

const loginPhoneTab: State = {
  name: 'login-phone',
  async open(page) {
    await openPage(page, '/otp-login', 'Log in');
    await page.getByRole('tab', { name: 'Phone' }).click();
    await page.getByLabel('Phone number').waitFor();
    expect(await page.getByRole('tab', { name: 'Phone' }).getAttribute('aria-selected')).toBe('true');
  },
};

const linkStates = (): State[] => [
  {
    name: 'share-password',
    open: (page) => openPage(page, `/share/${tokenOf(files.locked)}`, 'This link is protected'),
  },
  {
    // A wrong password: the field is marked invalid and the message announced (one try: the link is rate-limited).
    name: 'share-wrong-password',
    async open(page) {
      await page.getByLabel('Password').fill('not the password');
      await page.getByRole('button', { name: 'Unlock' }).click();
      await page.getByRole('alert').waitFor();
      expect(await page.getByLabel('Password').getAttribute('aria-invalid')).toBe('true');
    },
  },
  {
    name: 'share-limited',
    async open(page) {
      await openPage(page, `/share/${tokenOf(files.limited)}`, 'counted.png');
      expect(await page.getByTestId('downloads-left').textContent()).toMatch(/3/);
    },
  },
];

const mediaStates = (): State[] =>
  (['video', 'audio'] as const).flatMap((kind) => {
    const name = kind === 'video' ? 'clip.webm' : 'tone.wav';
    return [
      {
        // The detail page, its QR code of the link drawn.
        name: `detail-${kind}`,
        async open(page: Page) {
          await openPage(page, `/files/${files[kind]?.id}`, name);
          await page.getByRole('link', { name: 'Download QR code (PNG)' }).waitFor();
          await playersReady(page);
        },
      },
      {
        name: `share-${kind}`,
        async open(page: Page) {
          await openPage(page, `/share/${tokenOf(files[kind])}`, name);
          await playersReady(page);
        },
      },
    ];
  });

const settingsWithPasskey: State = {
  name: 'settings-passkey',
  async open(page) {
    await openPage(page, '/settings', 'Settings');
    expect(await page.getByTestId('passkey').textContent()).toContain('Laptop');
  },
};

/** Limits the page's upload speed (bytes per second; -1: none) through the DevTools protocol. */
const throttled = new WeakMap<Page, CDPSession>();
async function throttle(page: Page, uploadThroughput: number) {
  let cdp = throttled.get(page);
  if (!cdp) {
    cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    throttled.set(page, cdp);
  }
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput,
  });
}

/** Two files on their way up a slow network, one of them paused; both cancelled on the way out. */
const uploadsInProgress: State = {
  name: 'uploads',
  async open(page) {
    await openPage(page, '/files', 'My files');
    await throttle(page, 16 * 1024);
    await page.locator('.upload input[type="file"]').setInputFiles(
      ['first', 'second'].map((n) => ({
        name: `${n}-slow.bin`,
        mimeType: 'application/octet-stream',
        buffer: Buffer.alloc(512 * 1024, n.length),
      })),
    );
    await page.getByRole('button', { name: 'Upload 2 files' }).click();
    const rows = page.getByTestId('upload-row');
    await expect.poll(() => rows.count()).toBe(2);
    await rows.first().getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => rows.first().getByTestId('upload-status').textContent()).toMatch(/^Paused/);
    expect(await rows.last().getByTestId('upload-status').textContent()).toMatch(/^Uploading/);
  },
  async close(page) {
    // Paused first (the slow requests end), then cancelled (tus termination) at full speed, then cleared.
    const rows = page.getByTestId('upload-row');
    await rows.last().getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => rows.last().getByTestId('upload-status').textContent()).toMatch(/^Paused/);
    await throttle(page, -1);
    for (const row of await rows.all()) await row.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Clear finished' }).click();
    await expect.poll(() => rows.count()).toBe(0);
  },
};

const filesSelected: State = {
  name: 'my-files-selected',
  async open(page) {
    await openPage(page, '/files', 'My files');
    await page.getByRole('checkbox', { name: 'Select harbour.png', exact: true }).click();
    await page.getByRole('checkbox', { name: 'Select map.png', exact: true }).click();
    await expect.poll(() => page.getByTestId('selected-count').textContent()).toBe('2 files selected');
  },
};

describe('axe-core, on the states the page visits leave out: no serious or critical violations', () => {
  it('the Phone tab of the login page', async () => {
    const context = await stack.browser.newContext({ baseURL: stack.url });
    const { found } = await walk(await context.newPage(), [loginPhoneTab]);
    expect(found).toEqual([]);
    await context.close();
  });

  it('a share link that asks for its password (and a wrong one), and one with a download limit', async () => {
    const context = await stack.browser.newContext({ baseURL: stack.url });
    const { found } = await walk(await context.newPage(), linkStates());
    expect(found).toEqual([]);
    await context.close();
  });

  it('video and audio previews on the detail and share pages (with the QR code of the link)', async () => {
    const { found } = await walk(await desktop(), mediaStates());
    expect(found).toEqual([]);
  });

  it('Settings with a passkey listed', async () => {
    const { found } = await walk(await desktop(), [settingsWithPasskey]);
    expect(found).toEqual([]);
  });

  it('the upload area with an upload in progress and one paused', async () => {
    const { found } = await walk(await desktop(), [uploadsInProgress]);
    expect(found).toEqual([]);
  });
});

describe('a phone-sized screen (390×844)', () => {
  it('the main pages fit the screen; screenshots are kept', async () => {
    const page = await phone();
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
    const visitor = await stack.browser.newContext({ baseURL: stack.url, viewport: { width: 390, height: 844 } });
    const login = await visitor.newPage();
    await login.goto('/otp-login');
    await login.getByRole('heading', { name: 'Log in' }).waitFor();
    await login.screenshot({ path: path.join(MOBILE, 'login.png'), fullPage: true });
    await visitor.close();
  });

  it('the states between pages fit the screen, with no serious or critical violations; screenshots are kept', async () => {
    const owner = await walk(
      await phone(),
      [settingsWithPasskey, ...mediaStates(), uploadsInProgress, filesSelected, linkStates()[2] as State],
      MOBILE,
    );
    const visitor = await stack.browser.newContext({ baseURL: stack.url, ...PHONE });
    const stranger = await walk(await visitor.newPage(), [loginPhoneTab, ...linkStates().slice(0, 2)], MOBILE);
    await visitor.close();
    expect([...owner.tooWide, ...stranger.tooWide]).toEqual([]);
    expect([...owner.found, ...stranger.found]).toEqual([]);
  });
});
