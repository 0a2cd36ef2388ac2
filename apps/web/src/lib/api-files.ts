/**
 * The one place that knows whether the server's router already has the files procedures.
 *
 * The SPA is written against the files contract (packages/contracts/src/schemas/files.ts). While the server's
 * `AppRouter` lacks `files`, `public` or `hashtags`, this module adds those procedures to the router *type* from the
 * contract schemas, so the pages typecheck. Once the server has them, the real router type is used as is (the
 * conditional below picks it), and the shim can be deleted.
 */

import type { FileDto, HashtagDto, ListFilesInput, UpdateFileInput } from '@tagdrop/contracts';
import type { AppRouter as ServerRouter } from '@tagdrop/contracts/client';
import type { TRPCBuiltRouter, TRPCMutationProcedure, TRPCQueryProcedure } from '@trpc/server';

type Q<I, O> = TRPCQueryProcedure<{ input: I; output: O; meta: unknown }>;
type M<I, O> = TRPCMutationProcedure<{ input: I; output: O; meta: unknown }>;

type ListInput = Partial<ListFilesInput> | undefined;
type FileList = { results: FileDto[]; next: string | null };
type Id = { id: string };

/** The files, public and hashtags procedures as the contract describes them. */
type ContractRecord = {
  files: {
    list: Q<ListInput, FileList>;
    get: Q<Id, FileDto>;
    update: M<Id & UpdateFileInput, FileDto>;
    delete: M<Id, unknown>;
    rotateLink: M<Id, FileDto>;
  };
  public: {
    list: Q<ListInput, FileList>;
    get: Q<Id, FileDto>;
    byToken: Q<{ token: string }, FileDto>;
  };
  hashtags: {
    list: Q<void, { results: HashtagDto[] }>;
  };
};

type ServerRecord = ServerRouter['_def']['record'];
type HasFiles = ServerRecord extends { files: unknown; public: unknown; hashtags: unknown } ? true : false;

/** The router type the SPA talks to. */
export type AppRouter = HasFiles extends true
  ? ServerRouter
  : TRPCBuiltRouter<ServerRouter['_def']['_config']['$types'], ServerRecord & ContractRecord>;

/** True when the shim above is still in use (handy to spot in a type hover). */
export type FilesShimActive = HasFiles extends true ? false : true;
