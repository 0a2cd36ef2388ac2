import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { adminRouter } from '../modules/admin/admin.router.js';
import { authRouter } from '../modules/auth/auth.router.js';
import { passkeysRouter } from '../modules/auth/passkeys.router.js';
import { filesRouter, hashtagsRouter, publicRouter } from '../modules/files/files.router.js';
import { statsRouter } from '../modules/stats/stats.router.js';
import { router } from './init.js';

export const appRouter = router({
  auth: authRouter,
  passkeys: passkeysRouter,
  files: filesRouter,
  public: publicRouter,
  hashtags: hashtagsRouter,
  admin: adminRouter,
  stats: statsRouter,
});

export type AppRouter = typeof appRouter;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
