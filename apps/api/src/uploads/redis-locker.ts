import { randomUUID } from 'node:crypto';
import { ERRORS, type Lock, type Locker, type RequestRelease } from '@tus/utils';
import type { Logger } from '../infra/logger.js';
import type { RedisClient, RedisHandle } from '../infra/redis.js';

/** Settings of the shared tus lock (defaults in DEFAULTS). */
export interface RedisLockerOptions {
  /** How long a lock lives without renewal: the most a crashed instance's lock blocks its upload. */
  ttlMs?: number;
  /** How long lock() keeps trying before it gives up with ERR_LOCK_TIMEOUT (the library's 30 s, as in memory). */
  acquireTimeoutMs?: number;
  /** How often a waiter asks the holder (wherever it runs) again to finish. */
  rerequestMs?: number;
}

const DEFAULTS = { ttlMs: 10_000, acquireTimeoutMs: 30_000, rerequestMs: 500 } as const;
const RETRY_MIN_MS = 20;
const RETRY_MAX_MS = 200;

/** Renews the lock only while it is still this holder's (its token). */
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
/** Deletes the lock only while it is still this holder's (never one taken over after an expiry). */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

interface Held {
  token: string;
  requestRelease: RequestRelease;
  renewal: NodeJS.Timeout;
}

/**
 * The tus upload lock shared by every API instance (@tus/utils `Locker`): one Redis key per upload,
 * `<prefix>{tus-lock:<id>}`, taken with `SET key token NX PX ttl`, renewed every ttl/3 while held and released
 * by a token-checked delete (Lua), so a holder never renews or deletes a lock that expired and was taken by
 * someone else. A request that finds the upload locked publishes its id on `<prefix>{tus-lock}:release`; the
 * instance holding it (every instance subscribes once) calls the holder's release callback, so @tus/server ends
 * that request cleanly (bytes so far stored, 204 with its offset; cut after lockDrainTimeout) and unlocks. The
 * waiter retries until it gets the lock, its acquire timeout passes or its signal aborts (ERR_LOCK_TIMEOUT, as the
 * in-process MemoryLocker). On a Redis Cluster each command touches one key and PUBLISH reaches subscribers on
 * every node. A lock whose renewal finds it lost (Redis away longer than the ttl) asks its request to stop.
 */
export class RedisLocker implements Locker {
  /** Locks held by this instance, by upload id. */
  private readonly held = new Map<string, Held>();
  private readonly client: RedisClient;
  private readonly subscriber: RedisClient;
  private readonly channel: string;
  private readonly options: Required<RedisLockerOptions>;
  /** Resolves once the release channel is subscribed (requests before then are repeated every rerequestMs). */
  readonly ready: Promise<void>;

  constructor(
    private readonly redis: RedisHandle,
    private readonly log: Logger,
    options: RedisLockerOptions = {},
  ) {
    if (!redis.client) throw new Error('RedisLocker needs REDIS_URL');
    this.client = redis.client;
    this.options = { ...DEFAULTS, ...options };
    this.channel = `${redis.prefix}{tus-lock}:release`;
    this.subscriber = redis.duplicate();
    this.subscriber.on('message', (channel: string, id: string) => {
      if (channel === this.channel) this.askToRelease(id);
    });
    this.ready = this.subscriber.subscribe(this.channel).then(
      () => undefined,
      (err: Error) => log.error({ err: err.message }, 'tus lock: could not subscribe to release requests'),
    );
  }

  key(id: string): string {
    return `${this.redis.prefix}{tus-lock:${id}}`;
  }

  /** Locks held by this instance right now. */
  get heldCount(): number {
    return this.held.size;
  }

  newLock(id: string): Lock {
    return new RedisLock(id, this);
  }

  /** @internal Takes the lock for `id` or asks its holder to let go; true when taken. */
  async tryAcquire(id: string, token: string, requestRelease: RequestRelease): Promise<boolean> {
    const taken = await this.client.set(this.key(id), token, 'PX', this.options.ttlMs, 'NX');
    if (taken !== 'OK') return false;
    const renewal = setInterval(() => void this.renew(id, token), Math.max(50, Math.floor(this.options.ttlMs / 3)));
    renewal.unref();
    this.held.set(id, { token, requestRelease, renewal });
    return true;
  }

  /** @internal Asks whoever holds `id` (this instance or another) to finish. */
  async requestRelease(id: string): Promise<void> {
    this.askToRelease(id); // a holder here learns at once, without the round trip
    await this.client.publish(this.channel, id);
  }

  /** @internal Gives the lock back if it is still ours; a lock that was lost is only forgotten. */
  async release(id: string, token: string): Promise<void> {
    const held = this.held.get(id);
    if (held?.token === token) {
      clearInterval(held.renewal);
      this.held.delete(id);
    }
    try {
      const deleted = await this.client.eval(RELEASE, 1, this.key(id), token);
      if (deleted !== 1) this.log.warn({ id }, 'tus lock had expired before it was released');
    } catch (err) {
      // It expires by itself within the ttl; the request's answer stays what it was.
      this.log.warn({ id, err: String(err) }, 'tus lock: could not release (it will expire)');
    }
  }

  get timing() {
    return this.options;
  }

  private askToRelease(id: string) {
    const held = this.held.get(id);
    if (held) void Promise.resolve(held.requestRelease()).catch(() => {});
  }

  private async renew(id: string, token: string) {
    const held = this.held.get(id);
    if (held?.token !== token) return;
    let renewed: unknown;
    try {
      renewed = await this.client.eval(RENEW, 1, this.key(id), token, this.options.ttlMs);
    } catch (err) {
      this.log.warn({ id, err: String(err) }, 'tus lock: could not renew (retrying)');
      return;
    }
    if (renewed === 1 || this.held.get(id)?.token !== token) return;
    // Expired (Redis away longer than the ttl) and maybe taken by another request: stop writing now.
    this.log.warn({ id }, 'tus lock lost while held: asking the request to stop');
    clearInterval(held.renewal);
    this.held.delete(id);
    void Promise.resolve(held.requestRelease()).catch(() => {});
  }

  /** Releases every lock still held (shutdown, after requests have ended) and closes the subscription. */
  async close(): Promise<void> {
    await Promise.all([...this.held].map(([id, held]) => this.release(id, held.token)));
    this.subscriber.disconnect();
  }
}

class RedisLock implements Lock {
  private token: string | undefined;

  constructor(
    private readonly id: string,
    private readonly locker: RedisLocker,
  ) {}

  async lock(signal: AbortSignal, requestRelease: RequestRelease): Promise<void> {
    const token = randomUUID();
    const { acquireTimeoutMs, rerequestMs } = this.locker.timing;
    const deadline = Date.now() + acquireTimeoutMs;
    let lastRequest = 0;
    let delay = RETRY_MIN_MS;
    for (;;) {
      if (signal.aborted || Date.now() >= deadline) throw ERRORS.ERR_LOCK_TIMEOUT;
      if (await this.locker.tryAcquire(this.id, token, requestRelease)) {
        this.token = token;
        return;
      }
      if (Date.now() - lastRequest >= rerequestMs) {
        lastRequest = Date.now();
        await this.locker.requestRelease(this.id);
      }
      await sleep(Math.min(delay, Math.max(0, deadline - Date.now())) * (0.75 + Math.random() / 2), signal);
      delay = Math.min(delay * 2, RETRY_MAX_MS);
    }
  }

  async unlock(): Promise<void> {
    const token = this.token;
    if (!token) throw new Error('Releasing an unlocked lock!');
    this.token = undefined;
    await this.locker.release(this.id, token);
  }
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
