import type { FastifyRequest } from 'fastify';
import type { AppDeps } from '../deps.types.js';
import { AppError } from '../errors.js';
import { type AuthUser, authenticate } from '../modules/auth/auth.service.js';

/** The Bearer token of a request, if any. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new AppError('invalid_token', 'Use "Authorization: Bearer <access token>".');
  return match[1];
}

/** The caller, or null when no token was sent; a bad token throws invalid_token. */
export async function optionalUser(deps: AppDeps, request: FastifyRequest): Promise<AuthUser | null> {
  const token = bearerToken(request);
  return token ? authenticate(deps, token) : null;
}

export async function requireUser(deps: AppDeps, request: FastifyRequest): Promise<AuthUser> {
  const user = await optionalUser(deps, request);
  if (!user) {
    throw new AppError('unauthorized', 'Log in first: send "Authorization: Bearer <access token>".');
  }
  return user;
}

export const requestMeta = (request: FastifyRequest) => ({
  ip: request.ip,
  userAgent: request.headers['user-agent'],
});
