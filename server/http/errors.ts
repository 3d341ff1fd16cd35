// Errors on the wire: `{error, message}` with the status of shared/protocol.ts ERROR_STATUS.
// Stack traces and internal messages never leave the hub.
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { ERROR_STATUS, type ErrorCode } from '../../shared/protocol.ts';
import { StoreError } from '../store-error.ts';
import type { Logger } from '../log.ts';

export class HttpError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function sendError(res: Response, code: ErrorCode, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.status(ERROR_STATUS[code]).json({ error: code, message });
}

export const notFoundHandler: RequestHandler = (req, res) => {
  sendError(res, 'not_found', `no route for ${req.method} ${req.path}`);
};

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    // The client went away (killed mid-upload, closed a long poll): nothing to answer.
    if (req.socket?.destroyed) {
      log.debug({ method: req.method, path: req.path }, 'client went away');
      if (!res.headersSent) res.destroy();
      return;
    }
    // An error answered before the upload was read: close rather than read the rest of it.
    if (!req.complete && !res.headersSent) res.setHeader('Connection', 'close');
    if (err instanceof HttpError || err instanceof StoreError) {
      sendError(res, err.code, err.message);
      return;
    }
    // body-parser errors carry a status and a type; only their kind is reported.
    const e = err as { status?: number; type?: string };
    if (e?.type === 'entity.parse.failed') return sendError(res, 'bad_request', 'malformed JSON body');
    if (e?.type === 'entity.too.large') return sendError(res, 'too_large', 'request body too large');
    if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
      return sendError(res, e.status === 404 ? 'not_found' : 'bad_request', 'bad request');
    }
    log.error({ err, method: req.method, path: req.path }, 'request failed');
    sendError(res, 'internal', 'internal error');
  };
}
