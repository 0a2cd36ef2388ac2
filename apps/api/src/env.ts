import path from 'node:path';
import { z } from 'zod';

/**
 * The only reader of process.env in the API. Every setting is validated once at start-up; a wrong value
 * stops the process with a message naming the variable.
 */
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off', ''])
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: int(0, 65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  PUBLIC_URL: z.url().optional(),
  SECRET_KEY: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  DEBUG: bool.default(false),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  DATABASE_URL: optionalString.pipe(z.url().optional()),
  REDIS_URL: optionalString.pipe(z.url().optional()),
  REDIS_KEY_PREFIX: z.string().default('tagdrop:'),
  DATA_DIR: z.string().default('./.data'),
  STORAGE_DIR: optionalString,
  MAX_UPLOAD_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(10 * 1024 ** 3),
  USER_QUOTA_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(50 * 1024 ** 3),
  EMAIL_HOST: optionalString,
  EMAIL_PORT: int(1, 65535).default(587),
  EMAIL_HOST_USER: optionalString,
  EMAIL_HOST_PASSWORD: optionalString,
  EMAIL_USE_TLS: bool.default(false),
  EMAIL_FROM: z.string().default('Tagdrop <no-reply@localhost>'),
  SMS_PROVIDER: z.enum(['console', 'webhook', 'twilio']).default('console'),
  SMS_WEBHOOK_URL: optionalString.pipe(z.url().optional()),
  TWILIO_ACCOUNT_SID: optionalString,
  TWILIO_AUTH_TOKEN: optionalString,
  TWILIO_FROM: optionalString,
  TWILIO_API_URL: z.url().default('https://api.twilio.com'),
  DEFAULT_PHONE_REGION: z
    .string()
    .regex(/^[A-Z]{2}$/, 'must be a two-letter country code')
    .optional(),
  OTP_TTL_SECONDS: int(30, 600).default(300),
  OTP_IP_LIMIT: int(1, 100_000).default(60),
  // false (default): X-Forwarded-For is ignored. true: proxies on loopback and private networks are trusted; a
  // number: that many proxy hops; or a comma list of proxy addresses/CIDRs. Only entries appended by trusted
  // proxies count, so a client cannot prepend a fake address.
  TRUST_PROXY: z
    .string()
    .default('false')
    .transform((v): false | number | string[] => {
      const value = v.trim().toLowerCase();
      if (['', 'false', '0', 'no', 'off'].includes(value)) return false;
      if (['true', 'yes', 'on'].includes(value)) return ['loopback', 'linklocal', 'uniquelocal'];
      if (/^\d+$/.test(value)) return Number(value);
      return value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    }),
  ALLOW_SIGNUP: bool.default(true),
  JOBS_IN_PROCESS: bool.default(true),
  JOB_PROCESS_EVERY: z.string().default('5 seconds'),
  /** How often delete-expired-files runs (an Agenda interval, one run across all processes). */
  EXPIRY_INTERVAL: z.string().default('1 minute'),
  /** Files deleted per batch by the expiry sweeper. */
  EXPIRY_BATCH_SIZE: int(1, 10_000).default(500),
  /** Storage objects with no row are removed once older than this (never races a fresh upload). */
  ORPHAN_GRACE_SECONDS: int(0, 7 * 24 * 3600).default(3600),
  /** How often flush-click-stats moves the live click counters into PostgreSQL. */
  STATS_FLUSH_INTERVAL: z.string().default('1 minute'),
  /** Lifetime of a cached statistics summary (it is also invalidated by every flush). */
  STATS_CACHE_TTL_SECONDS: int(1, 86_400).default(300),
});

export type Env = z.infer<typeof schema>;

export interface Config extends Env {
  /** Absolute DATA_DIR. */
  dataDir: string;
  /** Absolute STORAGE_DIR. */
  storageDir: string;
  isProduction: boolean;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses an environment (process.env by default) into a validated Config or throws a ConfigError. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const isProduction = e.NODE_ENV === 'production';
  if (isProduction && !e.SECRET_KEY) {
    throw new ConfigError('Invalid configuration:\n  SECRET_KEY: required when NODE_ENV=production');
  }
  if (e.SMS_PROVIDER === 'webhook' && !e.SMS_WEBHOOK_URL) {
    throw new ConfigError('Invalid configuration:\n  SMS_WEBHOOK_URL: required when SMS_PROVIDER=webhook');
  }
  if (e.SMS_PROVIDER === 'twilio') {
    const missing = (['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM'] as const).filter((k) => !e[k]);
    if (missing.length > 0) {
      throw new ConfigError(
        `Invalid configuration:\n${missing.map((k) => `  ${k}: required when SMS_PROVIDER=twilio`).join('\n')}`,
      );
    }
  }
  const dataDir = path.resolve(e.DATA_DIR);
  return {
    ...e,
    dataDir,
    storageDir: path.resolve(e.STORAGE_DIR ?? path.join(dataDir, 'files')),
    isProduction,
  };
}

/** For entry points: the validated Config, or a clear message naming the bad variable and exit code 78. */
export function loadConfigOrExit(env: Record<string, string | undefined> = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(78);
    }
    throw err;
  }
}
