import { createDeps } from './deps.js';
import { loadConfigOrExit } from './env.js';
import { createLogger } from './infra/logger.js';

/** `npm run worker`: only the background jobs (Agenda), no HTTP. Run as many as you like. */
async function main() {
  const config = loadConfigOrExit();
  const log = createLogger(config);
  const deps = await createDeps(config, log, { jobsName: `worker-${process.pid}` });
  await deps.jobs.start();
  log.info('worker started');
  const shutdown = async () => {
    log.info('worker stopping');
    await deps.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
