/**
 * The shared tus lock (src/uploads/redis-locker.ts): several lockers on their own Redis connections stand for
 * several API instances. Mutual exclusion, release only by the owner, a crashed holder's lock expiring, a lost
 * lock stopping its request, a release request reaching the holder over pub/sub; and the race of issue 10 through
 * real HTTP: two API instances on one store, two PATCHes at the same offset at once → one 204, one 409/423, the
 * bytes the winner's; and the same race on one instance without Redis (the in-process lock). Runs on the shared Redis and on a Redis Cluster (vitest.config.ts, redisClusterTests).
 */
import { randomBytes } from 'node:crypto';
import { ERRORS } from '@tus/utils';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, type RedisHandle } from '../src/infra/redis.js';
import { RedisLocker, type RedisLockerOptions } from '../src/uploads/redis-locker.js';
import { REDIS_URL, startTestApp, type TestApp } from './harness.js';
import { raceTwoPatches } from './tus-race.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = pino({ level: 'silent' });
const prefix = `tagdrop-test:${randomBytes(6).toString('hex')}:`;
const never = () => new AbortController().signal;
const noop = () => {};

const handles: RedisHandle[] = [];
const lockers: RedisLocker[] = [];
/** One "instance": its own connections (commands and pub/sub) to the same Redis and prefix. */
async function instance(options: RedisLockerOptions = {}) {
  const handle = createRedis(REDIS_URL, prefix, log);
  handles.push(handle);
  expect(await handle.whenReady(10_000)).toBe(true);
  const locker = new RedisLocker(handle, log, options);
  lockers.push(locker);
  await locker.ready;
  return { locker, client: handle.client as NonNullable<RedisHandle['client']> };
}
afterAll(async () => {
  for (const locker of lockers) await locker.close();
  for (const handle of handles) await handle.close();
});

const uploadId = () => randomBytes(8).toString('hex');

describe('Redis tus locker', () => {
  it('lets one holder in at a time across instances, on a hash-tagged key', async () => {
    const all = await Promise.all([instance(), instance(), instance()]);
    const id = uploadId();
    let inside = 0;
    let most = 0;
    let entries = 0;
    await Promise.all(
      all.flatMap(({ locker, client }) =>
        Array.from({ length: 4 }, async () => {
          const lock = locker.newLock(id);
          await lock.lock(never(), noop);
          inside++;
          entries++;
          most = Math.max(most, inside);
          expect(await client.exists(locker.key(id))).toBe(1);
          await sleep(10);
          inside--;
          await lock.unlock();
        }),
      ),
    );
    expect(most).toBe(1);
    expect(entries).toBe(12);
    expect(all[0]?.locker.key(id)).toBe(`${prefix}{tus-lock:${id}}`);
    expect(await all[0]?.client.exists(all[0].locker.key(id))).toBe(0);
  });

  it('releases only its own lock: one taken over after an expiry stays', async () => {
    const { locker, client } = await instance();
    const id = uploadId();
    const lock = locker.newLock(id);
    await lock.lock(never(), noop);
    // As if it had expired and another instance had taken it.
    await client.set(locker.key(id), 'someone-else', 'PX', 10_000);
    await lock.unlock();
    expect(await client.get(locker.key(id))).toBe('someone-else');
    await expect(lock.unlock()).rejects.toThrow(/unlocked/);
  });

  it("takes over a crashed holder's lock once it expires, while a live holder's lock is renewed", async () => {
    const { locker, client } = await instance({ ttlMs: 300 });
    const dead = uploadId();
    // What a process killed while holding the lock leaves behind: a key nobody renews or deletes.
    await client.set(locker.key(dead), 'crashed-instance', 'PX', 300);
    const lock = locker.newLock(dead);
    await lock.lock(never(), noop);
    expect(await client.get(locker.key(dead))).not.toBe('crashed-instance');
    await lock.unlock();

    const live = uploadId();
    const held = locker.newLock(live);
    await held.lock(never(), noop);
    await sleep(1_000); // more than three times the ttl
    const other = await instance({ ttlMs: 300, acquireTimeoutMs: 400 });
    await expect(other.locker.newLock(live).lock(never(), noop)).rejects.toBe(ERRORS.ERR_LOCK_TIMEOUT);
    await held.unlock();
    expect(await client.exists(locker.key(live))).toBe(0);
  });

  it('asks a holder to stop when its lock was lost (taken by another after Redis lost it)', async () => {
    const { locker, client } = await instance({ ttlMs: 300 });
    const id = uploadId();
    let asked = 0;
    const lock = locker.newLock(id);
    await lock.lock(never(), () => {
      asked++;
    });
    await client.set(locker.key(id), 'someone-else', 'PX', 10_000);
    for (let i = 0; i < 100 && asked === 0; i++) await sleep(20);
    expect(asked).toBe(1);
    await lock.unlock();
    expect(await client.get(locker.key(id))).toBe('someone-else');
  });

  it('a request on another instance makes the holder let go (pub/sub), then gets the lock', async () => {
    const [a, b] = await Promise.all([instance(), instance()]);
    const id = uploadId();
    const events: string[] = [];
    const holder = a.locker.newLock(id);
    await holder.lock(never(), () => {
      events.push('asked to release');
      setTimeout(() => {
        events.push('released');
        void holder.unlock();
      }, 20);
    });
    await b.locker.newLock(id).lock(never(), () => {});
    events.push('acquired on b');
    expect(events).toEqual(['asked to release', 'released', 'acquired on b']);
    expect(a.locker.heldCount).toBe(0);
    expect(b.locker.heldCount).toBe(1);
  });

  it('gives up when its signal aborts, leaving the holder alone', async () => {
    const [a, b] = await Promise.all([instance(), instance()]);
    const id = uploadId();
    await a.locker.newLock(id).lock(never(), noop);
    const token = await a.client.get(a.locker.key(id));
    const controller = new AbortController();
    const waiting = b.locker.newLock(id).lock(controller.signal, noop);
    setTimeout(() => controller.abort(), 100);
    await expect(waiting).rejects.toBe(ERRORS.ERR_LOCK_TIMEOUT);
    expect(await a.client.get(a.locker.key(id))).toBe(token);
  });
});

describe('two API instances on one store', () => {
  let a: TestApp;
  let b: TestApp;
  let token: string;
  beforeAll(async () => {
    a = await startTestApp();
    b = await startTestApp({ STORAGE_DIR: a.config.storageDir }, { shareWith: a });
    ({ access: token } = await a.login('race@example.com'));
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  it('two PATCHes at the same offset at once: one 204, one 409 or 423, the bytes are the winner’s', async () => {
    const outcomes = await raceTwoPatches({ through: [a, b], via: b, token, runs: 5 });
    console.info(`tus race, two instances: ${outcomes.join('; ')}`);
  });
});

describe('one instance without Redis (in-process lock)', () => {
  let app: TestApp;
  let token: string;
  beforeAll(async () => {
    app = await startTestApp({ REDIS_URL: '' });
    ({ access: token } = await app.login('alone@example.com'));
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('two PATCHes at the same offset at once: one 204, one 409 or 423, the bytes are the winner’s', async () => {
    expect(app.deps.redis.client).toBeFalsy();
    const outcomes = await raceTwoPatches({ through: [app, app], via: app, token, runs: 3 });
    console.info(`tus race, one instance without Redis: ${outcomes.join('; ')}`);
  });
});
