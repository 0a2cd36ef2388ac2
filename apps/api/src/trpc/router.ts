import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { adminRouter } from '../modules/admin/admin.router.js';
import { authRouter } from '../modules/auth/auth.router.js';
import { router } from './init.js';

export const appRouter = router({
  auth: authRouter,
  admin: adminRouter,
});

export type AppRouter = typeof appRouter;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
