import { router } from '../../trpc/init.js';

/** Admin console procedures (users, files, hashtags, statistics, jobs, audit log); all use adminProcedure. */
export const adminRouter = router({});
