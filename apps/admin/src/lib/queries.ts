import type { Role } from '@tagdrop/contracts';
import { trpc } from './trpc';

export const PAGE_SIZE = 25;

export interface UserFilters {
  search?: string | undefined;
  role?: Role | undefined;
  active?: boolean | undefined;
}

/** One definition per list, shared by the route loader (ensure…Data) and the component (useSuspense…Query). */
export const usersQuery = (filters: UserFilters) =>
  trpc.admin.users.list.infiniteQueryOptions(
    { ...filters, limit: PAGE_SIZE },
    { getNextPageParam: (last) => last.next },
  );

export interface AuditFilters {
  action?: string | undefined;
  actor_id?: string | undefined;
}

export const auditQuery = (filters: AuditFilters) =>
  trpc.admin.audit.list.infiniteQueryOptions(
    { ...filters, limit: PAGE_SIZE },
    { getNextPageParam: (last) => last.next },
  );

export interface FileFilters {
  search?: string | undefined;
  hashtag?: string | undefined;
  owner_id?: string | undefined;
}

export const filesQuery = (filters: FileFilters) =>
  trpc.admin.files.list.infiniteQueryOptions(
    { ...filters, limit: PAGE_SIZE },
    { getNextPageParam: (last) => last.next },
  );

export const hashtagsQuery = (search?: string) => trpc.admin.hashtags.list.queryOptions({ search, limit: 1000 });

export const overviewQuery = () => trpc.admin.overview.queryOptions(undefined, { refetchInterval: 30_000 });
/** Click statistics of the whole instance (the stats module's own admin procedure). */
export const clicksQuery = () => trpc.stats.overview.queryOptions(undefined, { refetchInterval: 60_000 });

export const jobsQuery = () => trpc.admin.jobs.overview.queryOptions(undefined, { refetchInterval: 10_000 });

export const meQuery = () => trpc.auth.me.queryOptions(undefined, { staleTime: 60_000 });
