import { createDb, type Db, migrateToLatest } from '@tagdrop/db';
import type { Config } from './env.js';
import { type DatabaseEndpoint, resolveDatabase } from './infra/database.js';
import type { Logger } from './infra/logger.js';
import { createMailer, type Mailer } from './infra/mail.js';
import { createLimiter, type Limiter } from './infra/rate-limit.js';
import { createRedis, type RedisHandle } from './infra/redis.js';
import { deriveKeys, type Keys, resolveSecretKey } from './infra/secrets.js';
import { createSmsProvider, type SmsProvider } from './infra/sms/index.js';
import { createJobs, type Jobs } from './jobs/agenda.js';
import { jobSpecs } from './jobs/registry.js';
import { createStatsService } from './modules/stats/stats.service.js';
import type { StatsService } from './modules/stats/stats.types.js';
import { createStorage, type Storage } from './storage/index.js';

export interface Limiters {
  /** OTP requests per client IP per hour (OTP_IP_LIMIT). */
  otpPerIp: Limiter;
  /** OTP requests per email/phone per 15 minutes. */
  otpPerIdentifier: Limiter;
  /** Failed verifications per email/phone and client IP per 15 minutes. */
  verifyFailPerIdentifier: Limiter;
  /** Failed verifications per IP per hour. */
  verifyFailPerIp: Limiter;
}

/** Everything the services share; built once per process. */
export interface AppDeps {
  config: Config;
  log: Logger;
  db: Db;
  database: DatabaseEndpoint;
  redis: RedisHandle;
  keys: Keys;
  mailer: Mailer;
  sms: SmsProvider;
  jobs: Jobs;
  limiters: Limiters;
  storage: Storage;
  stats: StatsService;
  close(): Promise<void>;
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
  const keys = deriveKeys(await resolveSecretKey(config, log));
  const mailer = createMailer(config, log);
  const sms = createSmsProvider(config, log);
  const limiters: Limiters = {
    otpPerIp: createLimiter(redis, { name: 'otp-ip', points: config.OTP_IP_LIMIT, durationSeconds: 3600 }),
    otpPerIdentifier: createLimiter(redis, { name: 'otp-id', points: 5, durationSeconds: 15 * 60 }),
    verifyFailPerIdentifier: createLimiter(redis, { name: 'verify-id', points: 10, durationSeconds: 15 * 60 }),
    verifyFailPerIp: createLimiter(redis, { name: 'verify-ip', points: 100, durationSeconds: 3600 }),
  };
  const storage = createStorage(config);
  const stats = createStatsService({ db, redis, log, keys, config });
  const deps = { config, log, db, database, redis, keys, mailer, sms, limiters, storage, stats } as AppDeps;
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

  deps.close = async () => {
    await deps.jobs.stop().catch((err) => log.error({ err: String(err) }, 'stopping jobs failed'));
    mailer.close();
    await redis.close();
    await db.destroy();
    await database.close();
  };
  return deps;
}
