import { loadConfigOrExit } from './env.js';
import { createLogger } from './infra/logger.js';
import { createServer } from './server.js';

/** `npm start`: read env, start everything on one port, stop cleanly on SIGTERM/SIGINT. */
async function main() {
  const config = loadConfigOrExit();
  const log = createLogger(config);
  const server = createServer(config, { log });
  const { port } = await server.start();
  log.info(`Tagdrop is running: ${config.PUBLIC_URL ?? `http://localhost:${port}`}`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, 25_000);
    force.unref();
    try {
      await server.stop();
      process.exit(0);
    } catch (err) {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
