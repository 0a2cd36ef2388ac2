/**
 * The server's router type. Inside the monorepo it comes straight from the API's source; the published build
 * (`npm run build`) replaces this file with a self-contained declaration of the same procedures, inputs,
 * outputs and error shape, with no trace of the server's internals (context, database, Redis types).
 */
export type { AppRouter } from '../../../apps/api/src/trpc/router.js';
