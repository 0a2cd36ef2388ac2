/**
 * Graceful shutdown (issue 10): on SIGTERM/SIGINT `npm start` (src/main.ts) and `npm run worker` stop accepting,
 * let requests in flight finish, stop a tus upload in progress at a clean point (its bytes kept, HEAD tells the
 * right offset after a restart, the lock released), stop Agenda, close pools, and exit 0 within
 * SHUTDOWN_TIMEOUT_SECONDS. Real signals to real child processes, then a restart and a resume to the right sha256.
 */
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '@tagdrop/db/testing';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { createRedis, type RedisHandle } from '../src/infra/redis.js';
import { Deployment, sharedStorages } from './deployment-helpers.js';
import { patchHeaders } from './files-helpers.js';
import { REDIS_URL } from './harness.js';
import { freePort } from './process-helpers.js';

// Child processes start slowly on a busy machine: generous timeouts (the assertions carry the real limits).
vi.setConfig({ testTimeout: 120_000, hookTimeout: 180_000 });

const SHUTDOWN_TIMEOUT_SECONDS = 8;
let database: TestDatabase;
let deployment: Deployment;
/** The deployment's Redis, as the other instances see it (the shared tus locks live there). */
let redis: RedisHandle;
beforeAll(async () => {
  [database, deployment] = await Promise.all([createTestDatabase(), new Deployment().init()]);
  redis = createRedis(REDIS_URL, deployment.shared.REDIS_KEY_PREFIX, pino({ level: 'silent' }));
});
afterAll(async () => {
  await deployment?.cleanup();
  await redis?.close();
  await database?.drop();
});

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function createUpload(url: string, token: string, length: number, name: string) {
  const res = await fetch(`${url}/uploads/`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'tus-resumable': '1.0.0',
      'upload-length': String(length),
      'upload-metadata': `filename ${Buffer.from(name).toString('base64')}`,
    },
  });
  expect(res.status).toBe(201);
  return res.headers.get('location') as string;
}

const patch = (uploadUrl: string, token: string, offset: number, body: Buffer<ArrayBuffer>) =>
  fetch(uploadUrl, { method: 'PATCH', headers: patchHeaders(token, offset), body });

/** A PATCH that sends `body` 64 KiB every 100 ms and stops sending once the server has answered. */
function slowPatch(uploadUrl: string, token: string, body: Buffer) {
  return new Promise<{ status: number; offset: number; sent: number }>((resolve, reject) => {
    let answered = false;
    let sent = 0;
    const req = httpRequest(uploadUrl, {
      method: 'PATCH',
      headers: { ...patchHeaders(token, 0), 'content-length': String(body.length) },
    });
    req.on('response', (res) => {
      answered = true;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, offset: Number(res.headers['upload-offset']), sent }));
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    const pump = () => {
      if (answered || sent >= body.length) return;
      const chunk = body.subarray(sent, sent + 64 * 1024);
      sent += chunk.length;
      req.write(chunk);
      setTimeout(pump, 100);
    };
    pump();
  });
}

/** A download read at 6 MiB/s, so that it is still in flight when the signal comes. */
function slowDownload(url: string, token: string) {
  const bytesPerMs = (6 * 1024 * 1024) / 1000;
  return new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
    const req = httpRequest(url, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      const chunks: Buffer[] = [];
      const started = performance.now();
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        received += chunk.length;
        const ahead = received / bytesPerMs - (performance.now() - started);
        if (ahead > 5) {
          res.pause();
          setTimeout(() => res.resume(), ahead);
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('graceful shutdown', () => {
  it.each(['local', 's3'] as const)(
    'npm start on SIGTERM (%s storage): requests finish, the upload in progress stays resumable, exit 0 in time',
    async (kind) => {
      const storage = await sharedStorages[kind](path.join(deployment.shared.DATA_DIR, kind));
      onTestFinished(() => storage.stop());
      const port = String(await freePort());
      const env = {
        ...storage.env,
        PORT: port,
        SHUTDOWN_TIMEOUT_SECONDS: String(SHUTDOWN_TIMEOUT_SECONDS),
      };
      const api = await deployment.start('main', database.url, env);
      const token = await deployment.login(api.url, 'shutdown@example.com');

      // A 12 MiB file to download slowly (2 s) while the server stops.
      const big = randomBytes(12 * 1024 * 1024);
      const bigUpload = await createUpload(api.url, token, big.length, 'big.bin');
      const stored = await patch(bigUpload, token, 0, big);
      expect(stored.status).toBe(204);
      const bigId = stored.headers.get('tagdrop-file-id') as string;

      // The upload that the shutdown interrupts: 4 MiB sent at 640 KiB/s.
      const content = randomBytes(4 * 1024 * 1024);
      const uploadUrl = await createUpload(api.url, token, content.length, 'interrupted.bin');
      const uploading = slowPatch(uploadUrl, token, content);
      await sleep(800);
      const downloading = slowDownload(`${api.url}/f/${bigId}`, token);
      await sleep(300);

      const signalledAt = performance.now();
      api.proc.child.kill('SIGTERM');
      await sleep(300);
      // No new request is accepted any more.
      const late = await fetch(`${api.url}/healthz`).then(
        (r) => r.status,
        () => 'refused',
      );
      expect(late === 'refused' || late === 503).toBe(true);

      const [upload, download, exit] = await Promise.all([uploading, downloading, api.proc.exited]);
      const exitedAfterMs = performance.now() - signalledAt;
      // The download in flight was served to the last byte.
      expect(download.status).toBe(200);
      expect(sha256(download.body)).toBe(sha256(big));
      // The upload was stopped at a clean point and told the client where.
      expect(upload.status).toBe(204);
      expect(upload.offset).toBeGreaterThan(0);
      expect(upload.offset).toBeLessThan(content.length);
      expect(upload.offset).toBeLessThanOrEqual(upload.sent);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(exitedAfterMs).toBeLessThan(SHUTDOWN_TIMEOUT_SECONDS * 1000);
      expect(api.proc.output()).not.toMatch(/shutdown took too long|shutdown failed/);
      // Logged once stop() has resolved: HTTP closed, locks given back, jobs stopped, pools closed.
      expect(api.proc.output()).toMatch(/"msg":"stopped"/);
      // Its upload lock is given back, not left to expire: another instance could continue at once.
      const uploadId = new URL(uploadUrl).pathname.split('/').pop() as string;
      expect(await redis.client?.exists(`${deployment.shared.REDIS_KEY_PREFIX}{tus-lock:${uploadId}}`)).toBe(0);

      // Back on the same address: the bytes so far are there, and the upload resumes to the right file.
      const again = await deployment.start('main', database.url, env);
      const head = await fetch(uploadUrl, {
        method: 'HEAD',
        headers: { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0' },
      });
      expect(head.status).toBe(200);
      expect(Number(head.headers.get('upload-offset'))).toBe(upload.offset);
      const rest = await patch(uploadUrl, token, upload.offset, Buffer.from(content.subarray(upload.offset)));
      expect(rest.status).toBe(204);
      expect(Number(rest.headers.get('upload-offset'))).toBe(content.length);
      const fileId = rest.headers.get('tagdrop-file-id') as string;
      const file = (await (
        await fetch(`${again.url}/api/files/${fileId}/`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as { sha256: string; size: number };
      expect(file).toMatchObject({ sha256: sha256(content), size: content.length });
      const bytes = Buffer.from(
        await (
          await fetch(`${again.url}/f/${fileId}`, { headers: { authorization: `Bearer ${token}` } })
        ).arrayBuffer(),
      );
      expect(sha256(bytes)).toBe(sha256(content));

      // SIGINT (Ctrl-C) with nothing in flight: a quick, clean exit.
      const idleSignal = performance.now();
      expect(await again.proc.stop('SIGINT')).toEqual({ code: 0, signal: null });
      expect(performance.now() - idleSignal).toBeLessThan(3_000);
      console.info(
        `shutdown (${kind}) with an upload and a download in flight: exit 0 after ${Math.round(exitedAfterMs)} ms; ` +
          `upload kept ${upload.offset} of ${upload.sent} bytes sent`,
      );
    },
  );

  it('npm run worker on SIGTERM: jobs stop cleanly, exit 0 in time', async () => {
    const env = { SHUTDOWN_TIMEOUT_SECONDS: String(SHUTDOWN_TIMEOUT_SECONDS) };
    const [api, worker] = await Promise.all([
      deployment.start('main', database.url, { ...env, JOBS_IN_PROCESS: 'false' }),
      deployment.start('worker', database.url, env),
    ]);
    // It works: a code is delivered by the worker (the API runs no jobs).
    expect(await deployment.codeFor(api.url, 'worker@example.com')).toMatch(/^\d{6}$/);
    const signalled = performance.now();
    expect(await worker.proc.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(performance.now() - signalled).toBeLessThan(SHUTDOWN_TIMEOUT_SECONDS * 1000);
    expect(worker.proc.output()).toMatch(/"msg":"stopped"/);
    // Agenda stopped cleanly: no job is left locked by the worker that went away (another worker runs them now).
    const locked = await sql<{ name: string }>`select name from agenda_jobs where locked_at is not null`.execute(
      database.db,
    );
    expect(locked.rows).toEqual([]);
    expect(await api.proc.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
