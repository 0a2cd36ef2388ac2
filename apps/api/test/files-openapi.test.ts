/**
 * GET /api/openapi.json is a valid OpenAPI 3.1 document (checked by a real validator) covering every REST path
 * of DESIGN.md with its methods and the download routes (/f, /s, their thumbnails) with their answers; /api/docs
 * renders an interactive reference.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFilesApp, stopFilesApp, type TestApp } from './files-helpers.js';

let app: TestApp;
type Doc = {
  openapi: string;
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> }; responses: object }>>;
  components?: { schemas?: Record<string, { properties?: Record<string, unknown> }> };
};
let doc: Doc;

beforeAll(async () => {
  app = await startFilesApp();
  const res = await fetch(`${app.url}/api/openapi.json`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  doc = (await res.json()) as Doc;
});
afterAll(() => stopFilesApp(app));

/** Path keys without a trailing slash, `{id}` for any path parameter. */
const norm = (p: string) => p.replace(/\/+$/, '').replace(/\{[^}]+\}/g, '{id}');
const op = (path: string, method: string) => {
  const key = Object.keys(doc.paths).find((k) => norm(k) === norm(path));
  return key ? doc.paths[key]?.[method] : undefined;
};

/** Follows a local $ref. */
const deref = (node: unknown): unknown => {
  const ref = (node as { $ref?: string } | undefined)?.$ref;
  if (!ref) return node;
  let at: unknown = doc;
  for (const part of ref.replace(/^#\//, '').split('/')) at = (at as Record<string, unknown>)[part];
  return deref(at);
};

describe('OpenAPI document', () => {
  it('is valid OpenAPI 3.1 according to @seriousme/openapi-schema-validator', async () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc) as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  const required: [string, string[]][] = [
    ['/api/otp-login/', ['post']],
    ['/api/verify-otp/', ['post']],
    ['/api/token/refresh/', ['post']],
    ['/api/logout/', ['post']],
    ['/api/files/', ['get', 'post']],
    ['/api/files/{id}/', ['get', 'put', 'patch', 'delete']],
    ['/api/public/files/', ['get']],
    ['/api/hashtags/', ['get']],
    ['/api/files/bulk/', ['post']],
    ['/api/files/zip/', ['get', 'post']],
    ['/api/files/zip/link/', ['post']],
    ['/api/public/files/zip/', ['get']],
  ];
  for (const [path, methods] of required) {
    it(`documents ${methods.map((m) => m.toUpperCase()).join(', ')} ${path}`, () => {
      for (const m of methods) expect(op(path, m), `${m} ${path}`).toBeDefined();
    });
  }

  it('POST /api/files/ is documented as multipart/form-data with a binary file field', () => {
    const post = op('/api/files/', 'post');
    const content = post?.requestBody?.content ?? {};
    expect(Object.keys(content)).toContain('multipart/form-data');
    const schema = deref((content['multipart/form-data'] as { schema: unknown }).schema) as {
      properties?: Record<string, { format?: string; contentMediaType?: string }>;
      required?: string[];
    };
    expect(Object.keys(schema.properties ?? {})).toEqual(
      expect.arrayContaining(['file', 'description', 'hashtags', 'is_public', 'expires_at']),
    );
    const file = schema.properties?.file;
    expect(file?.format === 'binary' || file?.contentMediaType !== undefined).toBe(true);
    expect(schema.required).toContain('file');
    expect(Object.keys(post?.responses ?? {})).toEqual(expect.arrayContaining(['201', '400', '401', '413']));
  });

  it('documents the ZIP link (ZipLink), the grant of GET /api/files/zip/ and the password rule', () => {
    const link = JSON.stringify(op('/api/files/zip/link/', 'post')?.responses ?? {});
    expect(link).toContain('ZipLink');
    expect(Object.keys(doc.components?.schemas?.ZipLink?.properties ?? {})).toEqual(
      expect.arrayContaining(['download_url', 'expires_at']),
    );
    expect(JSON.stringify(op('/api/files/zip/', 'get'))).toContain('"grant"');
    const json = op('/api/files/{id}/', 'patch')?.requestBody?.content['application/json'] as { schema: unknown };
    const body = deref(json.schema) as { properties: Record<string, unknown> };
    const field = deref(body.properties.link_password) as { description?: string; anyOf?: { description?: string }[] };
    const description = field.description ?? field.anyOf?.map((s) => s.description ?? '').join(' ');
    expect(description).toContain('link_password_requires_private');
  });

  it('PUT /api/files/{id}/ accepts multipart and JSON', () => {
    const content = op('/api/files/{id}/', 'put')?.requestBody?.content ?? {};
    expect(Object.keys(content)).toEqual(expect.arrayContaining(['multipart/form-data', 'application/json']));
  });

  it('the File schema has every field of DESIGN.md', () => {
    const text = JSON.stringify(op('/api/files/{id}/', 'get')?.responses ?? {});
    const schemas = doc.components?.schemas ?? {};
    const fileSchema = schemas.File ?? Object.values(schemas).find((s) => s.properties && 'share_url' in s.properties);
    const props = Object.keys(fileSchema?.properties ?? {});
    expect(text.includes('File') || props.length > 0).toBe(true);
    for (const k of [
      'id',
      'name',
      'size',
      'mime_type',
      'sha256',
      'description',
      'hashtags',
      'is_public',
      'expires_at',
      'created_at',
      'updated_at',
      'download_url',
      'share_url',
      'stats',
    ]) {
      expect(props, k).toContain(k);
    }
  });

  it('does not document the internal routes (tus, tRPC)', () => {
    const keys = Object.keys(doc.paths);
    expect(keys.some((k) => k.startsWith('/uploads') || k.startsWith('/trpc'))).toBe(false);
  });
});

describe('the download routes in the OpenAPI document', () => {
  type Operation = {
    parameters?: { name: string; in: string; required?: boolean }[];
    responses: Record<
      string,
      { description: string; headers?: Record<string, unknown>; content?: Record<string, { schema: unknown }> }
    >;
  };
  const operation = (path: string, method: string) => doc.paths[path]?.[method] as Operation | undefined;
  /** The error body schema behind a response (a $ref to the shared Error schema). */
  const errorSchema = (response: Operation['responses'][string] | undefined) =>
    deref(response?.content?.['application/json']?.schema) as { properties?: Record<string, unknown> } | undefined;

  for (const path of [
    '/f/{id}',
    '/s/{token}',
    '/f/{id}/thumb',
    '/s/{token}/thumb',
    '/f/{id}/view',
    '/s/{token}/view',
  ]) {
    it(`documents GET and HEAD ${path} with its path parameter`, () => {
      for (const method of ['get', 'head']) {
        const found = operation(path, method);
        expect(found, `${method} ${path}`).toBeDefined();
        const param = path.includes('{id}') ? 'id' : 'token';
        expect(found?.parameters).toContainEqual(expect.objectContaining({ name: param, in: 'path', required: true }));
      }
    });
  }

  it('GET /f/{id}: the whole file, a range, not modified, and the errors with their codes', () => {
    const get = operation('/f/{id}', 'get') as Operation;
    expect(Object.keys(get.responses)).toEqual(expect.arrayContaining(['200', '206', '304', '404', '410', '416']));
    const ok = get.responses['200'];
    expect(ok?.content?.['*/*']?.schema).toMatchObject({ type: 'string', format: 'binary' });
    expect(Object.keys(ok?.headers ?? {})).toEqual(
      expect.arrayContaining([
        'Content-Type',
        'Content-Disposition',
        'ETag',
        'Accept-Ranges',
        'X-Content-Type-Options',
        'Content-Security-Policy',
      ]),
    );
    expect(Object.keys(get.responses['206']?.headers ?? {})).toContain('Content-Range');
    expect(get.parameters?.map((p) => p.name)).toEqual(expect.arrayContaining(['Range', 'If-None-Match', 'grant']));
    for (const [status, code] of [
      ['404', 'not_found'],
      ['410', 'gone'],
      ['416', 'range_not_satisfiable'],
    ] as const) {
      expect(Object.keys(errorSchema(get.responses[status])?.properties ?? {}), status).toContain('error');
      expect(get.responses[status]?.description, status).toContain(code);
    }
  });

  it('GET /s/{token}: 401 password_required for a locked link, besides the answers of /f/{id}', () => {
    const get = operation('/s/{token}', 'get') as Operation;
    expect(Object.keys(get.responses)).toEqual(
      expect.arrayContaining(['200', '206', '304', '401', '404', '410', '416']),
    );
    expect(get.responses['401']?.description).toContain('password_required');
    expect(Object.keys(errorSchema(get.responses['401'])?.properties ?? {})).toContain('error');
    expect(get.parameters?.map((p) => p.name)).toContain('unlock');
  });

  it('the thumbnails: an image or the SVG placeholder, 304, and the errors', () => {
    for (const path of ['/f/{id}/thumb', '/s/{token}/thumb']) {
      const get = operation(path, 'get') as Operation;
      expect(Object.keys(get.responses), path).toEqual(expect.arrayContaining(['200', '304', '404', '410']));
      expect(Object.keys(get.responses['200']?.content ?? {}), path).toEqual(
        expect.arrayContaining(['image/webp', 'image/jpeg', 'image/svg+xml']),
      );
      expect(Object.keys(get.responses['200']?.headers ?? {}), path).toEqual(
        expect.arrayContaining(['ETag', 'Cache-Control', 'X-Content-Type-Options']),
      );
    }
    expect(Object.keys(operation('/s/{token}/thumb', 'get')?.responses ?? {})).toContain('401');
  });
});

describe('/api/docs', () => {
  it('answers HTML 200 that loads the document', async () => {
    for (const path of ['/api/docs/', '/api/docs']) {
      const res = await fetch(`${app.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toMatch(/^text\/html/);
      const html = await res.text();
      expect(html).toMatch(/<html/i);
    }
  });
});
