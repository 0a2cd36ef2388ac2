import type { Config } from './env.js';
import type { Logger } from './infra/logger.js';

/**
 * SIGTERM or SIGINT: `stop(timeoutMs)` gets SHUTDOWN_TIMEOUT_SECONDS less a second; the process exits 0 when it
 * is done, 1 if it failed or still runs at the timeout. A second signal exits at once.
 */
export function onShutdownSignal(
  config: Pick<Config, 'SHUTDOWN_TIMEOUT_SECONDS'>,
  log: Logger,
  stop: (timeoutMs: number) => Promise<void>,
): void {
  const timeoutMs = config.SHUTDOWN_TIMEOUT_SECONDS * 1000;
  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal, timeoutSeconds: config.SHUTDOWN_TIMEOUT_SECONDS }, 'shutting down');
    const force = setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, timeoutMs);
    force.unref();
    try {
      await stop(Math.max(500, timeoutMs - 1_000));
      log.info('stopped');
      process.exit(0);
    } catch (err) {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}
