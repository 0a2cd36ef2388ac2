import { loadConfigOrExit } from './env.js';
import { limitHeapGrowth } from './infra/heap.js';
import { createLogger } from './infra/logger.js';
import { createServer } from './server.js';
import { onShutdownSignal } from './shutdown.js';

/** `npm start`: read env, start everything on one port, stop cleanly on SIGTERM/SIGINT. */
async function main() {
  limitHeapGrowth();
  const config = loadConfigOrExit();
  const log = createLogger(config);
  const server = createServer(config, { log });
  const { port } = await server.start();
  log.info(`Tagdrop is running: ${config.PUBLIC_URL ?? `http://localhost:${port}`}`);

  onShutdownSignal(config, log, (timeoutMs) => server.stop({ timeoutMs }));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
