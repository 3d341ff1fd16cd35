// Bearer-key authentication and the per-user access check.
import type { RequestHandler } from 'express';
import { UserIdSchema } from '../../shared/protocol.ts';
import { sendError } from '../http/errors.ts';
import type { KeyStore, Principal } from './keys.ts';

declare module 'express-serve-static-core' {
  interface Locals {
    principal?: Principal;
    /** The validated `:user_id` of a workspace route. */
    userId?: string;
  }
}

export function authenticate(keys: KeyStore): RequestHandler {
  return (req, res, next) => {
    const header = req.headers.authorization;
    const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!m) return sendError(res, 'unauthorized', 'missing API key: send Authorization: Bearer <key>');
    const principal = keys.verify(m[1]);
    if (!principal) return sendError(res, 'unauthorized', 'unknown or revoked API key');
    res.locals.principal = principal;
    next();
  };
}

/** `:user_id` must be valid and the key must belong to that user (or be a service key). */
export const requireUserAccess: RequestHandler = (req, res, next) => {
  const raw = req.params.user_id;
  const parsed = UserIdSchema.safeParse(raw);
  if (!parsed.success) return sendError(res, 'bad_request', 'invalid user id');
  const p = res.locals.principal;
  if (!p) return sendError(res, 'unauthorized', 'missing API key');
  if (!p.service && p.userId !== parsed.data) return sendError(res, 'forbidden', "this key may not access another user's workspace");
  res.locals.userId = parsed.data;
  next();
};
