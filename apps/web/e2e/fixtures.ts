/** Files for the browser tests, made on the spot: a PDF, a WAV, a WebM (recorded by Chromium itself). */
import type { Frame, Page } from 'playwright-core';

/**
 * The URL Chromium's PDF viewer shows in some frame of the page (its inner document embeds
 * `application/x-google-chrome-pdf` with the PDF's `original-url`), or null while there is none.
 */
export async function pdfViewerUrl(page: Page): Promise<string | null> {
  const probe = (frame: Frame) =>
    frame
      .evaluate(
        () =>
          document.querySelector('embed[type="application/x-google-chrome-pdf"]')?.getAttribute('original-url') ?? null,
      )
      .catch(() => null);
  for (const frame of page.frames()) {
    const url = await probe(frame);
    if (url) return new URL(url).pathname + new URL(url).search;
  }
  return null;
}

/** A one-page PDF showing `text` (Helvetica), as a browser's viewer would open it. */
export function makePdf(text = 'Hello from Tagdrop'): Buffer {
  const stream = `BT /F1 24 Tf 40 70 Td (${text.replace(/[()\\]/g, '')}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 144] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  out += offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** `seconds` of a 440 Hz tone, 8 kHz mono 16-bit PCM WAV. */
export function makeWav(seconds = 1): Buffer {
  const rate = 8000;
  const samples = rate * seconds;
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++)
    data.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 440 * i) / rate) * 8000), i * 2);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

/** A short WebM video, recorded from a canvas by the page's own MediaRecorder (no encoder needed here). */
export async function makeWebm(page: Page, ms = 1200): Promise<Buffer> {
  const bytes = await page.evaluate(async (duration) => {
    const canvas = document.createElement('canvas');
    canvas.width = 160;
    canvas.height = 120;
    const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
    const recorder = new MediaRecorder(canvas.captureStream(25), { mimeType: 'video/webm;codecs=vp8' });
    const chunks: Blob[] = [];
    recorder.ondataavailable = (e) => chunks.push(e.data);
    const stopped = new Promise((resolve) => {
      recorder.onstop = resolve;
    });
    recorder.start(100);
    const start = performance.now();
    await new Promise<void>((resolve) => {
      const draw = () => {
        const t = performance.now() - start;
        ctx.fillStyle = `hsl(${Math.round(t / 4) % 360} 80% 50%)`;
        ctx.fillRect(0, 0, 160, 120);
        if (t < duration) setTimeout(draw, 40);
        else resolve();
      };
      draw();
    });
    recorder.stop();
    await stopped;
    return Array.from(new Uint8Array(await new Blob(chunks).arrayBuffer()));
  }, ms);
  return Buffer.from(bytes);
}
