// Refuses a JSON body whose declared Content-Length is over the limit BEFORE the body is read.
// body-parser alone answers 413 only after reading off (and discarding) the whole body, so a
// 1 GB Content-Length would tie the connection up until it all arrived. The error handler
// answers with `Connection: close`, so the unread body is never consumed.
import type { RequestHandler } from 'express';
import { HttpError } from './errors.ts';

export function refuseLargeBody(limitBytes: number): RequestHandler {
  return (req, _res, next) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limitBytes) {
      next(new HttpError('too_large', `request body over ${limitBytes} bytes`));
      return;
    }
    next();
  };
}
