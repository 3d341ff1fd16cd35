// What the authentication middleware (server/auth/middleware.ts) left on a request.
import type { Response } from 'express';
import { HttpError } from './errors.ts';

/** The validated user id of a workspace route (`requireUserAccess` ran before). */
export function userOf(res: Response): string {
  const u = res.locals.userId;
  if (!u) throw new HttpError('unauthorized', 'no user');
  return u;
}
