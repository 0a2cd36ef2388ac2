/**
 * Previews as a person sees them in Chromium: on the owner's detail page (through preview grants, counting no
 * click) and on the share page (through the private link): image, video and audio players fed by Range requests,
 * a PDF in Chromium's own viewer inside a frame, the start of text and code (highlighted, never run as HTML), and
 * type, size and icon for everything else.
 */
import { randomBytes } from 'node:crypto';
import jsQR from 'jsqr';
import type { BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePdf, makeWav, makeWebm, pdfViewerUrl } from './fixtures.js';
import { sceneImage } from './images.js';
import { loggedInContext, SHOTS, type Stack, startStack, uniqueEmail, uploadFile } from './support.js';

let stack: Stack;
let context: BrowserContext;
let page: Page;
let token: string;
const files: Record<string, { id: string; share_url: string | null }> = {};
const HOSTILE = '"><script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';

beforeAll(async () => {
  stack = await startStack();
  const email = uniqueEmail('previewer');
  ({ context, page } = await loggedInContext(stack, email, { viewport: { width: 1280, height: 900 } }));
  token = (await stack.app.login(email)).access;
  const code = `// ${HOSTILE}\nexport function greet(name: string): string {\n  return \`Hello, \${name}\`;\n}\n`;
  const uploads: [string, Buffer | string][] = [
    ['sunset.jpg', await sceneImage('sunset', 'jpeg')],
    ['clip.webm', await makeWebm(page)],
    ['tone.wav', makeWav(1)],
    ['report.pdf', makePdf('Quarterly report')],
    ['greet.ts', code],
    ['big.txt', 'abcdefghijklmnopqrstuvwxyz0123456789\n'.repeat(9000)],
    ['blob.bin', randomBytes(4096)],
  ];
  for (const [name, content] of uploads) files[name] = await uploadFile(stack.app, token, name, content);
});
afterAll(async () => {
  await context?.close();
  await stack?.stop();
});

const clicks = async (id: string) =>
  (await stack.app.api<{ stats: { clicks: number } }>('GET', `/api/files/${id}/`, { token })).body.stats.clicks;

/** Opens a file's detail page and returns the statuses of the byte requests it made. */
async function openDetail(name: string) {
  const id = files[name]?.id as string;
  const statuses: number[] = [];
  const listener = (res: { url(): string; status(): number }) => {
    if (new URL(res.url()).pathname.startsWith(`/f/${id}`)) statuses.push(res.status());
  };
  page.on('response', listener);
  await page.goto(`/files/${id}`);
  await page.getByRole('heading', { name, exact: true }).waitFor();
  return {
    id,
    statuses,
    done: () => page.off('response', listener),
    preview: page.getByRole('region', { name: 'Preview' }),
  };
}

describe('detail page previews', () => {
  it('an image is shown from its bytes', async () => {
    const view = await openDetail('sunset.jpg');
    const img = view.preview.getByRole('img', { name: 'sunset.jpg' });
    await expect.poll(() => img.evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBe(1600);
    view.done();
    await page.screenshot({ path: `${SHOTS}/preview-image.png`, fullPage: true });
  });

  it('a video plays in the page’s player, fed by Range requests (206)', async () => {
    const view = await openDetail('clip.webm');
    const video = view.preview.locator('video');
    await expect
      .poll(() => video.evaluate((el) => (el as HTMLVideoElement).readyState), { timeout: 15_000 })
      .toBeGreaterThanOrEqual(1);
    expect(await video.evaluate((el) => (el as HTMLVideoElement).videoWidth)).toBe(160);
    expect(view.statuses).toContain(206);
    view.done();
  });

  it('audio plays in the page’s player', async () => {
    const view = await openDetail('tone.wav');
    const audio = view.preview.locator('audio');
    await expect.poll(() => audio.evaluate((el) => (el as HTMLAudioElement).readyState)).toBeGreaterThanOrEqual(1);
    expect(await audio.evaluate((el) => Math.round((el as HTMLAudioElement).duration))).toBe(1);
    view.done();
  });

  it('a PDF opens in Chromium’s own viewer inside the frame (its document sandboxed by its header)', async () => {
    const view = await openDetail('report.pdf');
    const frame = view.preview.locator('iframe');
    expect(await frame.getAttribute('title')).toBe('PDF: report.pdf');
    // No sandbox attribute (Chromium would refuse the viewer); the response sandboxes the document instead.
    expect(await frame.getAttribute('sandbox')).toBeNull();
    const src = (await frame.getAttribute('src')) as string;
    const res = await page.request.get(src);
    expect(res.headers()['content-security-policy']).toBe("default-src 'none'; sandbox; frame-ancestors 'self'");
    // Chromium's viewer runs (its extension frame embeds the PDF from our /view URL).
    await expect.poll(() => pdfViewerUrl(page), { timeout: 15_000 }).toBe(src);
    view.done();
    await page.screenshot({ path: `${SHOTS}/preview-pdf.png`, fullPage: true });
  });

  it('code is highlighted and shown as text: markup in it never becomes HTML', async () => {
    const view = await openDetail('greet.ts');
    const text = view.preview.getByRole('region', { name: 'Text of greet.ts' });
    await expect.poll(() => text.textContent()).toContain(HOSTILE);
    expect(await text.locator('.hljs-keyword').count()).toBeGreaterThan(0);
    expect(await text.locator('script, img').count()).toBe(0);
    expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
    view.done();
    await page.screenshot({ path: `${SHOTS}/preview-code.png`, fullPage: true });
  });

  it('a long text shows its first 256 KiB, fetched with one Range request', async () => {
    const ranges: (string | undefined)[] = [];
    const listener = (req: { url(): string; headers(): Record<string, string> }) => {
      if (req.url().includes(`/f/${files['big.txt']?.id}?grant=`)) ranges.push(req.headers().range);
    };
    page.on('request', listener);
    const view = await openDetail('big.txt');
    const text = view.preview.getByRole('region', { name: 'Text of big.txt' });
    await expect.poll(async () => (await text.textContent())?.length).toBe(256 * 1024);
    expect(await view.preview.getByTestId('text-truncated').textContent()).toBe('The first 256 KB of 325 KB.');
    expect(ranges).toEqual(['bytes=0-262143']);
    expect(view.statuses).toEqual([206]);
    page.off('request', listener);
    view.done();
  });

  it('anything else: its icon, size and type', async () => {
    const view = await openDetail('blob.bin');
    await view.preview.getByText('No preview for this type').waitFor();
    expect(await view.preview.textContent()).toContain('4.0 KB');
    expect(await view.preview.textContent()).toContain('application/octet-stream');
    expect(await view.preview.locator('.type-icon').textContent()).toBe('BIN');
    view.done();
  });

  it('looking at one’s own previews counts no click', async () => {
    await new Promise((r) => setTimeout(r, 300));
    for (const name of ['sunset.jpg', 'clip.webm', 'tone.wav', 'report.pdf', 'greet.ts', 'big.txt']) {
      expect(await clicks(files[name]?.id as string), name).toBe(0);
    }
  });

  it('the Download button of a private file works for its owner (a download grant) and counts', async () => {
    await page.goto(`/files/${files['greet.ts']?.id}`);
    const href = (await page.getByRole('link', { name: 'Download', exact: true }).getAttribute('href')) as string;
    expect(href).toMatch(/\?grant=/);
    const res = await page.request.get(href);
    expect(res.status()).toBe(200);
    expect(await res.text()).toContain('export function greet');
    await expect.poll(() => clicks(files['greet.ts']?.id as string)).toBe(1);
  });
});

describe('QR code of the link', () => {
  it('the detail page shows a QR code of the share link, and its PNG decodes to that link', async () => {
    await page.goto(`/files/${files['sunset.jpg']?.id}`);
    const link = await page.getByLabel('Share link').inputValue();
    expect(link).toMatch(/\/share\/[\w-]+$/);
    await page.getByRole('img', { name: "QR code of this file's link" }).waitFor();
    const download = page.getByRole('link', { name: 'Download QR code (PNG)' });
    expect(await download.getAttribute('download')).toBe('sunset-qr.png');
    const href = (await download.getAttribute('href')) as string;
    expect(href).toMatch(/^data:image\/png;base64,/);
    const png = Buffer.from(href.split(',')[1] as string, 'base64');
    const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    expect(info.width).toBe(512);
    expect(jsQR(new Uint8ClampedArray(data), info.width, info.height)?.data).toBe(link);
    // The code on the page encodes the same link.
    const pixels = await page.getByTestId('qr-canvas').evaluate((el) => {
      const c = el as HTMLCanvasElement;
      const d = (c.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, c.width, c.height);
      return { width: d.width, height: d.height, data: Array.from(d.data) };
    });
    expect(jsQR(new Uint8ClampedArray(pixels.data), pixels.width, pixels.height)?.data).toBe(link);
    await page.screenshot({ path: `${SHOTS}/detail-qr.png`, fullPage: true });
  });
});

describe('share page previews', () => {
  it('a visitor with the private link sees the image and the PDF previews', async () => {
    const visitor = await stack.browser.newContext({ baseURL: stack.url });
    const vPage = await visitor.newPage();
    const shareToken = new URL(files['sunset.jpg']?.share_url as string).pathname.split('/').pop();
    await vPage.goto(`/share/${shareToken}`);
    const img = vPage.getByRole('region', { name: 'Preview' }).getByRole('img', { name: 'sunset.jpg' });
    await expect.poll(() => img.evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBe(1600);
    expect(await img.getAttribute('src')).toBe(`/s/${shareToken}`);
    await vPage.screenshot({ path: `${SHOTS}/share-image.png`, fullPage: true });

    const pdfToken = new URL(files['report.pdf']?.share_url as string).pathname.split('/').pop();
    await vPage.goto(`/share/${pdfToken}`);
    await expect.poll(() => pdfViewerUrl(vPage), { timeout: 15_000 }).toBe(`/s/${pdfToken}/view`);
    await visitor.close();
  });
});
