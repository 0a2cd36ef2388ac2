/**
 * tus requests while PostgreSQL goes away (issue 8, item 1): every one is answered, with a clean 503
 * service_unavailable and no library message, also when the database goes away while the request is already
 * in @tus/server's hands (its answer is sent by us, not by Fastify's error handler) — never a hang.
 */
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type ErrorBody,
  encodeMetadata,
  type Session,
  startFilesApp,
  stopFilesApp,
  type TestApp,
} from './files-helpers.js';
import { type OwnPostgres, startOwnPostgres } from './postgres-helpers.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

let cluster: OwnPostgres;
let app: TestApp;
let alice: Session;
beforeAll(async () => {
  cluster = await startOwnPostgres();
  app = await startFilesApp({ DATABASE_URL: cluster.url });
  alice = await app.login('tus-outage@example.com');
});
afterAll(async () => {
  await stopFilesApp(app).catch(() => {});
  await cluster?.destroy();
});

/** A chunked POST with its first bytes; `finish` sends the rest and resolves with the answer (or 'no answer'). */
function startCreationWithUpload(first: Buffer, headers: Record<string, string>) {
  const started: { req?: ReturnType<typeof request> } = {};
  const answer = new Promise<{ status: number; body: string } | 'no answer'>((resolve, reject) => {
    const req = request(`${app.url}/uploads/`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${alice.access}`,
        'tus-resumable': '1.0.0',
        'content-type': 'application/offset+octet-stream',
        'upload-metadata': encodeMetadata({ filename: 'outage.bin' }),
        ...headers,
      },
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve('no answer');
    }, 10_000);
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.write(first);
    started.req = req;
  });
  return {
    answer,
    finish(rest: Buffer) {
      started.req?.end(rest);
      return answer;
    },
  };
}

describe('PostgreSQL away during a tus request', () => {
  it('a creation-with-upload whose bytes are refused while the database is away is answered 503, not left hanging', async () => {
    const data = Buffer.from('0123456789');
    const wrong = createHash('sha1').update('something else').digest('base64');
    const post = startCreationWithUpload(data.subarray(0, 5), {
      'upload-length': String(data.length),
      'upload-checksum': `sha1 ${wrong}`,
    });
    // The upload is created and reserved (a row exists) while its first bytes arrive.
    for (let i = 0; i < 100; i++) {
      const rows = await app.deps.db.selectFrom('uploads').select('id').execute();
      if (rows.length > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await cluster.stop();
    try {
      const res = await post.finish(data.subarray(5));
      expect(res).not.toBe('no answer');
      if (res === 'no answer') return;
      expect(res.status).toBe(503);
      const body = JSON.parse(res.body) as ErrorBody;
      expect(body.error.code).toBe('service_unavailable');
      expect(res.body).not.toMatch(/terminat|ECONN|postgres|pg_|connection/i);
    } finally {
      await cluster.start();
    }
  });
});
