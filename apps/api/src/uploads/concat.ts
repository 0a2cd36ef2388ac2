import { randomUUID } from 'node:crypto';
import { Readable, pipeline as streamPipeline } from 'node:stream';
import type { UploadRow } from '@tagdrop/db';
import { sql } from 'kysely';
import type { AppDeps } from '../deps.types.js';
import { AppError } from '../errors.js';
import type { AuthUser } from '../modules/auth/auth.service.js';
import { commitContentIn } from '../modules/files/files.upload.js';
import { Inspector } from '../modules/files/inspect.js';
import { UPLOAD_RESERVATION_MS } from '../modules/files/quota.js';
import type { Storage } from '../storage/index.js';
import { parseFileMetaLenient, prepareUploadMeta } from './finish.js';

/**
 * tus concatenation and concatenation-unfinished. A partial upload (`Upload-Concat: partial`) is a plain tus
 * upload whose row says so; it counts against the quota and never becomes a file. A final upload
 * (`Upload-Concat: final;<url> <url>…`) claims its partials (each at most once) and has no bytes of its own:
 * once every partial is complete (at creation, or later when the last one finishes) the partials are read
 * through the Storage interface, in order, into the final upload's key while hashed and sniffed, and the
 * result becomes the file (size the sum, sha256 of the whole). The partials' bytes then go; their rows stay
 * (consumed, for a client retrying) and go with the final upload's row, however it goes (uploads.final_id cascades).
 */

const UPLOAD_PATH = /^\/uploads\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/?$/i;

export const isFinal = (row: Pick<UploadRow, 'concat'>) => Boolean(row.concat?.startsWith('final;'));
export const isPartial = (row: Pick<UploadRow, 'concat'>) => row.concat === 'partial';

const invalidConcat = (message: string) =>
  new AppError('invalid_concat', message, { fields: { 'upload-concat': [message] } });

/** `partial`, or the ids of the partial uploads named by `final;<url> <url>…` (absolute or relative URLs). */
export function parseConcat(value: string, base: string): { kind: 'partial' } | { kind: 'final'; ids: string[] } {
  const trimmed = value.trim();
  if (trimmed === 'partial') return { kind: 'partial' };
  if (!trimmed.startsWith('final;')) throw invalidConcat('Upload-Concat must be "partial" or "final;<url> <url>…".');
  const urls = trimmed.slice('final;'.length).split(' ').filter(Boolean);
  if (urls.length === 0) throw invalidConcat('A final upload names at least one partial upload.');
  const ids = urls.map((url) => {
    let pathname: string;
    try {
      pathname = new URL(url, base).pathname;
    } catch {
      throw invalidConcat(`Not an upload URL: ${url.slice(0, 200)}`);
    }
    const id = UPLOAD_PATH.exec(pathname)?.[1];
    if (!id) throw invalidConcat(`Not an upload URL: ${url.slice(0, 200)}`);
    return id.toLowerCase();
  });
  if (new Set(ids).size !== ids.length) throw invalidConcat('A partial upload can appear only once.');
  return { kind: 'final', ids };
}

/**
 * Creates a final upload from partial uploads of the caller's (each unused, unexpired, of a known length)
 * and assembles it at once when they are all complete. Returns its id, when it expires and, when assembled, the
 * file id. The same creation again (the same partials in the same order: a client retrying a POST whose answer
 * it never got, or one that failed half-way through the assembly) is answered with that same final upload.
 */
export async function createFinalUpload(
  deps: AppDeps,
  user: AuthUser,
  args: { header: string; ids: string[]; metadata: Record<string, string | null> },
): Promise<{ id: string; fileId: string | null; expiresAt: Date }> {
  const { metadata, replaces } = await prepareUploadMeta(deps, user, args.metadata);
  const id = randomUUID();
  let expiresAt = new Date(Date.now() + UPLOAD_RESERVATION_MS);
  try {
    await deps.db.transaction().execute(async (trx) => {
      const claimed = await trx
        .updateTable('uploads')
        .set({ final_id: id })
        .where('id', 'in', args.ids)
        .where('owner_id', '=', user.id)
        .where('concat', '=', 'partial')
        .where('final_id', 'is', null)
        .where('expires_at', '>', sql<Date>`now()`)
        .returning(['id', 'size', 'expires_at'])
        .execute();
      // Unknown, someone else's, a final upload, expired or already used: the same answer for each.
      if (claimed.length !== args.ids.length) {
        throw invalidConcat('Upload-Concat must name partial uploads of yours that no other final upload uses.');
      }
      if (claimed.some((c) => c.size === null)) {
        throw invalidConcat('Declare the length of every partial upload before concatenating it.');
      }
      const size = claimed.reduce((sum, c) => sum + Number(c.size), 0);
      if (size > deps.config.MAX_UPLOAD_BYTES) {
        throw new AppError('payload_too_large', `Files are limited to ${deps.config.MAX_UPLOAD_BYTES} bytes.`);
      }
      // It cannot outlive its partials: when the first of them expires, so does the final upload.
      for (const c of claimed) if (c.expires_at < expiresAt) expiresAt = c.expires_at;
      await trx
        .insertInto('uploads')
        .values({
          id,
          owner_id: user.id,
          replaces_file_id: replaces,
          size,
          metadata: JSON.stringify(metadata),
          expires_at: expiresAt,
          concat: args.header.trim(),
          parts: JSON.stringify(args.ids),
        })
        .execute();
    });
  } catch (err) {
    const same =
      err instanceof AppError && err.code === 'invalid_concat' && (await sameFinalUpload(deps, user, args.ids));
    if (!same) throw err;
    return { id: same.id, fileId: await assembleFinalUpload(deps, same.id), expiresAt: same.expires_at };
  }
  return { id, fileId: await assembleFinalUpload(deps, id), expiresAt };
}

/** The caller's final upload made of exactly these partial uploads, in this order. */
function sameFinalUpload(deps: AppDeps, user: AuthUser, ids: string[]) {
  return deps.db
    .selectFrom('uploads')
    .select(['id', 'expires_at'])
    .where('owner_id', '=', user.id)
    .where('concat', 'like', 'final;%')
    .where(sql<boolean>`parts = ${JSON.stringify(ids)}::jsonb`)
    .executeTakeFirst();
}

/** The partial uploads' bytes, one after the other. */
function concatenated(storage: Storage, ids: string[]): Readable {
  return Readable.from(
    (async function* () {
      for (const id of ids) {
        for await (const chunk of await storage.read(id)) yield chunk as Buffer;
      }
    })(),
  );
}

/**
 * Assembles a final upload if every one of its partials is complete (idempotent; one assembly at a time per
 * final upload, across processes: a transaction-scoped advisory lock). Returns the file id once assembled,
 * null while partials are missing. The file's rows are written in the lock's own transaction: an assembly needs
 * one database connection, never a second one while it holds the first (with the pool busy, that waited for a
 * connection nobody would free).
 */
export async function assembleFinalUpload(deps: AppDeps, finalId: string): Promise<string | null> {
  const outcome = await deps.db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext(${`concat:${finalId}`}))`.execute(trx);
    const final = await trx.selectFrom('uploads').selectAll().where('id', '=', finalId).executeTakeFirst();
    if (!final?.parts) return null;
    if (final.completed_at) return final.replaces_file_id ?? final.id;
    const ids = final.parts;
    const parts = await trx
      .selectFrom('uploads')
      .select(['id', 'completed_at'])
      .where('id', 'in', ids)
      .where('final_id', '=', finalId)
      .execute();
    if (parts.length !== ids.length || parts.some((p) => !p.completed_at)) return null;

    await deps.storage.delete(finalId); // whatever an interrupted attempt left
    const inspector = new Inspector();
    await deps.storage.put(
      finalId,
      streamPipeline(concatenated(deps.storage, ids), inspector, () => {}),
    );
    const inspected = await inspector.result();
    if (inspected.size !== Number(final.size)) {
      await deps.storage.delete(finalId);
      throw new Error(`final upload ${finalId}: ${inspected.size} bytes assembled, ${final.size} expected`);
    }
    const committed = await commitContentIn(deps, trx, {
      key: finalId,
      ownerId: final.owner_id,
      newId: finalId,
      replaces: final.replaces_file_id,
      meta: parseFileMetaLenient(final.metadata),
      inspected,
      consumedUploads: ids,
    });
    return { committed, ids };
  });
  if (outcome === null || typeof outcome === 'string') return outcome;
  await outcome.committed.afterCommit();
  // The partials' own bytes: the file holds them now (a crash before this leaves them to the sweeper, with
  // their rows).
  await Promise.all(outcome.ids.map((id) => deps.storage.delete(id)));
  return outcome.committed.fileId;
}

/** A partial upload received its last byte: it is complete, and its final upload may now be whole. */
export async function finishPartialUpload(deps: AppDeps, id: string): Promise<void> {
  await deps.storage.takeUploadDigest(id); // never needed: the final upload is hashed as a whole
  const row = await deps.db
    .updateTable('uploads')
    .set({ completed_at: new Date() })
    .where('id', '=', id)
    .returning('final_id')
    .executeTakeFirst();
  if (row?.final_id) await assembleFinalUpload(deps, row.final_id);
}

/** Headers of a HEAD on a final upload (assembling it first if it is whole but not yet assembled). */
export async function finalUploadHeaders(deps: AppDeps, row: UploadRow): Promise<Record<string, string>> {
  let current = row;
  if (!current.completed_at && (await assembleFinalUpload(deps, row.id))) {
    current = (await deps.db.selectFrom('uploads').selectAll().where('id', '=', row.id).executeTakeFirst()) ?? row;
  }
  const headers: Record<string, string> = {
    'cache-control': 'no-store',
    'upload-concat': current.concat ?? '',
    'upload-length': String(current.size),
  };
  if (current.completed_at) {
    headers['upload-offset'] = String(current.size);
  } else {
    headers['upload-expires'] = current.expires_at.toUTCString();
  }
  return headers;
}

/**
 * Terminates an unfinished final upload: its partials are free to be used again. (A final upload's row that goes
 * any other way takes its partials with it: uploads.final_id cascades. This is the one path that keeps them, as
 * the client asked: they are unclaimed first, under the final upload's row lock, so an assembly finishing at the
 * same moment either completes first, and the termination is a no-op, or finds the final upload gone.)
 */
export async function terminateFinalUpload(deps: AppDeps, id: string): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    const unfinished = await trx
      .selectFrom('uploads')
      .select('id')
      .where('id', '=', id)
      .where('completed_at', 'is', null)
      .forUpdate()
      .executeTakeFirst();
    if (!unfinished) return;
    await trx.updateTable('uploads').set({ final_id: null }).where('final_id', '=', id).execute();
    await trx.deleteFrom('uploads').where('id', '=', id).execute();
  });
}

/**
 * Drops the row of an upload being terminated (its bytes follow). A partial upload that an unfinished final
 * upload claims stays (409): that final upload would never complete; terminating the final upload frees it. One
 * statement, so a final upload claiming it at the same moment either finds it gone or keeps it.
 */
export async function dropUploadRow(deps: AppDeps, id: string): Promise<void> {
  const dropped = await deps.db
    .deleteFrom('uploads')
    .where('id', '=', id)
    .where('final_id', 'is', null)
    .executeTakeFirst();
  if (Number(dropped.numDeletedRows) > 0) return;
  if (await deps.db.selectFrom('uploads').select('id').where('id', '=', id).executeTakeFirst()) {
    throw new AppError('conflict', 'A final upload is made of this partial upload: terminate the final upload first.');
  }
}

/**
 * A partial upload whose bytes are now a file's (its final upload completed): complete to HEAD, so that a client
 * retrying the whole upload goes on to the same final upload instead of sending the part again; a PATCH is a
 * conflict; a DELETE drops the row (the bytes are the file's).
 */
export async function answerConsumedPartial(
  deps: AppDeps,
  method: string,
  row: UploadRow,
): Promise<{ status: number; headers: Record<string, string> } | AppError> {
  const size = String(row.size);
  if (method === 'HEAD') {
    return {
      status: 200,
      headers: {
        'cache-control': 'no-store',
        'upload-offset': size,
        'upload-length': size,
        'upload-concat': 'partial',
      },
    };
  }
  if (method === 'DELETE') {
    await deps.db.deleteFrom('uploads').where('id', '=', row.id).execute();
    return { status: 204, headers: {} };
  }
  return new AppError('conflict', 'This partial upload is complete and part of a file.', {
    headers: { 'upload-offset': size },
  });
}
