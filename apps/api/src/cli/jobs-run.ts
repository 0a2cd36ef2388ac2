import { jobSpecs } from '../jobs/registry.js';
import { runCli } from './common.js';

/** `npm run jobs:run -- <job-name> [json-payload]`: runs one job once, here and now. */
await runCli(async (deps, argv) => {
  const [name, payload] = argv;
  if (!name) {
    throw new Error(`usage: npm run jobs:run -- <job> [json]; jobs: ${jobSpecs.map((s) => s.name).join(', ')}`);
  }
  const started = Date.now();
  await deps.jobs.runNow(name, payload ? JSON.parse(payload) : {});
  console.log(`${name} finished in ${Date.now() - started} ms`);
});
