/**
 * Issue 8 items 8 and 9 from outside: absolute links never follow the Host header, the security headers of pages,
 * API answers and user content, /metrics behind a token (or loopback), and the tus endpoint's CORS.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/env.js';
import {
  createFile,
  createRawUpload,
  encodeMetadata,
  type FileObject,
  responseText,
  stopFilesApp,
  trpc,
} from './files-helpers.js';
import { startTestApp, type TestApp } from './harness.js';

/** A request with headers fetch() may not send (Host), answering status, headers and the body as text. */
function rawRequest(url: string, options: { method?: string; headers?: Record<string, string> } = {}) {
  return new Promise<Awaited<ReturnType<typeof responseText>>>((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      responseText(res).then(resolve, reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const directives = (csp: string | null | undefined) =>
  new Map(
    (csp ?? '')
      .split(';')
      .map((d) => d.trim())
      .filter(Boolean)
      .map((d) => {
        const [name = '', ...values] = d.split(/\s+/);
        return [name, values] as const;
      }),
  );

let app: TestApp;
let access: string;
const evil = { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' };

beforeAll(async () => {
  app = await startTestApp({ TRUST_PROXY: 'true', CORS_ORIGINS: 'https://app.example.com' });
  ({ access } = await app.login('headers@example.com'));
});
afterAll(async () => {
  await stopFilesApp(app);
});

describe('absolute links without PUBLIC_URL (development and tests): the listening address', () => {
  it('share_url and download_url ignore Host and X-Forwarded-Host, over REST and tRPC', async () => {
    const file = await createFile(app, access, 'links');
    const rest = await rawRequest(`${app.url}/api/files/${file.id}/`, {
      headers: { ...evil, authorization: `Bearer ${access}` },
    });
    expect(rest.status).toBe(200);
    const body = JSON.parse(rest.body) as FileObject;
    expect(body.share_url?.startsWith(`${app.url}/s/`)).toBe(true);
    expect(body.download_url).toBe(`${app.url}/f/${file.id}`);
    expect(rest.body).not.toContain('evil.example');

    const viaTrpc = await rawRequest(
      `${app.url}/trpc/files.get?input=${encodeURIComponent(JSON.stringify({ id: file.id }))}`,
      { headers: { ...evil, authorization: `Bearer ${access}` } },
    );
    expect(viaTrpc.status).toBe(200);
    expect(viaTrpc.body).toContain(`${app.url}/s/`);
    expect(viaTrpc.body).not.toContain('evil.example');
  });

  it('the tus Location ignores Host and X-Forwarded-Host', async () => {
    const res = await rawRequest(`${app.url}/uploads/`, {
      method: 'POST',
      headers: {
        ...evil,
        authorization: `Bearer ${access}`,
        'tus-resumable': '1.0.0',
        'upload-length': '3',
        'upload-metadata': encodeMetadata({ filename: 'loc.txt' }),
      },
    });
    expect(res.status).toBe(201);
    expect(String(res.headers.location)).toMatch(new RegExp(`^${app.url}/uploads/[0-9a-f-]{36}$`));
  });

  it('OpenAPI servers name the listening address, not the Host header', async () => {
    for (const path of ['/api/openapi.json', '/api/docs/json']) {
      const res = await rawRequest(`${app.url}${path}`, { headers: evil });
      expect(res.status).toBe(200);
      expect((JSON.parse(res.body) as { servers: { url: string }[] }).servers).toEqual([{ url: app.url }]);
    }
  });
});

describe('production configuration', () => {
  const production = {
    NODE_ENV: 'production',
    SECRET_KEY: 'x'.repeat(40),
    EMAIL_HOST: 'smtp.example.com',
    SMS_PROVIDER: 'webhook',
    SMS_WEBHOOK_URL: 'https://sms.example.com/hook',
  };
  it('refuses to start without PUBLIC_URL, naming it', () => {
    expect(() => loadConfig(production)).toThrow(ConfigError);
    expect(() => loadConfig(production)).toThrow(/PUBLIC_URL: required when NODE_ENV=production/);
    expect(loadConfig({ ...production, PUBLIC_URL: 'https://files.example.com/' }).PUBLIC_URL).toBe(
      'https://files.example.com',
    );
  });
  it('rejects a PUBLIC_URL that is not http(s) and CORS_ORIGINS entries that are not origins', () => {
    expect(() => loadConfig({ ...production, PUBLIC_URL: 'ftp://files.example.com' })).toThrow(/PUBLIC_URL/);
    expect(() =>
      loadConfig({ ...production, PUBLIC_URL: 'https://a.example', CORS_ORIGINS: 'https://b.example/path' }),
    ).toThrow(/CORS_ORIGINS/);
    expect(
      loadConfig({ ...production, PUBLIC_URL: 'https://a.example', CORS_ORIGINS: 'https://b.example, http://c:8080' })
        .CORS_ORIGINS,
    ).toEqual(['https://b.example', 'http://c:8080']);
  });
});

describe('security headers', () => {
  it('app pages and API answers carry the strict CSP, no framing, nosniff, no-referrer; no HSTS over http', async () => {
    for (const path of ['/', '/admin', '/files/abc', '/share/xyz', '/api/hashtags/', '/healthz']) {
      const res = await fetch(`${app.url}${path}`, { headers: { accept: 'text/html' } });
      const csp = directives(res.headers.get('content-security-policy'));
      expect(csp.get('script-src'), path).toEqual(["'self'"]);
      expect(csp.get('style-src')).toEqual(["'self'"]);
      expect(csp.get('object-src')).toEqual(["'none'"]);
      expect(csp.get('base-uri')).toEqual(["'none'"]);
      expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
      expect(csp.get('connect-src')).toEqual(["'self'"]);
      expect(csp.get('default-src')).toEqual(["'self'"]);
      expect(csp.get('img-src')).toEqual(["'self'", 'data:', 'blob:']);
      expect(csp.get('media-src')).toEqual(["'self'"]);
      expect(csp.get('frame-src')).toEqual(["'self'"]);
      expect([...csp.values()].flat().some((v) => /unsafe-(inline|eval)/.test(v))).toBe(false);
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('strict-transport-security')).toBeNull();
    }
  });

  it('user content is sandboxed and never framed, over /f and /s', async () => {
    const file = await createFile(app, access, '<html><script>alert(1)</script></html>', {}, 'page.html');
    const shared = await fetch(file.share_url as string);
    const own = await fetch(file.download_url, { headers: { authorization: `Bearer ${access}` } });
    for (const res of [shared, own]) {
      expect(res.status).toBe(200);
      const csp = directives(res.headers.get('content-security-policy'));
      expect(csp.has('sandbox')).toBe(true);
      expect(csp.get('sandbox')).toEqual([]);
      expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('the API docs page has its own working CSP (no inline script, never framed)', async () => {
    const page = await fetch(`${app.url}/api/docs/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    const csp = directives(page.headers.get('content-security-policy'));
    expect(csp.get('script-src')).toEqual(["'self'"]);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    expect(csp.get('object-src')).toEqual(["'none'"]);
    // Every script of the page is a file of this origin (nothing inline that the CSP would block).
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const bundle = await fetch(`${app.url}/api/docs/static/swagger-initializer.js`);
    expect(bundle.status).toBe(200);
  });

  it('a tRPC body that is not JSON gets a fixed message, not the parser text', async () => {
    const res = await fetch(`${app.url}/trpc/auth.requestOtp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"email": "a@b.c", oops',
    });
    expect(res.status).toBe(400);
    const text = await res.text();
    const body = JSON.parse(text) as { error: { message: string; data: { code: string } } };
    expect(body.error.message).toBe('The request body is not valid JSON.');
    expect(body.error.data.code).toBe('validation_error');
    expect(text).not.toMatch(/Unexpected|position|JSON at|token/i);
  });

  it('typed-client calls still work under the headers', async () => {
    const files = await trpc(app, access).files.list.query({});
    expect(files.results.length).toBeGreaterThan(0);
  });
});

describe('tus CORS', () => {
  const preflight = (origin: string) =>
    fetch(`${app.url}/uploads/`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'upload-length' },
    });
  it('answers the listening origin and CORS_ORIGINS, never * and never another origin', async () => {
    for (const origin of [app.url, 'https://app.example.com']) {
      const res = await preflight(origin);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    }
    const stranger = await preflight('https://evil.example');
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();

    const location = await createRawUpload(app, access, 3);
    const head = await fetch(location, {
      method: 'HEAD',
      headers: { 'tus-resumable': '1.0.0', authorization: `Bearer ${access}`, origin: 'https://evil.example' },
    });
    expect(head.status).toBe(200);
    expect(head.headers.get('access-control-allow-origin')).toBeNull();
    const allowed = await fetch(location, {
      method: 'HEAD',
      headers: { 'tus-resumable': '1.0.0', authorization: `Bearer ${access}`, origin: 'https://app.example.com' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
  });
});

describe('/metrics', () => {
  it('without METRICS_TOKEN: answers on loopback, not to a request forwarded from elsewhere', async () => {
    const local = await fetch(`${app.url}/metrics`);
    expect(local.status).toBe(200);
    expect(await local.text()).toContain('tagdrop_http_request_duration_seconds');
    // TRUST_PROXY=true here: the client is whoever the (loopback) proxy says it is.
    const forwarded = await fetch(`${app.url}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(forwarded.status).toBe(404);
  });

  it('with METRICS_TOKEN: only with that Bearer token, even from loopback', async () => {
    const token = 'metrics-token-0123456789';
    const guarded = await startTestApp({ METRICS_TOKEN: token });
    try {
      expect((await fetch(`${guarded.url}/metrics`)).status).toBe(404);
      const wrong = await fetch(`${guarded.url}/metrics`, { headers: { authorization: 'Bearer nope' } });
      expect(wrong.status).toBe(404);
      const right = await fetch(`${guarded.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect(right.status).toBe(200);
      expect(await right.text()).toContain('tagdrop_');
    } finally {
      await stopFilesApp(guarded);
    }
  });

  it('an untrusted proxy forwarding from elsewhere gets no metrics (TRUST_PROXY=false)', async () => {
    const direct = await startTestApp({});
    try {
      const res = await fetch(`${direct.url}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
      expect(res.status).toBe(404);
      expect((await fetch(`${direct.url}/metrics`)).status).toBe(200);
    } finally {
      await stopFilesApp(direct);
    }
  });
});

describe('HTTPS deployments', () => {
  it('send Strict-Transport-Security when PUBLIC_URL is https, and links use PUBLIC_URL', async () => {
    const secure = await startTestApp({ PUBLIC_URL: 'https://files.example.com' });
    try {
      const { access: token } = await secure.login('hsts@example.com');
      const res = await fetch(`${secure.url}/`, { headers: { accept: 'text/html' } });
      expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d{7,}/);
      expect(directives(res.headers.get('content-security-policy')).has('upgrade-insecure-requests')).toBe(true);
      const file = await createFile(secure, token, 'x');
      expect(file.share_url?.startsWith('https://files.example.com/s/')).toBe(true);
      const preflight = await fetch(`${secure.url}/uploads/`, {
        method: 'OPTIONS',
        headers: { origin: 'https://files.example.com', 'access-control-request-method': 'POST' },
      });
      expect(preflight.headers.get('access-control-allow-origin')).toBe('https://files.example.com');
    } finally {
      await stopFilesApp(secure);
    }
  });
});
