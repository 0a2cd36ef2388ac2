import { createDb, migrateToLatest } from '@tagdrop/db';
import { type AppDeps, type Limiters, LOGIN_LIMITS, UNLOCK_LIMITS } from './deps.types.js';
import type { Config } from './env.js';
import { resolveDatabase } from './infra/database.js';
import type { Logger } from './infra/logger.js';
import { createMailer } from './infra/mail.js';
import { createLimiter } from './infra/rate-limit.js';
import { createRedis } from './infra/redis.js';
import { deriveKeys, resolveSecretKey } from './infra/secrets.js';
import { createSmsProvider } from './infra/sms/index.js';
import { createJobs } from './jobs/agenda.js';
import { jobSpecs } from './jobs/registry.js';
import { createSessionCache } from './modules/auth/session-cache.js';
import { createStatsService } from './modules/stats/stats.service.js';
import { createStorage } from './storage/index.js';

/** The URL of the address a server listens on (a wildcard address as localhost). */
export function listenUrl(host: string, port: number): string {
  const name = ['', '0.0.0.0', '::', '[::]'].includes(host) ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${name}:${port}`;
}

export async function createDeps(config: Config, log: Logger, options: { jobsName?: string } = {}): Promise<AppDeps> {
  const database = await resolveDatabase(config, log);
  const db = createDb({
    connectionString: database.url,
    max: database.poolMax,
    applicationName: 'tagdrop-api',
    onIdleError: (err) => log.warn({ err: err.message }, 'idle PostgreSQL connection lost'),
  });
  try {
    await migrateToLatest(db);
  } catch (err) {
    await db.destroy();
    await database.close();
    throw err;
  }
  const redis = createRedis(config.REDIS_URL, config.REDIS_KEY_PREFIX, log);
  // Commands are refused while not connected (no offline queue): give the first connection a moment.
  if (!(await redis.whenReady(2_000))) log.warn('Redis is not reachable yet; logins answer 503 until it is');
  const keys = deriveKeys(await resolveSecretKey(config, log));
  const mailer = createMailer(config, log);
  const sms = createSmsProvider(config, log);
  const L = LOGIN_LIMITS;
  const window = L.windowSeconds;
  const limiters: Limiters = {
    otpPerIp: createLimiter(redis, { name: 'otp-ip', points: config.OTP_IP_LIMIT, durationSeconds: 3600 }),
    otpPerAddressIp: createLimiter(redis, { name: 'otp-aip', points: L.requestsPerAddressIp, durationSeconds: window }),
    otpPerAddress: createLimiter(redis, { name: 'otp-a', points: L.requestsPerAddress, durationSeconds: window }),
    verifyFailPerAddressIp: createLimiter(redis, {
      name: 'verify-aip',
      points: L.wrongPerAddressIp,
      durationSeconds: window,
    }),
    verifyFailPerAddress: createLimiter(redis, {
      name: 'verify-a',
      points: L.wrongPerAddress,
      durationSeconds: window,
    }),
    verifyFailPerIp: createLimiter(redis, { name: 'verify-ip', points: L.wrongPerIpHour, durationSeconds: 3600 }),
    linkFailPerIp: createLimiter(redis, { name: 'link-ip', points: L.wrongLinksPerIpHour, durationSeconds: 3600 }),
    passkeyPerIp: createLimiter(redis, { name: 'passkey-ip', points: 30, durationSeconds: 60 }),
    unlockFailPerLinkIp: createLimiter(redis, {
      name: 'unlock-lip',
      points: UNLOCK_LIMITS.wrongPerLinkIp,
      durationSeconds: 900,
    }),
    unlockFailPerLink: createLimiter(redis, {
      name: 'unlock-l',
      points: UNLOCK_LIMITS.wrongPerLinkHour,
      durationSeconds: 3600,
    }),
  };
  const storage = await createStorage(config, redis);
  const stats = createStatsService({ db, redis, log, keys, config });
  const sessionCache = createSessionCache(redis);
  const baseUrl = config.PUBLIC_URL ?? listenUrl(config.HOST, config.PORT);
  const deps = {
    config,
    log,
    db,
    database,
    redis,
    keys,
    mailer,
    sms,
    limiters,
    sessionCache,
    storage,
    stats,
    baseUrl,
  } as AppDeps;
  deps.jobs = createJobs(
    {
      connectionString: database.url, // PGlite has no working LISTEN/NOTIFY over the socket: poll more often there.
      processEvery: database.embedded ? '1 second' : config.JOB_PROCESS_EVERY,
      name: options.jobsName,
      specs: jobSpecs,
    },
    deps,
  );

  const defaults = [
    !config.DATABASE_URL && 'embedded PostgreSQL (PGlite) under DATA_DIR',
    !config.REDIS_URL && 'in-process store instead of Redis (single process only)',
    !config.EMAIL_HOST && 'emails written to the log',
    config.SMS_PROVIDER === 'console' && 'SMS written to the log',
    !config.SECRET_KEY && 'generated SECRET_KEY in DATA_DIR',
  ].filter(Boolean);
  if (defaults.length > 0) log.warn(`development defaults in use: ${defaults.join('; ')}`);
  if (config.SMS_PROVIDER === 'none') log.info('SMS_PROVIDER=none: phone login is turned off');

  deps.close = async ({ deadline = Date.now() + 12_000 } = {}) => {
    // Running jobs may finish until 2 s before the deadline (10 s at most); the rest closes at once.
    const waitMs = Math.max(0, Math.min(10_000, deadline - Date.now() - 2_000));
    // Each step gets until the deadline (at least 1 s): a pool still waiting for a connection that never comes
    // back must not keep the process from stopping. What did not close in time is logged and left behind.
    const step = async (what: string, close: () => Promise<unknown>) => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), Math.max(1_000, deadline - Date.now()));
        timer.unref();
      });
      const outcome = await Promise.race([
        close().catch((err) => log.error({ err: String(err) }, `${what} failed`)),
        late,
      ]);
      clearTimeout(timer);
      if (outcome === 'late') log.warn(`shutdown: ${what} did not finish before the deadline; going on`);
    };
    await step('stopping jobs', () => deps.jobs.stop({ waitMs }));
    mailer.close();
    await step('closing Redis', () => redis.close());
    await step('closing the database pool', () => db.destroy());
    await step('closing the embedded database', () => database.close());
  };
  return deps;
}
