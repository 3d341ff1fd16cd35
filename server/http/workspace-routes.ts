// HTTP routes of one user's workspace, mounted at /users/:user_id/workspace.
//   GET    /files                         listing + feed cursor; If-None-Match "<cursor>" -> 304 when unchanged
//   GET    /files/<path>                  bytes, ETag "sha256:<hex>"
//   PUT    /files/<path>                  raw body; If-Match "<hash>" (replace) or If-None-Match * (create) required
//   DELETE /files/<path>                  If-Match required
//   GET    /changes?since=<cursor>&wait=<s>[&origin=<o,!o>] long poll, wait <= 60; only the origins asked for
//   GET    /versions/<path>               kept versions of a path, newest first
//   GET    /versions/<path>?version_id=<id> the bytes of one kept version
//   GET    /deleted                       paths with kept versions the workspace no longer holds
//   POST   /versions/<path>/restore       JSON {version_id}: puts that version back (source "restore")
import express, { type Request, type RequestHandler, type Router } from 'express';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { etagOf, isHash, parseEtag } from '../../shared/hash.ts';
import { CONTENT_HASH_HEADER } from '../../shared/protocol.ts';
import { parseCursor } from '../coordination/cursor.ts';
import type { FsWorkspaceStore } from '../workspace/fs-store.ts';
import type { VerifyScheduler } from '../workspace/verify-walk.ts';
import { refuseLargeBody } from './body-limit.ts';
import { HttpError } from './errors.ts';
import { userOf } from './locals.ts';
import { originFilter, originOf } from './origin.ts';
import { workspacePathFromUrl } from './path-param.ts';

export const MAX_WAIT_SECONDS = 60;

export interface WorkspaceRouteOptions {
  store: FsWorkspaceStore;
  maxFileBytes: number;
  transferRateLimit: express.RequestHandler;
  /**
   * Runs the walks a 304 asks for (verify-walk.ts). Not owned by the routes: whoever made it
   * stops it (server/main.ts, or server/app.ts for an app built without one).
   */
  verifier: VerifyScheduler;
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
  const r = express.Router({ mergeParams: true });
  // Per route, not router-wide: requests that fall through to plugin routes (sync triggers)
  // must not be charged to the transfer budget.
  const t = opts.transferRateLimit;
  r.get('/files', t, listFiles(opts));
  r.get('/files/*path', t, getFile(opts));
  r.put('/files/*path', t, putFile(opts));
  r.delete('/files/*path', t, deleteFile(opts));
  r.get('/changes', t, changes(opts));
  r.get('/versions/*path', t, listVersions(opts));
  r.get('/deleted', t, listDeleted(opts));
  r.post('/versions/*path', t, refuseLargeBody(16 * 1024), express.json({ limit: '16kb' }), restoreVersion(opts));
  return r;
}

/** GET /files: the listing, or 304 when the client's cursor is still this hub's listing. */
function listFiles({ store, verifier }: WorkspaceRouteOptions): RequestHandler {
  return async (req, res) => {
    const user = userOf(res);
    // The listing's cursor is its validator. 304 only when the feed holds nothing after it and
    // this instance has walked the workspace (workspace/listing.ts `unchangedSince`); the walk
    // started here then looks for changes behind the hub's back and announces them after that
    // cursor, where the client's change feed (which resumes from it) picks them up.
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
  };
}

function getFile({ store }: WorkspaceRouteOptions): RequestHandler {
  return async (req, res) => {
    const path = workspacePathFromUrl(req, 'files', false);
    const { entry, stream } = await store.read(userOf(res), path);
    res.setHeader('ETag', etagOf(entry.hash));
    res.setHeader('Content-Length', String(entry.size));
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Last-Modified', new Date(entry.modified).toUTCString());
    res.setHeader('Cache-Control', 'no-store');
    await pipeline(stream, res).catch(() => stream.destroy());
  };
}

function putFile({ store, maxFileBytes }: WorkspaceRouteOptions): RequestHandler {
  return async (req, res) => {
    const path = workspacePathFromUrl(req, 'files', true);
    const pre = preconditions(req);
    if (pre.ifMatch === undefined && !pre.ifNoneMatch) {
      throw new HttpError('precondition_required', 'send If-Match: "<hash>" to replace or If-None-Match: * to create');
    }
    const expected = expectedHash(req);
    const len = req.headers['content-length'];
    if (len !== undefined && Number(len) > maxFileBytes) {
      throw new HttpError('too_large', `file is larger than ${maxFileBytes} bytes`);
    }
    const result = await store.write(userOf(res), path, req, { ...pre, expectedHash: expected, source: 'client', origin: originOf(req, res) });
    res.setHeader('ETag', etagOf(result.hash));
    res.status(200).json(result);
  };
}

function deleteFile({ store }: WorkspaceRouteOptions): RequestHandler {
  return async (req, res) => {
    const path = workspacePathFromUrl(req, 'files', false);
    const pre = preconditions(req);
    if (pre.ifMatch === undefined) throw new HttpError('precondition_required', 'send If-Match: "<hash>" of the file you mean to delete');
    await store.remove(userOf(res), path, { ifMatch: pre.ifMatch, source: 'client', origin: originOf(req, res) });
    res.status(204).end();
  };
}

/** GET /changes: the long poll of the change feed. */
function changes({ store }: WorkspaceRouteOptions): RequestHandler {
  return async (req, res) => {
    const waitRaw = req.query.wait;
    let wait = 0;
    if (waitRaw !== undefined) {
      wait = Number(waitRaw);
      if (typeof waitRaw !== 'string' || !Number.isFinite(wait) || wait < 0) throw new HttpError('bad_request', 'wait must be seconds >= 0');
      wait = Math.min(wait, MAX_WAIT_SECONDS);
    }
    const filter = originFilter(req.query.origin);
    const ac = new AbortController();
    res.on('close', () => ac.abort());
    const out = await store.changes(userOf(res), req.query.since, wait * 1000, ac.signal, filter);
    if (!res.writableEnded && !res.destroyed) res.json(out);
  };
}

function listVersions(opts: WorkspaceRouteOptions): RequestHandler {
  const { store } = opts;
  const content = versionContent(opts);
  return async (req, res, next) => {
    if (req.query.version_id !== undefined) {
      await content(req, res, next);
      return;
    }
    const path = workspacePathFromUrl(req, 'versions', false);
    const versions = await store.versions(userOf(res), path);
    res.json({ path, versions: versions.map(({ path: _p, ...v }) => v) });
  };
}

function restoreVersion({ store }: WorkspaceRouteOptions): RequestHandler {
  return async (req, res) => {
    const path = workspacePathFromUrl(req, 'versions', true, 'restore');
    const id = (req.body as { version_id?: unknown } | undefined)?.version_id;
    if (typeof id !== 'string' || id === '') throw new HttpError('bad_request', 'body must be JSON {"version_id": "<id>"}');
    const result = await store.restore(userOf(res), path, id, originOf(req, res));
    res.setHeader('ETag', etagOf(result.hash));
    res.json(result);
  };
}

/** GET /versions/<path>?version_id=<id>: one kept version's bytes (the desktop app's preview). */
function versionContent({ store }: WorkspaceRouteOptions): RequestHandler {
  return async (req, res) => {
    const path = workspacePathFromUrl(req, 'versions', false);
    const id = req.query.version_id;
    if (typeof id !== 'string' || id === '') throw new HttpError('bad_request', 'version_id must be one version id');
    const found = await store.versionBlob(userOf(res), path, id);
    if (!found) throw new HttpError('not_found', 'no such version');
    res.setHeader('ETag', etagOf(found.version.hash));
    res.setHeader('Content-Length', String(found.version.size));
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Cache-Control', 'no-store');
    const stream = createReadStream(found.blob);
    await pipeline(stream, res).catch(() => stream.destroy());
  };
}

/** GET /deleted: `{files: [{path, versions}], truncated}`, the most recently deleted first. */
function listDeleted({ store }: WorkspaceRouteOptions): RequestHandler {
  return async (_req, res) => {
    const out = await store.deleted(userOf(res));
    res.setHeader('Cache-Control', 'no-store');
    res.json({
      files: out.files.map((f) => ({ path: f.path, versions: f.versions.map(({ path: _p, ...v }) => v) })),
      truncated: out.truncated,
    });
  };
}
