import { describe, expect, it } from 'vitest';
import { sniff } from './inspect.js';

describe('sniff', () => {
  it('finds SVG after an XML declaration, comments and a doctype', async () => {
    const svg =
      '<?xml version="1.0"?>\n<!-- drawn by hand --><!DOCTYPE svg>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>';
    expect(await sniff(Buffer.from(svg))).toBe('image/svg+xml');
  });

  it('treats text that only looks like the start of SVG as text', async () => {
    // (A leading comment is an HTML signature by the WHATWG rules: served as an attachment either way.)
    expect(await sniff(Buffer.from('<!-- unterminated <svg>'))).not.toBe('image/svg+xml');
    expect(await sniff(Buffer.from('plain words, no markup'))).toBe('text/plain');
  });

  it('answers at once for crafted input that made the old pattern backtrack exponentially', async () => {
    // With the former regex, 40 empty comments and a stray character stalled the event loop for hours.
    expect(await sniff(Buffer.from(`${'<!---->'.repeat(500)}x`))).not.toBe('image/svg+xml');
  }, 2_000);
});
