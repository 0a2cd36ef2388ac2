/**
 * Test harness: a real Tagdrop server on a random port, against a fresh PostgreSQL database, a unique Redis
 * key prefix, an SMTP server that receives the real emails, and HTTP receivers for the SMS webhook and a
 * Twilio stand-in (speaking Twilio's Messages API wire format).
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestDatabase, type TestDatabase } from '@tagdrop/db/testing';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { AppDeps } from '../src/deps.types.js';
import { type Config, loadConfig } from '../src/env.js';
import type { Logger } from '../src/infra/logger.js';
import { createServer, type TagdropServer } from '../src/server.js';
import { type S3TestServer, s3Env } from './s3-helpers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** REDIS_URL for the tests of a project (redis-cluster.setup.ts); unset: the shared Redis. */
    redisUrl: string | undefined;
    /**
     * The S3-compatible test server of the `s3` project (s3.setup.ts): every app of its test files stores on it
     * (STORAGE_DRIVER=s3, a key prefix of its own); unset: local storage.
     */
    s3Server: Omit<S3TestServer, 'stop'> | undefined;
  }
}

/**
 * The shared Redis, or the test project's own (the redis-cluster project provides a cluster's URL). Vitest is
 * only asked under vitest: the benches (`npm run bench`) use this harness outside of it.
 */
const provided = process.env.VITEST ? (await import('vitest')).inject('redisUrl') : undefined;
export const REDIS_URL = provided ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const s3Server = process.env.VITEST ? (await import('vitest')).inject('s3Server') : undefined;

export interface ReceivedMail {
  to: string;
  subject: string;
  text: string;
}
export interface ReceivedSms {
  to: string;
  body: string;
  via: 'webhook' | 'twilio';
  /** For Twilio: the Basic auth header and From field received. */
  auth?: string;
  from?: string;
}

/** A list that can be awaited for its next matching item. */
export class Inbox<T> {
  readonly items: T[] = [];
  private waiters: { match: (item: T) => boolean; resolve: (item: T) => void }[] = [];

  push(item: T) {
    this.items.push(item);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(item)) return true;
      w.resolve(item);
      return false;
    });
  }

  /** Resolves with the first item (already received or arriving later, after `since`) that matches. */
  wait(match: (item: T) => boolean, { timeoutMs = 60_000, since = 0 } = {}): Promise<T> {
    const found = this.items.slice(since).find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a message')), timeoutMs);
      this.waiters.push({
        match,
        resolve: (item) => {
          clearTimeout(timer);
          resolve(item);
        },
      });
    });
  }
}

export async function startSmtp(inbox: Inbox<ReceivedMail>) {
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          for (const rcpt of session.envelope.rcptTo) {
            inbox.push({ to: rcpt.address.toLowerCase(), subject: mail.subject ?? '', text: mail.text ?? '' });
          }
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const port = (smtp.server.address() as AddressInfo).port;
  return { port, close: () => new Promise<void>((resolve) => smtp.close(() => resolve())) };
}

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      data += c;
    });
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });

/** SMS_WEBHOOK_URL receiver and a Twilio Messages API stand-in on one HTTP server. */
async function startSmsReceiver(inbox: Inbox<ReceivedSms>, control: { failNext: number }) {
  const server: Server = createHttpServer(async (req, res) => {
    const body = await readBody(req);
    if (control.failNext > 0) {
      control.failNext--;
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"message":"try later"}');
      return;
    }
    if (req.method === 'POST' && req.url === '/sms-webhook') {
      const json = JSON.parse(body) as { to: string; body: string };
      inbox.push({ to: json.to, body: json.body, via: 'webhook' });
      res.writeHead(204).end();
      return;
    }
    const twilio = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(req.url ?? '');
    if (req.method === 'POST' && twilio) {
      const form = new URLSearchParams(body);
      const sid = `SM${randomBytes(16).toString('hex')}`;
      inbox.push({
        to: form.get('To') ?? '',
        body: form.get('Body') ?? '',
        from: form.get('From') ?? '',
        via: 'twilio',
        auth: req.headers.authorization,
      });
      res.writeHead(201, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          sid,
          account_sid: twilio[1],
          to: form.get('To'),
          from: form.get('From'),
          body: form.get('Body'),
          status: 'queued',
          num_segments: '1',
          direction: 'outbound-api',
          api_version: '2010-04-01',
          uri: `/2010-04-01/Accounts/${twilio[1]}/Messages/${sid}.json`,
        }),
      );
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface TestApp {
  url: string;
  config: Config;
  deps: AppDeps;
  server: TagdropServer;
  database: TestDatabase;
  mail: Inbox<ReceivedMail>;
  sms: Inbox<ReceivedSms>;
  /** Make the SMS receivers answer 503 to the next N requests. */
  smsControl: { failNext: number };
  /** A JSON request against the API. */
  api<T = unknown>(
    method: string,
    path: string,
    options?: { body?: unknown; token?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; body: T; headers: Headers }>;
  /** Requests a code by email, reads it from the received email, verifies it. */
  login(email: string): Promise<{ access: string; refresh: string; user: { id: string; role: string } }>;
  /**
   * Stops the server and starts a new one on the same port, database, Redis prefix and DATA_DIR: what survives a
   * restart is only what the database and storage hold (no in-memory state of the first one).
   */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export const codeFrom = (text: string) => {
  const match = /\b(\d{6})\b/.exec(text);
  if (!match?.[1]) throw new Error(`no code in: ${text}`);
  return match[1];
};

export interface TestAppOptions {
  /** Serve the built SPAs (apps/web/dist, apps/admin/dist) as in production (for browser tests). */
  serveSpas?: boolean;
  /** The server's logger (default: one from the config; silent in tests). */
  log?: Logger;
  /**
   * A second instance of another test app: the same database, Redis, key prefix and SECRET_KEY (as several API
   * instances behind a load balancer). Stopping it leaves the shared database to its owner.
   */
  shareWith?: TestApp;
}

export async function startTestApp(env: Record<string, string> = {}, options: TestAppOptions = {}): Promise<TestApp> {
  const shared = options.shareWith;
  const database = shared ? shared.database : await createTestDatabase();
  // A shared instance delivers through the first one's SMTP server and SMS receivers (one inbox for both).
  const mail = shared?.mail ?? new Inbox<ReceivedMail>();
  const sms = shared?.sms ?? new Inbox<ReceivedSms>();
  const smsControl = shared?.smsControl ?? { failNext: 0 };
  const smtp = shared ? undefined : await startSmtp(mail);
  const receiver = shared ? undefined : await startSmsReceiver(sms, smsControl);
  const delivery = shared
    ? {
        EMAIL_PORT: String(shared.config.EMAIL_PORT),
        SMS_WEBHOOK_URL: shared.config.SMS_WEBHOOK_URL ?? '',
        TWILIO_API_URL: shared.config.TWILIO_API_URL,
      }
    : {
        EMAIL_PORT: String(smtp?.port),
        SMS_WEBHOOK_URL: `${receiver?.url}/sms-webhook`,
        TWILIO_API_URL: receiver?.url ?? '',
      };
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    SECRET_KEY: shared?.config.SECRET_KEY ?? randomBytes(32).toString('hex'),
    DATABASE_URL: database.url,
    REDIS_URL: shared ? (shared.config.REDIS_URL ?? '') : REDIS_URL,
    REDIS_KEY_PREFIX: shared?.config.REDIS_KEY_PREFIX ?? `tagdrop-test:${randomBytes(6).toString('hex')}:`,
    DATA_DIR: `/tmp/tagdrop-test-${randomBytes(6).toString('hex')}`,
    EMAIL_HOST: '127.0.0.1',
    EMAIL_PORT: delivery.EMAIL_PORT,
    EMAIL_FROM: 'Tagdrop <no-reply@tagdrop.test>',
    SMS_PROVIDER: 'webhook',
    SMS_WEBHOOK_URL: delivery.SMS_WEBHOOK_URL,
    TWILIO_API_URL: delivery.TWILIO_API_URL,
    JOB_PROCESS_EVERY: '1 second',
    ...(s3Server ? s3Env(s3Server, shared?.config.S3_PREFIX) : {}),
    ...env,
  });
  let server = createServer(config, { serveSpas: options.serveSpas ?? false, log: options.log });
  const { url, port } = await server.start();

  const api: TestApp['api'] = async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const res = await fetch(`${url}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // not JSON
    }
    return { status: res.status, body: body as never, headers: res.headers };
  };

  return {
    url,
    config,
    get deps() {
      return server.deps;
    },
    get server() {
      return server;
    },
    database,
    mail,
    sms,
    smsControl,
    api,
    async login(email) {
      const since = mail.items.length;
      const requested = await api('POST', '/api/otp-login/', { body: { email } });
      if (requested.status !== 200) throw new Error(`otp-login answered ${requested.status}`);
      const message = await mail.wait((m) => m.to === email.toLowerCase(), { since });
      const verified = await api<{ access: string; refresh: string; user: { id: string; role: string } }>(
        'POST',
        '/api/verify-otp/',
        { body: { email, otp: codeFrom(message.text) } },
      );
      if (verified.status !== 200) throw new Error(`verify-otp answered ${verified.status}`);
      return verified.body;
    },
    async restart() {
      await server.stop();
      server = createServer({ ...config, PORT: port }, { serveSpas: options.serveSpas ?? false, log: options.log });
      await server.start();
    },
    async stop() {
      await server.stop();
      await Promise.all([smtp?.close(), receiver?.close()]);
      if (!shared) await database.drop();
      await rm(config.dataDir, { recursive: true, force: true });
    },
  };
}
