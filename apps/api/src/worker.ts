import { createDeps } from './deps.js';
import { loadConfigOrExit } from './env.js';
import { limitHeapGrowth } from './infra/heap.js';
import { createLogger } from './infra/logger.js';
import { onShutdownSignal } from './shutdown.js';

/** `npm run worker`: only the background jobs (Agenda), no HTTP. Run as many as you like. */
async function main() {
  limitHeapGrowth();
  const config = loadConfigOrExit();
  const log = createLogger(config);
  const deps = await createDeps(config, log, { jobsName: `worker-${process.pid}` });
  await deps.jobs.start();
  log.info('worker started');
  onShutdownSignal(config, log, (timeoutMs) => deps.close({ deadline: Date.now() + timeoutMs }));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
