import path from 'node:path';
import { z } from 'zod';
import { parseRedisUrl } from './infra/redis-url.js';

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
  PUBLIC_URL: optionalString.pipe(
    z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. https://files.example.com' })
      .transform((v) => v.replace(/\/+$/, ''))
      .optional(),
  ),
  SECRET_KEY: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  DEBUG: bool.default(false),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  DATABASE_URL: optionalString.pipe(z.url().optional()),
  /** One server (`redis://…`, `rediss://…`) or a cluster (`redis+cluster://host:port,host:port`). */
  REDIS_URL: optionalString.superRefine((value, ctx) => {
    const target = value === undefined ? undefined : parseRedisUrl(value);
    if (target instanceof Error) ctx.addIssue({ code: 'custom', message: target.message });
  }),
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
  /** console (development: texts go to the log), webhook, twilio, or none (phone login turned off). */
  SMS_PROVIDER: z.enum(['console', 'webhook', 'twilio', 'none']).default('console'),
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
  /** The admin console and admin procedures accept only sessions that began with a passkey. */
  ADMIN_REQUIRE_PASSKEY: bool.default(false),
  JOBS_IN_PROCESS: bool.default(true),
  /** On SIGTERM/SIGINT: how long requests and running jobs may take to finish before the process exits. */
  SHUTDOWN_TIMEOUT_SECONDS: int(1, 3600).default(25),
  JOB_PROCESS_EVERY: z.string().default('5 seconds'),
  /** How often delete-expired-files runs (an Agenda interval, one run across all processes). */
  EXPIRY_INTERVAL: z.string().default('1 minute'),
  /** Files deleted per batch by the expiry sweeper. */
  EXPIRY_BATCH_SIZE: int(1, 20_000).default(5_000),
  /** Storage objects with no row are removed once older than this (never races a fresh upload). */
  ORPHAN_GRACE_SECONDS: int(0, 7 * 24 * 3600).default(3600),
  /** How often flush-click-stats moves the live click counters into PostgreSQL. */
  STATS_FLUSH_INTERVAL: z.string().default('1 minute'),
  /** Bearer token that /metrics requires; unset: /metrics answers only on loopback. */
  METRICS_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  /** Extra origins (comma list) allowed to call the tus endpoint from a browser, besides PUBLIC_URL's. */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((v, ctx) => {
      const origins: string[] = [];
      for (const item of v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)) {
        const parsed = URL.canParse(item) ? new URL(item) : undefined;
        if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.origin !== item.replace(/\/$/, '')) {
          ctx.addIssue({ code: 'custom', message: `"${item}" is not an origin like https://app.example.com` });
          return z.NEVER;
        }
        origins.push(parsed.origin);
      }
      return origins;
    }),
  /** Lifetime of a cached statistics summary (it is also invalidated by every flush). */
  STATS_CACHE_TTL_SECONDS: int(1, 86_400).default(300),
  /** nginx: downloads are authorized and counted here, their bytes sent by nginx (X-Accel-Redirect); unset: off. */
  DOWNLOAD_ACCEL: z
    .enum(['nginx', 'off', ''])
    .default('off')
    .transform((v) => (v === 'nginx' ? ('nginx' as const) : undefined)),
  /** Where file bytes live: local (STORAGE_DIR) or s3 (an S3-compatible bucket, S3_* below). */
  STORAGE_DRIVER: z.enum(['local', 's3']).default('local'),
  /** Empty for AWS S3; else the store's URL (MinIO, R2, Garage, Ceph RGW …). */
  S3_ENDPOINT: optionalString.pipe(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional()),
  S3_REGION: optionalString,
  S3_BUCKET: optionalString.pipe(
    z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
        'must be an S3 bucket name (3-63 lowercase letters, digits, . and -)',
      )
      .optional(),
  ),
  /** Both or neither: unset, the SDK's default credential chain (environment, profile, instance role). */
  S3_ACCESS_KEY_ID: optionalString,
  S3_SECRET_ACCESS_KEY: optionalString,
  /** Path-style URLs (endpoint/bucket/key): MinIO, Garage, Ceph and most self-hosted stores need it. */
  S3_FORCE_PATH_STYLE: bool.default(false),
  /** Optional key prefix inside the bucket (e.g. `tagdrop/`); a trailing / is added. */
  S3_PREFIX: z
    .string()
    .default('')
    .transform((v) => v.trim().replace(/^\/+/, ''))
    .pipe(
      z
        .string()
        .regex(/^[A-Za-z0-9._\-/]*$/, 'may contain letters, digits, . _ - and /')
        .transform((v) => (v === '' || v.endsWith('/') ? v : `${v}/`)),
    ),
  /**
   * when_supported (the SDK's default: CRC checksums on every upload) or when_required (only where the S3 API
   * demands one): for stores that reject or mis-store the SDK's newer checksums and aws-chunked uploads.
   */
  S3_REQUEST_CHECKSUM: z.enum(['when_supported', 'when_required']).default('when_supported'),
  /** presigned (s3 only): downloads are authorized and counted here, then redirected to a 60 s presigned GET. */
  DOWNLOAD_REDIRECT: z
    .enum(['presigned', 'off', ''])
    .default('off')
    .transform((v) => (v === 'presigned' ? ('presigned' as const) : undefined)),
  /** The internal nginx location that maps to STORAGE_DIR (X-Accel-Redirect: <prefix><storage key>). */
  DOWNLOAD_ACCEL_PREFIX: z
    .string()
    .regex(/^\/([A-Za-z0-9._~-]+\/)+$/, 'must be a path that starts and ends with /, e.g. /_protected/')
    .default('/_protected/'),
});

export type Env = z.infer<typeof schema>;

/** Every variable this file reads (the README's configuration table lists each one). */
export const ENV_NAMES = Object.keys(schema.shape) as (keyof Env)[];

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
  if (isProduction) {
    // Production must deliver codes for real (the log fallbacks are for development only), and absolute links
    // (share_url, download_url, tus Location) must never come from a request's Host header.
    const missing = [
      !e.PUBLIC_URL && '  PUBLIC_URL: required when NODE_ENV=production (e.g. https://files.example.com)',
      !e.EMAIL_HOST &&
        '  EMAIL_HOST: required when NODE_ENV=production (login codes are emailed; without an SMTP server they would only reach the log)',
      e.SMS_PROVIDER === 'console' &&
        '  SMS_PROVIDER: set webhook or twilio when NODE_ENV=production, or none to turn phone login off (console only writes texts to the log)',
    ].filter(Boolean);
    if (missing.length > 0) throw new ConfigError(`Invalid configuration:\n${missing.join('\n')}`);
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
  const storageProblems = storageConfigProblems(e);
  if (storageProblems.length > 0) throw new ConfigError(`Invalid configuration:\n${storageProblems.join('\n')}`);
  // Relative paths are relative to where the person ran npm (INIT_CWD: the repository root for `npm start`, although
  // npm runs the API's script inside apps/api), else to the working directory.
  const base = env.INIT_CWD || process.cwd();
  const dataDir = path.resolve(base, e.DATA_DIR);
  return {
    ...e,
    dataDir,
    storageDir: path.resolve(base, e.STORAGE_DIR ?? path.join(dataDir, 'files')),
    isProduction,
  };
}

/** What STORAGE_DRIVER and the download offloads need from each other (one line per problem). */
function storageConfigProblems(e: Env): string[] {
  const problems: string[] = [];
  if (e.STORAGE_DRIVER === 's3') {
    if (!e.S3_BUCKET) problems.push('  S3_BUCKET: required when STORAGE_DRIVER=s3');
    if (!e.S3_ENDPOINT && !e.S3_REGION) {
      problems.push('  S3_REGION: required when STORAGE_DRIVER=s3 on AWS (no S3_ENDPOINT), e.g. eu-central-1');
    }
    if (Boolean(e.S3_ACCESS_KEY_ID) !== Boolean(e.S3_SECRET_ACCESS_KEY)) {
      problems.push(
        "  S3_ACCESS_KEY_ID/S3_SECRET_ACCESS_KEY: set both, or neither (then the SDK's default credential chain)",
      );
    }
    if (e.DOWNLOAD_ACCEL === 'nginx') {
      problems.push(
        '  DOWNLOAD_ACCEL: nginx serves local files only; with STORAGE_DRIVER=s3 use DOWNLOAD_REDIRECT=presigned',
      );
    }
  } else if (e.DOWNLOAD_REDIRECT === 'presigned') {
    problems.push('  DOWNLOAD_REDIRECT: presigned needs STORAGE_DRIVER=s3');
  }
  return problems;
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
