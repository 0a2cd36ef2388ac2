import type { UploadRow } from '@tagdrop/db';
import { type DataStore, ERRORS, type Locker } from '@tus/utils';
import type { AppDeps } from '../deps.types.js';
import { AppError } from '../errors.js';
import { finishPartialUpload, isFinal, isPartial } from './concat.js';
import { finishPlainUpload } from './finish.js';

/**
 * What follows an upload's last byte: a plain upload becomes its file (returns the file id), a partial one is
 * complete and its final upload may now be assembled (returns null). Safe to run twice, also at once.
 */
export async function finishUpload(deps: AppDeps, row: UploadRow, receivedBytes: number): Promise<string | null> {
  if (isPartial(row)) {
    await finishPartialUpload(deps, row.id);
    return null;
  }
  return row.completed_at ? (row.replaces_file_id ?? row.id) : finishPlainUpload(deps, row, receivedBytes);
}

/**
 * A HEAD of an upload whose bytes are all stored but that was never finished: the server stopped between its
 * last write and what follows it. That work is done now, before the HEAD answers "complete" (a client then stops
 * sending, so nothing else would ever do it). Under the upload's tus lock, so no PATCH writes (or discards a
 * chunk that failed its checksum) meanwhile, and from the row as it is then. Returns whether it finished it.
 */
export async function recoverUpload(deps: AppDeps, store: DataStore, locker: Locker, id: string): Promise<boolean> {
  const whole = async () => {
    const upload = await store.getUpload(id).catch(() => undefined);
    return upload?.size !== undefined && upload.offset === upload.size ? upload.offset : undefined;
  };
  if ((await whole()) === undefined) return false; // the usual case: the upload is on its way
  const lock = locker.newLock(id);
  try {
    await lock.lock(new AbortController().signal, async () => {});
  } catch (err) {
    if (err === ERRORS.ERR_LOCK_TIMEOUT) throw new AppError('service_unavailable', 'The upload is busy; try again.');
    throw err;
  }
  try {
    const row = await deps.db.selectFrom('uploads').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row || row.completed_at || isFinal(row)) return false;
    const received = await whole();
    if (received === undefined) return false;
    await finishUpload(deps, row, received);
    return true;
  } finally {
    await lock.unlock();
  }
}
