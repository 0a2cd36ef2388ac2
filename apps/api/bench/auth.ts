/**
 * What authentication costs per request, with the session cache (one Redis GET) against the database path it
 * replaced (one PostgreSQL query per request; measured in the same run by swapping in a cache that never answers,
 * which is exactly the fallback path). Two figures: authenticate() calls per second in-process (32 at a time), and
 * `GET /api/me/` requests per second over HTTP (a worker thread, 32 keep-alive connections; that route reads the
 * user row itself, so it makes 1 query instead of 2).
 */

import { authenticate } from '../src/modules/auth/session-access.js';
import type { SessionCache } from '../src/modules/auth/session-cache.types.js';
import { startTestApp } from '../test/harness.js';
import { load, median } from './lib/load.js';

const noCache: SessionCache = {
  kind: 'memory',
  get: async () => null,
  remember: async () => {},
  mark: async () => {},
};

export async function benchAuth(options: { seconds?: number; rounds?: number; concurrency?: number } = {}) {
  const seconds = options.seconds ?? Number(process.env.BENCH_SECONDS ?? 3);
  const rounds = options.rounds ?? Number(process.env.BENCH_ROUNDS ?? 5);
  const concurrency = options.concurrency ?? 32;
  const app = await startTestApp({ LOG_LEVEL: 'warn' });
  try {
    const { access } = await app.login('bench-auth@example.com');
    const cache = app.deps.sessionCache;
    const inProcess = async () => {
      let calls = 0;
      const end = Date.now() + seconds * 1000;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (Date.now() < end) {
            await authenticate(app.deps, access);
            calls++;
          }
        }),
      );
      return calls / seconds;
    };
    const http = async () => {
      const r = await load(`${app.url}/api/me/`, seconds, concurrency, {
        headers: { authorization: `Bearer ${access}` },
      });
      if (r.errors > 0) throw new Error(`${r.errors} failed requests`);
      return r.done / seconds;
    };

    const rate = {
      cacheCalls: [] as number[],
      dbCalls: [] as number[],
      cacheHttp: [] as number[],
      dbHttp: [] as number[],
    };
    await http(); // warm-up
    for (let i = 0; i < rounds; i++) {
      // Alternate which goes first, so drift on a shared machine weighs on both.
      const order = i % 2 === 0 ? (['db', 'cache'] as const) : (['cache', 'db'] as const);
      for (const which of order) {
        app.deps.sessionCache = which === 'cache' ? cache : noCache;
        (which === 'cache' ? rate.cacheCalls : rate.dbCalls).push(await inProcess());
        (which === 'cache' ? rate.cacheHttp : rate.dbHttp).push(await http());
      }
    }
    app.deps.sessionCache = cache;
    const calls = { cache: median(rate.cacheCalls), db: median(rate.dbCalls) };
    const reqs = { cache: median(rate.cacheHttp), db: median(rate.dbHttp) };
    console.log(
      `auth: ${concurrency} at a time, ${rounds} x ${seconds} s each way (median), ${app.deps.sessionCache.kind} cache`,
    );
    console.log(
      `  authenticate(): database ${calls.db.toFixed(0)}/s (${(1e6 / calls.db).toFixed(0)} µs each), ` +
        `cache ${calls.cache.toFixed(0)}/s (${(1e6 / calls.cache).toFixed(0)} µs each)`,
    );
    console.log(`  GET /api/me/: database ${reqs.db.toFixed(0)} req/s, cache ${reqs.cache.toFixed(0)} req/s`);
    console.log(
      `auth ratio cache/database: authenticate() ${(calls.cache / calls.db).toFixed(2)}, ` +
        `GET /api/me/ ${(reqs.cache / reqs.db).toFixed(2)}`,
    );
    return { calls, reqs };
  } finally {
    await app.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchAuth();
