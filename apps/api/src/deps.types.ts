/**
 * The shape of the shared dependencies, apart from createDeps (deps.ts) that builds them: services, routes and
 * jobs import these types from here, so no import leads back to the file that wires everything together.
 */
import type { Db } from '@tagdrop/db';
import type { Config } from './env.js';
import type { DatabaseEndpoint } from './infra/database.js';
import type { Logger } from './infra/logger.js';
import type { Mailer } from './infra/mail.js';
import type { Limiter } from './infra/rate-limit.js';
import type { RedisHandle } from './infra/redis.js';
import type { Keys } from './infra/secrets.js';
import type { SmsProvider } from './infra/sms/types.js';
import type { Jobs } from './jobs/agenda.js';
import type { SessionCache } from './modules/auth/session-cache.types.js';
import type { StatsService } from './modules/stats/stats.types.js';
import type { Storage } from './storage/index.js';

/** The login limits (README "Security notes" explains the threat model and the guarantees they give). */
export interface Limiters {
  /** Code requests per client IP per hour (OTP_IP_LIMIT). */
  otpPerIp: Limiter;
  /** Code requests per address and client IP per 15 minutes. */
  otpPerAddressIp: Limiter;
  /** Code requests per address per 15 minutes from IPs the account has not used (a ceiling against floods). */
  otpPerAddress: Limiter;
  /** Wrong codes per address and client IP per 15 minutes. */
  verifyFailPerAddressIp: Limiter;
  /** Wrong codes per address per 15 minutes from IPs the account has not used (bounds guessing over many IPs). */
  verifyFailPerAddress: Limiter;
  /** Wrong codes per client IP per hour. */
  verifyFailPerIp: Limiter;
  /** Bad sign-in links (wrong, used or expired) per client IP per hour; links spend no per-address budget. */
  linkFailPerIp: Limiter;
  /** Passkey sign-in challenges per client IP per minute (each one is a stored row). */
  passkeyPerIp: Limiter;
  /** Wrong passwords of one private link per client IP per 15 minutes. */
  unlockFailPerLinkIp: Limiter;
  /** Wrong passwords of one private link per hour from all IPs (bounds guessing over many addresses). */
  unlockFailPerLink: Limiter;
}

/** Wrong link passwords allowed: per link and client IP per 15 minutes, per link per hour (all IPs). */
export const UNLOCK_LIMITS = { wrongPerLinkIp: 10, wrongPerLinkHour: 100 } as const;

/** The numbers behind Limiters (also in the README's security notes). */
export const LOGIN_LIMITS = {
  windowSeconds: 15 * 60,
  requestsPerAddressIp: 5,
  requestsPerAddress: 20,
  wrongPerAddressIp: 10,
  wrongPerAddress: 25,
  wrongPerIpHour: 100,
  wrongLinksPerIpHour: 30,
} as const;

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
  /** Session states for authentication without a database round trip. */
  sessionCache: SessionCache;
  storage: Storage;
  stats: StatsService;
  /**
   * Origin of every absolute link the API gives out (share_url, download_url, tus Location, OpenAPI servers):
   * PUBLIC_URL, or (development and tests) the address the server listens on; never a request's Host header.
   */
  baseUrl: string;
  /** Stops the jobs (running ones may finish until `deadline`, epoch ms) and closes every pool and client. */
  close(options?: { deadline?: number }): Promise<void>;
}
