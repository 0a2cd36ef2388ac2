import type { FileRow } from '@tagdrop/db';
import type { AppDeps } from '../../deps.types.js';
import type { AuthUser } from '../auth/auth.service.js';

/** What the files services need from the app's dependencies. */
export type FilesDeps = Pick<AppDeps, 'db' | 'config' | 'storage' | 'stats' | 'log' | 'keys'>;
/** A file row with its hashtag names. */
export type FileWithTags = FileRow & { hashtags: string[] };

export type Scope = { kind: 'own'; user: AuthUser } | { kind: 'public' } | { kind: 'all' };
