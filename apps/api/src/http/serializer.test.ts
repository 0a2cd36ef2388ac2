import { fileListOutput, fileSchema, hashtagListOutput } from '@tagdrop/contracts';
import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createSerializerCompiler } from './serializer.js';

const route = (schema: z.ZodType) => ({ schema, method: 'GET', url: '/api/files/', httpStatus: '200' });
const at = '2026-12-07T21:40:00.123Z';

const item = (i: number) => ({
  id: '0b6c2c4e-0c8f-4d7e-9a55-3f1a2b3c4d5e',
  name: `\u00e9t\u00e9 "quoted" \\ back\u2028line ${'\u{1F600}'} ${i}.jpg`,
  size: 10_240 * i,
  mime_type: 'image/jpeg',
  sha256: i % 2 ? null : 'a'.repeat(64),
  description: '</script><b>not markup</b> \u0000 \t\n',
  hashtags: ['tag1', 'caf\u00e9'],
  is_public: i % 2 === 0,
  expires_at: i % 3 ? null : at,
  created_at: at,
  updated_at: at,
  download_url: 'http://localhost/f/1',
  share_url: i % 2 ? 'http://localhost/s/abc' : null,
  thumbnail_url: null,
  has_link_password: i % 4 === 0,
  max_downloads: i % 2 ? null : 5,
  downloads_left: i % 2 ? null : 0,
  stats: { clicks: i, unique_visitors: 0, last_click_at: i % 2 ? at : null },
});

describe('response serializer', () => {
  const fast = createSerializerCompiler({ check: false });
  const checked = createSerializerCompiler({ check: true });

  it('writes exactly what the zod serializer writes for lists, files and hashtags', () => {
    const page = { results: Array.from({ length: 20 }, (_, i) => item(i)), next: 'Y3Vyc29y' };
    expect(fast(route(fileListOutput))(page)).toBe(zodSerializerCompiler(route(fileListOutput))(page));
    const file = {
      ...item(3),
      stats: { clicks: 3, unique_visitors: 1, last_click_at: at, daily: [{ date: '2026-12-07', clicks: 3 }] },
    };
    expect(JSON.parse(fast(route(fileSchema))(file))).toEqual(
      JSON.parse(zodSerializerCompiler(route(fileSchema))(file)),
    );
    const tags = { results: [{ name: 'forest', count: 3 }] };
    expect(fast(route(hashtagListOutput))(tags)).toBe(zodSerializerCompiler(route(hashtagListOutput))(tags));
  });

  it('never writes a field the schema does not declare', () => {
    const page = { results: [{ ...item(1), link_password_hash: '$argon2id$secret', owner_id: 'x' }], next: null };
    const written = fast(route(fileListOutput))(page);
    expect(written).not.toContain('argon2id');
    expect(written).not.toContain('owner_id');
  });

  it('outside production, a response the schema refuses is an error, not an answer', () => {
    const bad = { results: [{ ...item(1), size: 'ten' }], next: null };
    expect(() => checked(route(fileListOutput))(bad)).toThrow();
    const missing = { results: [{ ...item(1), created_at: undefined }], next: null };
    expect(() => checked(route(fileListOutput))(missing)).toThrow();
  });

  it('keeps the zod serializer for what JSON Schema cannot express', () => {
    const dated = z.object({ at: z.date() });
    expect(fast(route(dated))({ at: new Date(at) })).toBe(`{"at":"${at}"}`);
  });
});
