/** Query options shared by a route's loader and its component (convention 9). */
import { trpc } from './trpc';

const PAGE = 20;
const next = (last: { next: string | null }) => last.next ?? undefined;

export const publicFilesQuery = (filter: { search?: string; hashtag?: string }) =>
  trpc.public.list.infiniteQueryOptions({ ...filter, limit: PAGE }, { getNextPageParam: next });

export const myFilesQuery = (filter: { search?: string; hashtag?: string }) =>
  trpc.files.list.infiniteQueryOptions({ ...filter, limit: PAGE }, { getNextPageParam: next });
