import type { Role } from '@tagdrop/contracts';
import { queryOptions } from '@tanstack/react-query';
import { trpc, trpcClient } from './trpc';

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

/**
 * Whether this session may do admin work (ADMIN_REQUIRE_PASSKEY refuses code sessions with passkey_required): the
 * cheapest admin call, one user, asked once per session (a new login clears the cache).
 */
export const adminGateQuery = () =>
  queryOptions({
    queryKey: ['admin-gate'],
    queryFn: async () => {
      await trpcClient.admin.users.list.query({ limit: 1 });
      return true;
    },
    staleTime: Number.POSITIVE_INFINITY,
  });

export const overviewQuery = () => trpc.admin.overview.queryOptions(undefined, { refetchInterval: 30_000 });
/** Click statistics of the whole instance (the stats module's own admin procedure). */
export const clicksQuery = () => trpc.stats.overview.queryOptions(undefined, { refetchInterval: 60_000 });

export const jobsQuery = () => trpc.admin.jobs.overview.queryOptions(undefined, { refetchInterval: 10_000 });

export const meQuery = () => trpc.auth.me.queryOptions(undefined, { staleTime: 60_000 });
