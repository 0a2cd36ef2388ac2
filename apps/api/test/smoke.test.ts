import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './harness.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app?.stop();
});

describe('smoke', () => {
  it('logs in by email through the real SMTP server and reads /api/me', async () => {
    const tokens = await app.login('Smoke@Example.com');
    const me = await app.api<{ email: string }>('GET', '/api/me/', { token: tokens.access });
    expect(me.status).toBe(200);
    expect(me.body.email).toBe('smoke@example.com');
  });
});
