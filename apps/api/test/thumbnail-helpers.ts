/**
 * Test images made with sharp (so each test states exactly what it feeds in), a PNG that declares a huge size
 * (a decompression bomb in a few bytes), and waiting for the make-thumbnail job.
 */
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';

export type Rgb = { r: number; g: number; b: number };
export const RED: Rgb = { r: 220, g: 30, b: 30 };
export const BLUE: Rgb = { r: 30, g: 30, b: 220 };

/** A marker string written into the GPS block of test JPEGs, to find it (or not) in the bytes. */
export const GPS_MARKER = 'TAGDROP-GPS-MARKER';

/** width×height, left half red and right half blue, as raw RGB. */
async function halves(width: number, height: number) {
  const left = await sharp({ create: { width: width / 2, height, channels: 3, background: RED } })
    .png()
    .toBuffer();
  return sharp({ create: { width, height, channels: 3, background: BLUE } }).composite([
    { input: left, left: 0, top: 0 },
  ]);
}

/**
 * A 400×200 JPEG (left half red, right half blue) with EXIF orientation 6 (shown rotated 90° clockwise, so red on
 * top, 200×400) and an EXIF GPS block (position and a marker).
 */
export async function jpegWithGpsAndOrientation(): Promise<Buffer> {
  const base = await (await halves(400, 200)).jpeg({ quality: 90 }).toBuffer();
  return sharp(base)
    .withMetadata({ orientation: 6 })
    .withExif({
      IFD0: { Make: 'TagdropCam', Model: 'Test' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 1234/100', GPSMapDatum: GPS_MARKER },
    })
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** An image of one colour in the given format (PNG with half-transparent pixels when `alpha`). */
export async function solidImage(
  format: 'png' | 'webp' | 'avif' | 'jpeg',
  { width = 1200, height = 800, colour = RED, alpha = false } = {},
): Promise<Buffer> {
  const image = sharp({
    create: { width, height, channels: alpha ? 4 : 3, background: alpha ? { ...colour, alpha: 0.5 } : colour },
  });
  return image.toFormat(format).toBuffer();
}

/** An animated GIF whose first frame is red and second blue. */
export async function twoFrameGif(): Promise<Buffer> {
  const frame = (background: Rgb) =>
    sharp({ create: { width: 64, height: 64, channels: 3, background } })
      .png()
      .toBuffer();
  return sharp([await frame(RED), await frame(BLUE)], { join: { animated: true } })
    .gif({ delay: [100, 100], loop: 0 })
    .toBuffer();
}

/** A valid PNG of a few dozen bytes that declares `width`×`height` pixels (grey, 8 bit). */
export function pngDeclaring(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale, deflate, no filter, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(64))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The mean colour of a region of an image. */
export async function meanColour(image: Buffer, region: { left: number; top: number; width: number; height: number }) {
  // stats() reads its input, not the pipeline's output: cut the region out first.
  const { channels } = await sharp(await sharp(image).extract(region).toBuffer()).stats();
  const [r, g, b] = channels.map((c) => Math.round(c.mean));
  return { r, g, b } as Rgb;
}

/** Polls `probe` until it returns a non-null value (or fails after `timeoutMs`). */
export async function eventually<T>(probe: () => Promise<T | null | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 150));
  }
}
