import type { Config } from '../env.js';
import { localStorage } from './local.js';
import type { Storage } from './storage.js';

export type { Storage } from './storage.js';

export function createStorage(config: Config): Storage {
  return localStorage(config.storageDir);
}
