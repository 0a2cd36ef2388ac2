import type { FastifyReply } from 'fastify';
import { AppError, toErrorBody } from '../errors.js';
import { userContentCsp } from '../http/security.js';
import { isExpired } from '../modules/files/files.dto.js';
import { exhausted, isExhausted, passwordRequired } from '../modules/files/link-rules.js';
import type { Reached } from './access.js';

/** The sandbox every piece of user content is served under, never framed (policies: http/security.ts). */
export const USER_CONTENT_CSP = userContentCsp();
/**
 * PDFs on /f/{id}/view and /s/{token}/view: still a sandboxed document that loads nothing, but framable by this
 * site's own pages. Chromium's PDF viewer runs in a document sandboxed by this header; it refuses to run in an
 * <iframe sandbox>, so the preview frame carries no sandbox attribute and the header does the sandboxing.
 */
export const PDF_VIEW_CSP = userContentCsp({ framable: true });

const notFound = () => new AppError('not_found', 'No such file.');

export const sendError = (reply: FastifyReply, err: AppError) => {
  const { status, body, headers } = toErrorBody(err);
  return reply.code(status).headers(headers).header('cache-control', 'no-store').send(body);
};

/**
 * 404 for nothing reachable, 410 for an expired file (even before the sweeper runs) or one out of downloads, 401
 * password_required for a locked private link (no bytes); else null.
 */
export function unavailable(reply: FastifyReply, reached: Reached | undefined) {
  if (!reached) return sendError(reply, notFound());
  if (isExpired(reached.file)) return sendError(reply, new AppError('gone', 'This file has expired.'));
  if (!reached.privileged && isExhausted(reached.file)) return sendError(reply, exhausted());
  if (reached.locked) return sendError(reply, passwordRequired());
  return null;
}

/** RFC 9110 §13.1.2: `*`, or any tag of the list equal to ours by weak comparison (W/ ignored). */
export function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
