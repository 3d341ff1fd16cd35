// Bulk transfer routes (shared/bulk-protocol.ts), mounted beside the workspace routes:
//   POST /bulk       frames {path, ifMatch|ifNoneMatch, sha256, size} + bytes -> {results: [...]}
//   POST /bulk-get   JSON {paths: [...]} -> frames {path, status, hash, size, modified} + bytes
// An upload is read whole first (bounded: BULK_MAX_BYTES), then handed to store.writeMany, which
// applies each file with the semantics of a PUT of one file (conditional, hash-checked, atomic on
// its own, in request order) but writes the batch in parallel under one lock. Downloads go
// through store.read like a GET. One file's refusal never stops the others.
// A bulk request counts once against the transfer rate limit.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import express, { type Request, type Response, type Router } from 'express';
import {
  BULK_CONTENT_TYPE,
  BULK_MAX_BYTES,
  BULK_MAX_ENTRIES,
  BULK_MAX_FILE_BYTES,
  BulkFormatError,
  BulkGetRequestSchema,
  BulkPutHeaderSchema,
  FrameReader,
  frame,
  type BulkResult,
} from '../../shared/node/bulk-protocol.ts';
import { HASH_PREFIX } from '../../shared/hash.ts';
import { ERROR_STATUS, type ErrorCode } from '../../shared/protocol.ts';
import { refuseLargeBody } from '../http/body-limit.ts';
import { HttpError } from '../http/errors.ts';
import type { Logger } from '../log.ts';
import type { BatchItem, FsWorkspaceStore } from './fs-store.ts';
import { StoreError } from './types.ts';

export interface BulkRouteOptions {
  store: FsWorkspaceStore;
  maxFileBytes: number;
  transferRateLimit: express.RequestHandler;
  log: Logger;
}

function userOf(res: Response): string {
  const u = res.locals.userId;
  if (!u) throw new HttpError('unauthorized', 'no user');
  return u;
}

function failure(path: string, code: ErrorCode, message: string): BulkResult {
  return { path, status: ERROR_STATUS[code], error: code, message };
}

function fromError(path: string, err: unknown, log: Logger): BulkResult {
  if (err instanceof StoreError || err instanceof HttpError) return failure(path, err.code, err.message);
  log.error({ err, path }, 'bulk entry failed');
  return failure(path, 'internal', 'internal error');
}

export function bulkRoutes(opts: BulkRouteOptions): Router {
  const { store, log } = opts;
  const r = express.Router({ mergeParams: true });
  const t = opts.transferRateLimit;

  r.post('/bulk', t, refuseLargeBody(BULK_MAX_BYTES + BULK_MAX_HEADER_SLACK), async (req: Request, res: Response) => {
    const user = userOf(res);
    const reader = new FrameReader(req);
    const results: BulkResult[] = [];
    // Entries to write, and where each one's result goes in `results`.
    const batch: BatchItem[] = [];
    const slots: number[] = [];
    const perFileMax = Math.min(opts.maxFileBytes, BULK_MAX_FILE_BYTES);
    let applied = false;
    const apply = async (): Promise<void> => {
      if (applied || batch.length === 0) return;
      applied = true; // once: a failure of the batch itself must not write it twice
      const done = await store.writeMany(user, batch);
      for (const [k, r] of done.entries()) {
        const path = batch[k]!.path;
        results[slots[k]!] = r.ok ? { path, status: 200, hash: r.entry.hash, size: r.entry.size, modified: r.entry.modified } : fromError(path, r.error, log);
      }
    };
    try {
      for (;;) {
        const raw = await reader.header();
        if (raw === undefined) break;
        if (results.length >= BULK_MAX_ENTRIES) throw new HttpError('too_large', `more than ${BULK_MAX_ENTRIES} files in one bulk request`);
        const size = (raw as { size?: unknown }).size;
        if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) throw new BulkFormatError('frame header without a valid size');
        if (reader.total + size > BULK_MAX_BYTES + BULK_MAX_HEADER_SLACK) throw new HttpError('too_large', `bulk body over ${BULK_MAX_BYTES} bytes`);
        const path = String((raw as { path?: unknown }).path ?? '');
        const parsed = BulkPutHeaderSchema.safeParse(raw);
        if (!parsed.success) {
          await reader.body(size);
          results.push(failure(path, 'bad_request', 'entry header must be {path, ifMatch | ifNoneMatch: true, sha256, size}'));
          continue;
        }
        const h = parsed.data;
        if ((h.ifMatch === undefined) === (h.ifNoneMatch === undefined)) {
          await reader.body(size);
          results.push(failure(path, 'precondition_required', 'each entry needs ifMatch "<hash>" (replace) or ifNoneMatch true (create)'));
          continue;
        }
        if (size > perFileMax) {
          await reader.body(size);
          const why = size > opts.maxFileBytes ? `file is larger than ${opts.maxFileBytes} bytes` : `files over ${BULK_MAX_FILE_BYTES} bytes go one by one (PUT)`;
          results.push(failure(path, 'too_large', why));
          continue;
        }
        const bytes = await reader.body(size);
        slots.push(results.length);
        results.push(failure(h.path, 'internal', 'not applied')); // replaced by apply()
        batch.push({ path: h.path, bytes, opts: { ...(h.ifMatch ? { ifMatch: h.ifMatch } : { ifNoneMatch: true }), expectedHash: h.sha256, source: 'client' } });
      }
      await apply();
    } catch (err) {
      // The framing broke (or the body grew too large): the entries read whole before the break
      // are applied and reported, as if sent alone; the rest of the body is not read.
      await apply().catch((e: unknown) => log.error({ err: e }, 'bulk upload failed'));
      res.setHeader('Connection', 'close');
      const code: ErrorCode = err instanceof HttpError ? err.code : err instanceof BulkFormatError ? 'bad_request' : 'internal';
      if (code === 'internal') log.error({ err }, 'bulk upload failed');
      const message = err instanceof BulkFormatError ? `malformed bulk body: ${err.message}` : code === 'internal' ? 'internal error' : (err as Error).message;
      res.status(ERROR_STATUS[code]).json({ error: code, message, results });
      return;
    }
    res.json({ results });
  });

  r.post('/bulk-get', t, refuseLargeBody(1024 * 1024), express.json({ limit: '1mb' }), async (req: Request, res: Response) => {
    const user = userOf(res);
    const parsed = BulkGetRequestSchema.safeParse(req.body);
    if (!parsed.success) throw new HttpError('bad_request', `body must be JSON {"paths": [...]} with 1 to ${BULK_MAX_ENTRIES} paths`);
    res.status(200).setHeader('Content-Type', BULK_CONTENT_TYPE);
    res.setHeader('Cache-Control', 'no-store');
    const ac = new AbortController();
    res.on('close', () => ac.abort());
    let sent = 0;
    const send = async (chunks: Buffer[]): Promise<void> => {
      for (const c of chunks) if (!res.write(c)) await once(res, 'drain', { signal: ac.signal });
    };
    try {
      for (const path of parsed.data.paths) {
        if (ac.signal.aborted) return;
        let header: BulkResult;
        let bytes: Buffer | undefined;
        try {
          const { entry, stream } = await store.read(user, path);
          if (entry.size > BULK_MAX_FILE_BYTES || sent + entry.size > BULK_MAX_BYTES) {
            stream.destroy();
            header = failure(path, 'too_large', entry.size > BULK_MAX_FILE_BYTES ? 'fetch this file on its own (GET)' : 'bulk response full; ask again');
          } else {
            const parts: Buffer[] = [];
            const hasher = createHash('sha256');
            for await (const c of stream) {
              parts.push(c as Buffer);
              hasher.update(c as Buffer);
            }
            bytes = Buffer.concat(parts);
            // The hash of the bytes actually sent (the client checks it before writing anything).
            header = { path: entry.path, status: 200, hash: HASH_PREFIX + hasher.digest('hex'), size: bytes.length, modified: entry.modified };
            sent += bytes.length;
          }
        } catch (err) {
          header = fromError(path, err, log);
        }
        await send(frame(header, bytes));
      }
      res.end();
    } catch (err) {
      if (!ac.signal.aborted) log.warn({ err }, 'bulk download stopped');
      res.destroy();
    }
  });

  return r;
}

/** Frame headers ride on top of the content limit. */
const BULK_MAX_HEADER_SLACK = BULK_MAX_ENTRIES * 1024;
