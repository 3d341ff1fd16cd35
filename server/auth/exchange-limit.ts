// The sign-in budget: POST /auth/exchange per client address (nobody is authenticated yet), so a
// guesser cannot turn the hub into a token oracle for Open WebUI or fill the keys file.
// The address is the socket's (the hub sets no `trust proxy`): behind a reverse proxy every
// client shares the proxy's budget, which errs on the safe side.
import type { RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { sendError } from '../http/errors.ts';

export function exchangeRateLimiter(perMinute: number, onReject?: () => void): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: 'exchange',
    keyGenerator: (req) => `ip:${ipKeyGenerator(req.socket.remoteAddress ?? 'unknown')}`,
    validate: false,
    handler: (_req, res) => {
      onReject?.();
      sendError(res, 'rate_limited', `too many sign-in attempts from this address; retry after ${String(res.getHeader('Retry-After') ?? 'a while')} s`);
    },
  });
}
