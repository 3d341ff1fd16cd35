// HTTP routes of one user's workspace, mounted at /users/:user_id/workspace.
//   GET    /files                         listing + feed cursor
//   GET    /files/<path>                  bytes, ETag "sha256:<hex>"
//   PUT    /files/<path>                  raw body; If-Match "<hash>" (replace) or If-None-Match * (create) required
//   DELETE /files/<path>                  If-Match required
//   GET    /changes?since=<cursor>&wait=<s> long poll, wait <= 60
//   GET    /versions/<path>               kept versions of a path, newest first
//   POST   /versions/<path>/restore       JSON {version_id}: puts that version back (source "restore")
import express, { type Request, type Response, type Router } from 'express';
import { pipeline } from 'node:stream/promises';
import { etagOf, isHash, parseEtag } from '../../shared/hash.ts';
import { CONTENT_HASH_HEADER } from '../../shared/protocol.ts';
import { refuseLargeBody } from '../http/body-limit.ts';
import { HttpError } from '../http/errors.ts';
import { workspacePathFromUrl } from '../http/path-param.ts';
import type { FsWorkspaceStore } from './fs-store.ts';

export const MAX_WAIT_SECONDS = 60;

export interface WorkspaceRouteOptions {
  store: FsWorkspaceStore;
  maxFileBytes: number;
  transferRateLimit: express.RequestHandler;
}

function userOf(res: Response): string {
  const u = res.locals.userId;
  if (!u) throw new HttpError('unauthorized', 'no user');
  return u;
}

function preconditions(req: Request): { ifMatch?: string; ifNoneMatch?: boolean } {
  const im = req.headers['if-match'];
  const inm = req.headers['if-none-match'];
  const out: { ifMatch?: string; ifNoneMatch?: boolean } = {};
  if (im !== undefined) {
    const tag = parseEtag(im);
    if (!tag || (tag !== '*' && !isHash(tag))) throw new HttpError('bad_request', 'If-Match must be "sha256:<hex>" or *');
    out.ifMatch = tag;
  }
  if (inm !== undefined) {
    if (inm.trim() !== '*') throw new HttpError('bad_request', 'only If-None-Match: * is supported');
    out.ifNoneMatch = true;
  }
  return out;
}

function expectedHash(req: Request): string | undefined {
  const v = req.headers[CONTENT_HASH_HEADER];
  if (v === undefined) return undefined;
  const s = String(v).trim().toLowerCase();
  const h = s.startsWith('sha256:') ? s : `sha256:${s}`;
  if (!isHash(h)) throw new HttpError('bad_request', 'X-Content-SHA256 must be a sha256 hex digest');
  return h;
}

export function workspaceRoutes(opts: WorkspaceRouteOptions): Router {
  const { store } = opts;
  const r = express.Router({ mergeParams: true });
  // Per route, not router-wide: requests that fall through to plugin routes (sync triggers)
  // must not be charged to the transfer budget.
  const t = opts.transferRateLimit;

  r.get('/files', t, async (_req, res) => {
    res.json(await store.list(userOf(res)));
  });

  r.get('/files/*path', t, async (req, res) => {
    const path = workspacePathFromUrl(req, 'files', false);
    const { entry, stream } = await store.read(userOf(res), path);
    res.setHeader('ETag', etagOf(entry.hash));
    res.setHeader('Content-Length', String(entry.size));
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Last-Modified', new Date(entry.modified).toUTCString());
    res.setHeader('Cache-Control', 'no-store');
    await pipeline(stream, res).catch(() => stream.destroy());
  });

  r.put('/files/*path', t, async (req, res) => {
    const path = workspacePathFromUrl(req, 'files', true);
    const pre = preconditions(req);
    if (pre.ifMatch === undefined && !pre.ifNoneMatch) {
      throw new HttpError('precondition_required', 'send If-Match: "<hash>" to replace or If-None-Match: * to create');
    }
    const expected = expectedHash(req);
    const len = req.headers['content-length'];
    if (len !== undefined && Number(len) > opts.maxFileBytes) {
      throw new HttpError('too_large', `file is larger than ${opts.maxFileBytes} bytes`);
    }
    const result = await store.write(userOf(res), path, req, { ...pre, expectedHash: expected, source: 'client' });
    res.setHeader('ETag', etagOf(result.hash));
    res.status(200).json(result);
  });

  r.delete('/files/*path', t, async (req, res) => {
    const path = workspacePathFromUrl(req, 'files', false);
    const pre = preconditions(req);
    if (pre.ifMatch === undefined) throw new HttpError('precondition_required', 'send If-Match: "<hash>" of the file you mean to delete');
    await store.remove(userOf(res), path, { ifMatch: pre.ifMatch, source: 'client' });
    res.status(204).end();
  });

  r.get('/changes', t, async (req, res) => {
    const waitRaw = req.query.wait;
    let wait = 0;
    if (waitRaw !== undefined) {
      wait = Number(waitRaw);
      if (typeof waitRaw !== 'string' || !Number.isFinite(wait) || wait < 0) throw new HttpError('bad_request', 'wait must be seconds >= 0');
      wait = Math.min(wait, MAX_WAIT_SECONDS);
    }
    const ac = new AbortController();
    res.on('close', () => ac.abort());
    const out = await store.changes(userOf(res), req.query.since, wait * 1000, ac.signal);
    if (!res.writableEnded && !res.destroyed) res.json(out);
  });

  r.get('/versions/*path', t, async (req, res) => {
    const path = workspacePathFromUrl(req, 'versions', false);
    const versions = await store.versions(userOf(res), path);
    res.json({ path, versions: versions.map(({ path: _p, ...v }) => v) });
  });

  r.post('/versions/*path', t, refuseLargeBody(16 * 1024), express.json({ limit: '16kb' }), async (req, res) => {
    const path = workspacePathFromUrl(req, 'versions', true, 'restore');
    const id = (req.body as { version_id?: unknown } | undefined)?.version_id;
    if (typeof id !== 'string' || id === '') throw new HttpError('bad_request', 'body must be JSON {"version_id": "<id>"}');
    const result = await store.restore(userOf(res), path, id);
    res.setHeader('ETag', etagOf(result.hash));
    res.json(result);
  });

  return r;
}
