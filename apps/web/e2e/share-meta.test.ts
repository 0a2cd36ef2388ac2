/**
 * Share links unfurl in chat apps: /share/{token} is served with OpenGraph and Twitter tags rendered by the server
 * into the SPA's HTML (absolute URLs from PUBLIC_URL), only with what the link reveals anyway, escaped (a file name
 * is data, never markup); unknown, rotated and expired links get generic tags.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, pngDeclaring, solidImage } from '../../api/test/thumbnail-helpers.js';
import { type Stack, startStack, uniqueEmail, uploadFile } from './support.js';

const PUBLIC_URL = 'https://files.example.test';
// No slash: a name is one path segment.
const HOSTILE = `Sunset "><script>window.__og = 1;'<img src=x onerror="window.__og = 2"> & co.png`;
let stack: Stack;
let crawler: BrowserContext;
let parser: Page;
let token: string;

beforeAll(async () => {
  stack = await startStack({ PUBLIC_URL });
  token = (await stack.app.login(uniqueEmail('unfurl'))).access;
  // A context without JavaScript parses the HTML as a link-preview crawler would, without running it.
  crawler = await stack.browser.newContext({ javaScriptEnabled: false });
  parser = await crawler.newPage();
});
afterAll(async () => {
  await crawler?.close();
  await stack?.stop();
});

const shareToken = (shareUrl: string | null) => new URL(shareUrl as string).pathname.split('/').pop() as string;

/** GETs /share/{token} like Slack's unfurler does, and reads the tags out of the HTML with Chromium's parser. */
async function unfurl(tokenOrPath: string) {
  const res = await fetch(`${stack.url}/share/${tokenOrPath}`, {
    headers: { 'user-agent': 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)', accept: '*/*' },
  });
  const html = await res.text();
  await parser.setContent(html);
  const tags = await parser.evaluate(() =>
    Object.fromEntries(
      [...document.querySelectorAll('meta[property], meta[name]')].map((m) => [
        m.getAttribute('property') ?? m.getAttribute('name'),
        m.getAttribute('content'),
      ]),
    ),
  );
  const scripts = await parser.evaluate(() => [...document.scripts].map((s) => s.getAttribute('src')));
  return { res, html, tags: tags as Record<string, string>, title: await parser.title(), scripts };
}

describe('share page link previews', () => {
  it('an image: its name, size and type, and its thumbnail as og:image (absolute, from PUBLIC_URL)', async () => {
    const file = await uploadFile(
      stack.app,
      token,
      'sunset.png',
      await solidImage('png', { width: 1200, height: 630 }),
      {
        name: HOSTILE,
        description: 'Evening at the harbour',
      },
    );
    const t = shareToken(file.share_url);
    await eventually(async () => {
      const { body } = await stack.app.api<{ thumbnail_url: string | null }>('GET', `/api/files/${file.id}/`, {
        token,
      });
      return body.thumbnail_url;
    });
    const { res, tags, title, scripts, html } = await unfurl(t);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('x-robots-tag')).toBe('noindex, nofollow');
    expect(tags['og:title']).toBe(HOSTILE);
    expect(tags['twitter:title']).toBe(HOSTILE);
    expect(title).toBe(`${HOSTILE} · Tagdrop`);
    expect(tags['og:description']).toMatch(/^\d+(\.\d)? KB · image\/png — Evening at the harbour$/);
    expect(tags['og:url']).toBe(`${PUBLIC_URL}/share/${t}`);
    expect(tags['og:image']).toMatch(new RegExp(`^${PUBLIC_URL}/s/${t}/thumb\\?v=[0-9a-f]{16}$`));
    expect(tags['og:image:type']).toBe('image/jpeg');
    expect(tags['twitter:image']).toBe(tags['og:image']);
    expect(tags['twitter:card']).toBe('summary_large_image');
    expect(tags.robots).toBe('noindex, nofollow');
    // The name stayed data: the only script is the app's own bundle, no element came out of the name.
    expect(scripts).toEqual([expect.stringMatching(/^\/assets\/index-[\w-]+\.js$/)]);
    expect(await parser.locator('img').count()).toBe(0);
    expect(html).not.toContain('<script>window.__og');
    // The unfurler can fetch the picture (it is the thumbnail: no click counted).
    const image = await fetch(
      `${stack.url}${new URL(tags['og:image'] as string).pathname}${new URL(tags['og:image'] as string).search}`,
    );
    expect([image.status, image.headers.get('content-type')]).toEqual([200, tags['og:image:type']]);
  });

  it('an image without a thumbnail: no og:image (its /thumb is an SVG placeholder), a summary card', async () => {
    // An image the thumbnailer refuses (it declares 400 million pixels): it never gets a thumbnail.
    const refused = await uploadFile(stack.app, token, 'huge.png', pngDeclaring(20_000, 20_000));
    const state = (id: string) =>
      stack.app.deps.db.selectFrom('files').select('thumbnail_state').where('id', '=', id).executeTakeFirstOrThrow();
    await eventually(async () => (await state(refused.id)).thumbnail_state);
    // A made thumbnail whose type is unknown (a row half-written by an older version): /thumb serves the placeholder.
    const half = await uploadFile(stack.app, token, 'half.png', await solidImage('png', { width: 300, height: 200 }));
    await eventually(async () => ((await state(half.id)).thumbnail_state === 'made' ? true : null));
    await stack.app.deps.db.updateTable('files').set({ thumbnail_type: null }).where('id', '=', half.id).execute();

    for (const [file, name] of [
      [refused, 'huge.png'],
      [half, 'half.png'],
    ] as const) {
      const t = shareToken(file.share_url);
      const thumb = await fetch(`${stack.url}/s/${t}/thumb`);
      expect([thumb.status, thumb.headers.get('content-type')]).toEqual([200, 'image/svg+xml']);
      const { res, tags } = await unfurl(t);
      expect(res.status).toBe(200);
      expect(tags['og:title']).toBe(name);
      expect(tags['og:description']).toMatch(/ · image\/png$/);
      expect(tags['og:image']).toBeUndefined();
      expect(tags['og:image:type']).toBeUndefined();
      expect(tags['twitter:image']).toBeUndefined();
      expect(tags['twitter:card']).toBe('summary');
    }
  });

  it('a password-protected link reveals nothing before the password: generic tags, no name, no picture', async () => {
    const file = await uploadFile(
      stack.app,
      token,
      'merger-terms.png',
      await solidImage('png', { width: 400, height: 300 }),
      { description: 'Board eyes only', link_password: 'correct horse' },
    );
    const t = shareToken(file.share_url);
    // Even with its thumbnail made.
    await eventually(async () => {
      const { body } = await stack.app.api<{ thumbnail_url: string | null }>('GET', `/api/files/${file.id}/`, {
        token,
      });
      return body.thumbnail_url;
    });
    const { res, tags, title, html } = await unfurl(t);
    expect(res.status).toBe(200);
    expect(tags).toMatchObject({
      'og:title': 'A file shared on Tagdrop',
      'og:description': 'Open the link to see it.',
      'og:url': `${PUBLIC_URL}/share/${t}`,
      'twitter:card': 'summary',
      robots: 'noindex, nofollow',
    });
    expect(title).toBe('Tagdrop');
    for (const absent of ['og:image', 'twitter:image', 'twitter:title', 'twitter:description', 'description']) {
      expect(tags[absent], absent).toBeUndefined();
    }
    for (const secret of ['merger', 'Board eyes', 'image/png', '/thumb']) expect(html).not.toContain(secret);
    // The same link once unlocked: the password is what stood in the way, not the file.
    await stack.app.api('PATCH', `/api/files/${file.id}/`, { token, body: { link_password: null } });
    expect((await unfurl(t)).tags['og:title']).toBe('merger-terms.png');
  });

  it('in a browser the page is the app as usual, and the name runs nothing', async () => {
    const file = await uploadFile(stack.app, token, 'words.txt', 'just words\n', { name: HOSTILE });
    const context = await stack.browser.newContext({ baseURL: stack.url });
    const page = await context.newPage();
    await page.goto(`/share/${shareToken(file.share_url)}`);
    await page.getByRole('heading', { name: HOSTILE }).waitFor();
    expect(await page.evaluate(() => (window as { __og?: number }).__og)).toBeUndefined();
    await context.close();
  });

  it('not an image: no og:image, a summary card', async () => {
    const file = await uploadFile(stack.app, token, 'minutes.txt', 'We met.\n');
    const { tags } = await unfurl(shareToken(file.share_url));
    expect(tags['og:title']).toBe('minutes.txt');
    expect(tags['og:description']).toBe('8 B · text/plain');
    expect(tags['og:image']).toBeUndefined();
    expect(tags['twitter:card']).toBe('summary');
  });

  it('unknown, rotated and expired links reveal nothing: generic tags, 404 / 410', async () => {
    const generic = { 'og:title': 'A file shared on Tagdrop', 'og:description': 'Open the link to see it.' };
    const unknown = await unfurl('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect(unknown.res.status).toBe(404);
    expect(unknown.tags).toMatchObject(generic);
    expect(unknown.tags['og:image']).toBeUndefined();
    expect(unknown.title).toBe('Tagdrop');

    const file = await uploadFile(stack.app, token, 'secret-plans.txt', 'x\n');
    const old = shareToken(file.share_url);
    await stack.app.api('POST', `/api/files/${file.id}/rotate-link/`, { token });
    const rotated = await unfurl(old);
    expect(rotated.res.status).toBe(404);
    expect(rotated.html).not.toContain('secret-plans');

    const expiring = await uploadFile(stack.app, token, 'old-news.txt', 'x\n');
    await stack.app.deps.db
      .updateTable('files')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', expiring.id)
      .execute();
    const expired = await unfurl(shareToken(expiring.share_url));
    expect(expired.res.status).toBe(410);
    expect(expired.tags).toMatchObject(generic);
    expect(expired.html).not.toContain('old-news');
  });
});
