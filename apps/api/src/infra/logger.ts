import { createRequire } from 'node:module';
import pino, { type DestinationStream, type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';
import type { Config } from '../env.js';

export type { Logger };

/**
 * JSON lines (one object per line, for log collectors) in production and tests; human-readable lines in
 * development (pino-pretty, in this thread, so nothing is lost when the process exits). Tests may pass their own
 * destination to read what would be logged.
 */
export function createLogger(
  config: Pick<Config, 'LOG_LEVEL' | 'DEBUG' | 'NODE_ENV'>,
  destination?: DestinationStream,
): Logger {
  const level = config.LOG_LEVEL ?? (config.NODE_ENV === 'test' ? 'silent' : config.DEBUG ? 'debug' : 'info');
  const options = {
    level,
    base: { service: 'tagdrop' },
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', '*.otp', '*.code', '*.refresh', '*.access'],
      censor: '[redacted]',
    },
  };
  if (destination) return pino(options, destination);
  if (config.NODE_ENV !== 'development') return pino(options);
  // Loaded in development only (production logs JSON and never needs it).
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
  return pino(
    options,
    pretty({
      sync: true,
      colorize: Boolean(process.stdout.isTTY),
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,service',
    }),
  );
}
