import { runCli } from './common.js';

// createDeps migrates to the latest version on its own; this entry point just reports it.
await runCli(async () => {
  console.log('database is up to date');
});
