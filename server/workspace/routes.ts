// HTTP routes of one user's workspace, mounted at /users/:user_id/workspace.
//   GET    /files                         listing + feed cursor; If-None-Match "<cursor>" -> 304 when unchanged
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
import { parseCursor } from './cursor.ts';
import { VerifyScheduler } from './verify-walk.ts';

export const MAX_WAIT_SECONDS = 60;

export interface WorkspaceRouteOptions {
  store: FsWorkspaceStore;
  maxFileBytes: number;
  transferRateLimit: express.RequestHandler;
  /** Least time between two walks of one user's workspace after 304 answers (default 5 s). */
  verifyIntervalMs?: number;
}

/**
 * The cursor a conditional listing names: If-None-Match "<epoch>:<seq>" (one entity tag; a weak
 * W/ prefix is accepted). Anything else (*, a list, a malformed tag) gets the full listing.
 */
export function listingTag(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^\s*(?:W\/)?"([^"]*)"\s*$/.exec(header);
  return m && parseCursor(m[1]) ? m[1] : undefined;
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

  const verifier = new VerifyScheduler(
    (u) => store.verify(u),
    (u) => store.lastWalkAt(u),
    store.opts.log,
    opts.verifyIntervalMs ?? 5_000,
  );

  r.get('/files', t, async (req, res) => {
    const user = userOf(res);
    // The listing's cursor is its validator. 304 only when the feed holds nothing after it and
    // this instance has walked the workspace (fs-store.ts `unchangedSince`); the walk started
    // here then looks for changes behind the hub's back and announces them after that cursor,
    // where the client's change feed (which resumes from it) picks them up.
    const tag = listingTag(req.headers['if-none-match']);
    if (tag !== undefined && (await store.unchangedSince(user, tag))) {
      res.setHeader('ETag', `"${tag}"`);
      res.setHeader('Cache-Control', 'no-store');
      res.status(304).end();
      verifier.request(user);
      return;
    }
    const out = await store.list(user);
    res.setHeader('ETag', `"${out.cursor}"`);
    res.setHeader('Cache-Control', 'no-store');
    // Not res.json: Express would itself answer 304 when If-None-Match equals the ETag just set,
    // even for a listing that was walked because this instance had not verified it yet.
    res.status(200).type('application/json').end(JSON.stringify(out));
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
