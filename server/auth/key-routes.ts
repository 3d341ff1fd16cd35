// Keys over HTTP: sign in with Open WebUI (POST /auth/exchange, no hub key needed), the caller's
// devices (/me/keys) and a service key's provisioning of any user (/users/{id}/keys).
// Responses never carry a key's hash; only a freshly made key is ever shown, once.
import express, { type RequestHandler, type Response, type Router } from 'express';
import { z } from 'zod';
import { UserIdSchema } from '../../shared/protocol.ts';
import { sendError } from '../http/errors.ts';
import type { Logger } from '../log.ts';
import type { KeyStore } from './keys.ts';
import { hubUserFor, IdentityError, whoIs } from './openwebui-identity.ts';

export interface ExchangeConfig {
  /** The Open WebUI the hub trusts to say who a token belongs to; unset: no sign-in with Open WebUI. */
  url: string | undefined;
  /** RALPH_OPENWEBUI_USER_MAP: hub id -> Open WebUI id or email. */
  userMap: Record<string, string>;
}

// Printable, one line: it is shown in device lists and written to the keys file.
const DeviceSchema = z
  .string()
  .trim()
  .min(1, 'device must not be empty')
  .max(100, 'device: at most 100 characters')
  .refine((s) => !/\p{Cc}/u.test(s), 'device must not contain control characters');
const ExchangeBodySchema = z.object({ openwebui_token: z.string().min(1).max(8192), device: DeviceSchema });
const NewKeyBodySchema = z.object({ device: DeviceSchema });
const KEY_ID = /^[0-9a-f]{16}$/;

function badBody(res: Response, err: z.ZodError): void {
  sendError(res, 'bad_request', err.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
}

/** `POST /auth/exchange`: an Open WebUI token in, a new hub key for its owner out. */
export function exchangeRoute(keys: KeyStore, cfg: ExchangeConfig, limiter: RequestHandler, log: Logger): Router {
  const router = express.Router();
  router.post('/auth/exchange', limiter, express.json({ limit: '16kb' }), async (req, res) => {
    const body = ExchangeBodySchema.safeParse(req.body);
    if (!body.success) return badBody(res, body.error);
    if (!cfg.url) return sendError(res, 'not_found', 'sign-in with Open WebUI is not set up on this hub (RALPH_OPENWEBUI_URL is not set); ask for a hub key');
    let who;
    try {
      who = await whoIs(cfg.url, body.data.openwebui_token);
    } catch (e) {
      if (!(e instanceof IdentityError)) throw e;
      (res.locals.log ?? log).info({ reason: e.kind }, 'open webui sign-in refused');
      return sendError(res, e.kind === 'refused' ? 'unauthorized' : 'openwebui_error', e.message);
    }
    if (who.role === 'pending') return sendError(res, 'forbidden', 'this Open WebUI account is not approved yet');
    const userId = hubUserFor(who, cfg.userMap);
    if (!userId || !UserIdSchema.safeParse(userId).success) {
      return sendError(res, 'forbidden', 'this Open WebUI account has no workspace on this hub (see RALPH_OPENWEBUI_USER_MAP)');
    }
    const { key, record } = await keys.create({ userId, label: body.data.device });
    (res.locals.log ?? log).info({ user: userId, keyId: record.id, device: record.label }, 'key issued by open webui sign-in');
    res.status(201).json({ key, user_id: userId, key_id: record.id });
  });
  return router;
}

/** Device lists and revocation; mounted after authentication. */
export function keyRoutes(keys: KeyStore, log: Logger): Router {
  const router = express.Router();
  const principal = (res: Response) => res.locals.principal!;

  router.get('/me/keys', (_req, res) => {
    const p = principal(res);
    if (p.service || !p.userId) return sendError(res, 'forbidden', 'a service key has no devices; use /users/{id}/keys');
    res.json({ keys: keys.listForUser(p.userId).map((k) => ({ ...k, current: k.id === p.keyId })) });
  });

  router.delete('/me/keys/:key_id', async (req, res) => {
    const p = principal(res);
    if (p.service || !p.userId) return sendError(res, 'forbidden', 'a service key has no devices; use /users/{id}/keys');
    const id = String(req.params.key_id);
    // Someone else's key answers like an unknown one: ids are not for probing.
    if (!KEY_ID.test(id) || !(await keys.revokeForUser(id, p.userId))) return sendError(res, 'not_found', 'no such key among yours');
    (res.locals.log ?? log).info({ user: p.userId, keyId: id }, 'key revoked by its user');
    res.status(204).end();
  });

  const serviceOnly: RequestHandler = (req, res, next) => {
    if (!principal(res).service) return sendError(res, 'forbidden', 'only a service key may manage the keys of a user');
    const uid = UserIdSchema.safeParse(req.params.user_id);
    if (!uid.success) return sendError(res, 'bad_request', 'invalid user id');
    res.locals.userId = uid.data;
    next();
  };

  router.get('/users/:user_id/keys', serviceOnly, (_req, res) => {
    res.json({ keys: keys.listForUser(res.locals.userId!) });
  });

  router.post('/users/:user_id/keys', serviceOnly, express.json({ limit: '16kb' }), async (req, res) => {
    const body = NewKeyBodySchema.safeParse(req.body ?? {});
    if (!body.success) return badBody(res, body.error);
    const userId = res.locals.userId!;
    const { key, record } = await keys.create({ userId, label: body.data.device });
    (res.locals.log ?? log).info({ user: userId, keyId: record.id, by: principal(res).keyId }, 'key issued by service key');
    res.status(201).json({ key, user_id: userId, key_id: record.id });
  });

  router.delete('/users/:user_id/keys/:key_id', serviceOnly, async (req, res) => {
    const id = String(req.params.key_id);
    if (!KEY_ID.test(id) || !(await keys.revokeForUser(id, res.locals.userId!))) return sendError(res, 'not_found', 'no such key for this user');
    (res.locals.log ?? log).info({ user: res.locals.userId, keyId: id, by: principal(res).keyId }, 'key revoked by service key');
    res.status(204).end();
  });
  return router;
}
