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
import express, { type RequestHandler, type Router } from 'express';
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
import type { Logger } from '../log.ts';
import { StoreError } from '../store-error.ts';
import type { BatchItem, FsWorkspaceStore } from '../workspace/fs-store.ts';
import { refuseLargeBody } from './body-limit.ts';
import { HttpError } from './errors.ts';
import { userOf } from './locals.ts';
import { originOf } from './origin.ts';

export interface BulkRouteOptions {
  store: FsWorkspaceStore;
  maxFileBytes: number;
  transferRateLimit: express.RequestHandler;
  log: Logger;
}

/** Frame headers ride on top of the content limit. */
const BULK_MAX_HEADER_SLACK = BULK_MAX_ENTRIES * 1024;

function failure(path: string, code: ErrorCode, message: string): BulkResult {
  return { path, status: ERROR_STATUS[code], error: code, message };
}

function fromError(path: string, err: unknown, log: Logger): BulkResult {
  if (err instanceof StoreError || err instanceof HttpError) return failure(path, err.code, err.message);
  log.error({ err, path }, 'bulk entry failed');
  return failure(path, 'internal', 'internal error');
}

export function bulkRoutes(opts: BulkRouteOptions): Router {
  const r = express.Router({ mergeParams: true });
  const t = opts.transferRateLimit;
  r.post('/bulk', t, refuseLargeBody(BULK_MAX_BYTES + BULK_MAX_HEADER_SLACK), bulkUpload(opts));
  r.post('/bulk-get', t, refuseLargeBody(1024 * 1024), express.json({ limit: '1mb' }), bulkDownload(opts));
  return r;
}

// ---- POST /bulk -------------------------------------------------------------------------

/** The entries of one bulk upload: a result per entry, in order, and the batch to write. */
class Upload {
  readonly results: BulkResult[] = [];
  // Entries to write, and where each one's result goes in `results`.
  private readonly batch: BatchItem[] = [];
  private readonly slots: number[] = [];
  private applied = false;

  constructor(
    private readonly store: FsWorkspaceStore,
    private readonly user: string,
    private readonly log: Logger,
  ) {}

  refuse(result: BulkResult): void {
    this.results.push(result);
  }

  add(item: BatchItem): void {
    this.slots.push(this.results.length);
    this.results.push(failure(item.path, 'internal', 'not applied')); // replaced by apply()
    this.batch.push(item);
  }

  async apply(): Promise<void> {
    if (this.applied || this.batch.length === 0) return;
    this.applied = true; // once: a failure of the batch itself must not write it twice
    const done = await this.store.writeMany(this.user, this.batch);
    for (const [k, r] of done.entries()) {
      const path = this.batch[k]!.path;
      this.results[this.slots[k]!] = r.ok
        ? { path, status: 200, hash: r.entry.hash, size: r.entry.size, modified: r.entry.modified }
        : fromError(path, r.error, this.log);
    }
  }
}

function bulkUpload({ store, log, maxFileBytes }: BulkRouteOptions): RequestHandler {
  return async (req, res) => {
    const user = userOf(res);
    const reader = new FrameReader(req);
    const origin = originOf(req, res);
    const up = new Upload(store, user, log);
    try {
      await readEntries(reader, up, maxFileBytes, origin);
      await up.apply();
    } catch (err) {
      // The framing broke (or the body grew too large): the entries read whole before the break
      // are applied and reported, as if sent alone; the rest of the body is not read.
      await up.apply().catch((e: unknown) => log.error({ err: e }, 'bulk upload failed'));
      res.setHeader('Connection', 'close');
      const code: ErrorCode = err instanceof HttpError ? err.code : err instanceof BulkFormatError ? 'bad_request' : 'internal';
      if (code === 'internal') log.error({ err }, 'bulk upload failed');
      const message = err instanceof BulkFormatError ? `malformed bulk body: ${err.message}` : code === 'internal' ? 'internal error' : (err as Error).message;
      res.status(ERROR_STATUS[code]).json({ error: code, message, results: up.results });
      return;
    }
    res.json({ results: up.results });
  };
}

/**
 * Reads the upload's frames to the end: each entry is refused on its own (its bytes read off)
 * or added to the batch. Throws when the framing breaks or the body grows too large.
 */
async function readEntries(reader: FrameReader, up: Upload, maxFileBytes: number, origin: string): Promise<void> {
  const perFileMax = Math.min(maxFileBytes, BULK_MAX_FILE_BYTES);
  for (;;) {
    const raw = await reader.header();
    if (raw === undefined) break;
    if (up.results.length >= BULK_MAX_ENTRIES) throw new HttpError('too_large', `more than ${BULK_MAX_ENTRIES} files in one bulk request`);
    const size = (raw as { size?: unknown }).size;
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) throw new BulkFormatError('frame header without a valid size');
    if (reader.total + size > BULK_MAX_BYTES + BULK_MAX_HEADER_SLACK) throw new HttpError('too_large', `bulk body over ${BULK_MAX_BYTES} bytes`);
    const path = String((raw as { path?: unknown }).path ?? '');
    const parsed = BulkPutHeaderSchema.safeParse(raw);
    if (!parsed.success) {
      await reader.body(size);
      up.refuse(failure(path, 'bad_request', 'entry header must be {path, ifMatch | ifNoneMatch: true, sha256, size}'));
      continue;
    }
    const h = parsed.data;
    if ((h.ifMatch === undefined) === (h.ifNoneMatch === undefined)) {
      await reader.body(size);
      up.refuse(failure(path, 'precondition_required', 'each entry needs ifMatch "<hash>" (replace) or ifNoneMatch true (create)'));
      continue;
    }
    if (size > perFileMax) {
      await reader.body(size);
      const why = size > maxFileBytes ? `file is larger than ${maxFileBytes} bytes` : `files over ${BULK_MAX_FILE_BYTES} bytes go one by one (PUT)`;
      up.refuse(failure(path, 'too_large', why));
      continue;
    }
    const bytes = await reader.body(size);
    up.add({ path: h.path, bytes, opts: { ...(h.ifMatch ? { ifMatch: h.ifMatch } : { ifNoneMatch: true }), expectedHash: h.sha256, source: 'client', origin } });
  }
}

// ---- POST /bulk-get ---------------------------------------------------------------------

function bulkDownload({ store, log }: BulkRouteOptions): RequestHandler {
  return async (req, res) => {
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
        const { header, bytes } = await readForBulk(store, user, path, sent, log);
        if (bytes) sent += bytes.length;
        await send(frame(header, bytes));
      }
      res.end();
    } catch (err) {
      if (!ac.signal.aborted) log.warn({ err }, 'bulk download stopped');
      res.destroy();
    }
  };
}

/** One file of a bulk download, read whole, or the reason it is not sent (`sent`: bytes in the response so far). */
async function readForBulk(
  store: FsWorkspaceStore,
  user: string,
  path: string,
  sent: number,
  log: Logger,
): Promise<{ header: BulkResult; bytes?: Buffer }> {
  try {
    const { entry, stream } = await store.read(user, path);
    if (entry.size > BULK_MAX_FILE_BYTES || sent + entry.size > BULK_MAX_BYTES) {
      stream.destroy();
      return { header: failure(path, 'too_large', entry.size > BULK_MAX_FILE_BYTES ? 'fetch this file on its own (GET)' : 'bulk response full; ask again') };
    }
    const parts: Buffer[] = [];
    const hasher = createHash('sha256');
    for await (const c of stream) {
      parts.push(c as Buffer);
      hasher.update(c as Buffer);
    }
    const bytes = Buffer.concat(parts);
    // The hash of the bytes actually sent (the client checks it before writing anything).
    return { header: { path: entry.path, status: 200, hash: HASH_PREFIX + hasher.digest('hex'), size: bytes.length, modified: entry.modified }, bytes };
  } catch (err) {
    return { header: fromError(path, err, log) };
  }
}
