import { createDeps } from '../deps.js';
import type { AppDeps } from '../deps.types.js';
import { ConfigError, loadConfig } from '../env.js';
import { createLogger } from '../infra/logger.js';

/** Runs a CLI body with the app's dependencies (database migrated), then closes them. */
export async function runCli(body: (deps: AppDeps, argv: string[]) => Promise<void>): Promise<void> {
  try {
    const config = loadConfig();
    const deps = await createDeps(config, createLogger({ ...config, LOG_LEVEL: config.LOG_LEVEL ?? 'warn' }));
    try {
      await body(deps, process.argv.slice(2));
    } finally {
      await deps.close();
    }
  } catch (err) {
    console.error(err instanceof ConfigError || err instanceof Error ? err.message : err);
    process.exitCode = 1;
  }
}
