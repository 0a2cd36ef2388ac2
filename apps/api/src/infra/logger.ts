import pino, { type Logger } from 'pino';
import type { Config } from '../env.js';

export type { Logger };

export function createLogger(config: Pick<Config, 'LOG_LEVEL' | 'DEBUG' | 'NODE_ENV'>): Logger {
  const level = config.LOG_LEVEL ?? (config.NODE_ENV === 'test' ? 'silent' : config.DEBUG ? 'debug' : 'info');
  return pino({
    level,
    base: { service: 'tagdrop' },
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', '*.otp', '*.code', '*.refresh', '*.access'],
      censor: '[redacted]',
    },
  });
}
