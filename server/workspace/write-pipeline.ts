// The workspace store's writes: an upload is received into a temp file beside the workspace
// (hashed and fsynced on the way), then applied under the user's lock (write-apply.ts): check +
// version + rename under one lock, so two conditional writes can never both win and the quota is
// counted without races. Deletes and version restores go through the same lock.
import { createHash } from 'node:crypto';
import { createWriteStream, type Stats } from 'node:fs';
import { mkdir, open, rmdir, unlink } from 'node:fs/promises';
import { dirname, sep } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pLimit from 'p-limit';
import { tempPathFor } from '../../shared/node/atomic-fs.ts';
import { HASH_PREFIX } from '../../shared/hash.ts';
import type { PutResult } from '../../shared/protocol.ts';
import { StoreError } from '../store-error.ts';
import { locate, validPath } from './fs-paths.ts';
import { holdReplaced, keepReplaced, releaseHeld } from './replaced.ts';
import type { StoreCore } from './store-core.ts';
import type { DeleteOptions, WriteOptions } from './types.ts';
import type { Version } from './versions.ts';
import { applyLocked, BATCH_IO_PARALLEL, type BatchResult, type Prepared } from './write-apply.ts';

/** One file of a batch write (`writeMany`): its bytes are in memory. */
export interface BatchItem {
  path: string;
  bytes: Uint8Array;
  opts: WriteOptions;
}

/** A batch item that passed the checks made before any disk work. */
interface Checked {
  i: number;
  p: string;
  hash: string;
  bytes: Uint8Array;
  opts: WriteOptions;
}

/** What one prune removed: versions past retention, versions dropped for the disk budget, unheld content copies. */
export interface PruneSummary {
  expired: number;
  overBudget: number;
  contents: number;
}

/** A content copy nobody holds is kept this long (a write's copy is made before its path points to it). */
const CONTENT_GRACE_MS = 10 * 60_000;

/** An upload that overshoots the limit is read on (and dropped) up to this much, so the 413 can still be delivered. */
const DRAIN_CAP = 1024 * 1024;

export class WritePipeline {
  constructor(private readonly core: StoreCore) {}

  write(userId: string, path: string, body: Readable | Uint8Array, opts: WriteOptions): Promise<PutResult> {
    return this.core.track(this.writeNow(userId, path, body, opts));
  }

  private async writeNow(userId: string, path: string, body: Readable | Uint8Array, opts: WriteOptions): Promise<PutResult> {
    const core = this.core;
    const p = validPath(path, true);
    const s = await core.state(userId);
    const tmp = tempPathFor('upload', core.tmpDir(userId));
    const moved = new Set<string>();
    try {
      const { hash, size, st } = await receive(body, tmp, core.opts.maxFileBytes);
      if (opts.expectedHash && opts.expectedHash !== hash) {
        throw new StoreError('hash_mismatch', 'the received bytes do not match X-Content-SHA256; nothing was written');
      }
      const results: BatchResult[] = [];
      await core.locks.run(userId, (lease) => applyLocked(core, userId, s, lease, [{ i: 0, p, tmp, hash, size, st, opts }], results, moved));
      const r = results[0]!;
      if (!r.ok) throw r.error;
      return r.entry;
    } finally {
      if (!moved.has(tmp)) await unlink(tmp).catch(() => {}); // the temp file may never have been created
    }
  }

  /**
   * Writes many small files (a bulk upload, whose bytes are in memory) with the semantics of
   * `write()` for each, in request order: every item is validated and hash-checked first, all
   * temp files are written and fsynced in parallel, then the user's lock is taken once for the
   * batch. One item's failure never stops the others; the result of item i is `results[i]`.
   */
  writeMany(userId: string, items: readonly BatchItem[]): Promise<BatchResult[]> {
    return this.core.track(this.writeManyNow(userId, items));
  }

  private async writeManyNow(userId: string, items: readonly BatchItem[]): Promise<BatchResult[]> {
    const core = this.core;
    const results: BatchResult[] = new Array<BatchResult>(items.length);
    const s = await core.state(userId);
    const created: string[] = [];
    const moved = new Set<string>();
    try {
      const checked = this.checkBatch(items, results);
      if (checked.length === 0) return results;
      const prepared = await prepareTemps(core.tmpDir(userId), checked, results, created);
      try {
        await core.locks.run(userId, (lease) => applyLocked(core, userId, s, lease, prepared, results, moved));
      } catch (error) {
        // The lock itself failed (e.g. a distributed lock lost): every item not yet answered failed.
        for (const it of prepared) results[it.i] ??= { ok: false, error };
      }
      return results;
    } finally {
      // Temp files never outlive the request, whatever failed.
      await Promise.all(created.filter((t) => !moved.has(t)).map((t) => unlink(t).catch(() => {})));
    }
  }

  /** Path, size and hash of each batch item; a failing item gets its result, the rest go on. */
  private checkBatch(items: readonly BatchItem[], results: BatchResult[]): Checked[] {
    const max = this.core.opts.maxFileBytes;
    const checked: Checked[] = [];
    for (const [i, it] of items.entries()) {
      try {
        const p = validPath(it.path, true);
        if (it.bytes.length > max) throw new StoreError('too_large', `file is larger than ${max} bytes`);
        const hash = HASH_PREFIX + createHash('sha256').update(it.bytes).digest('hex');
        if (it.opts.expectedHash && it.opts.expectedHash !== hash) {
          throw new StoreError('hash_mismatch', 'the received bytes do not match X-Content-SHA256; nothing was written');
        }
        checked.push({ i, p, hash, bytes: it.bytes, opts: it.opts });
      } catch (error) {
        results[i] = { ok: false, error };
      }
    }
    return checked;
  }

  remove(userId: string, path: string, opts: DeleteOptions): Promise<void> {
    return this.core.track(this.removeNow(userId, path, opts));
  }

  private async removeNow(userId: string, path: string, opts: DeleteOptions): Promise<void> {
    const core = this.core;
    const p = validPath(path, false);
    const s = await core.state(userId);
    const root = core.workspaceDir(userId);
    await core.locks.run(userId, async (lease) => {
      const loc = await locate(root, p);
      if (!loc.st || loc.st.isSymbolicLink()) throw new StoreError('not_found', 'no such file');
      if (loc.st.isDirectory()) throw new StoreError('conflict', 'a folder exists at this path');
      const cur = await s.cache.hashOf(p, loc.abs, { remember: false });
      if (!cur) throw new StoreError('not_found', 'no such file');
      if (opts.ifMatch !== undefined && opts.ifMatch !== '*' && opts.ifMatch !== cur.hash) {
        throw new StoreError('precondition_failed', 'the file changed on the hub (If-Match does not match); nothing was deleted');
      }
      const replaced = { path: p, abs: loc.abs, cur, reason: 'delete' as const, origin: opts.origin ?? opts.source };
      await keepReplaced(s, replaced);
      const hold = await holdReplaced(core, userId, loc.abs);
      lease.assertHeld();
      s.known.set(p, null);
      s.recorded.delete(p);
      s.generation++;
      try {
        await unlink(loc.abs);
      } finally {
        await releaseHeld(core, s, userId, hold, replaced);
      }
      s.cache.delete(p);
      core.scheduleSave(s);
      if (s.usage !== undefined) s.usage -= cur.st.size;
      await removeEmptyParents(root, dirname(loc.abs));
      await core.emit(userId, { path: p, hash: null, source: opts.source, ...(opts.origin !== undefined ? { origin: opts.origin } : {}) });
    });
  }

  // ---- versions -----------------------------------------------------------------------

  async versions(userId: string, path: string): Promise<Version[]> {
    const p = validPath(path, false);
    return (await this.core.state(userId)).versions.list(p);
  }

  /** Puts a kept version back through the normal write path; the replaced content is kept in turn. */
  async restore(userId: string, path: string, versionId: string, origin?: string): Promise<PutResult> {
    const p = validPath(path, true);
    const s = await this.core.state(userId);
    const found = await s.versions.find(p, versionId);
    if (!found) throw new StoreError('not_found', 'no such version');
    const { createReadStream } = await import('node:fs');
    return this.write(userId, p, createReadStream(found.blob), { expectedHash: found.version.hash, source: 'restore', ...(origin !== undefined ? { origin } : {}) });
  }

  /**
   * Versions older than the retention period go; copies of contents no path holds any more go
   * (after a grace period: a write in flight has its copy before its path points to it); then
   * while a user's versions and copies exceed the disk budget, that user's oldest versions go
   * (logged, and counted in `overBudget`).
   */
  async pruneVersions(now = Date.now()): Promise<PruneSummary> {
    const core = this.core;
    const cutoff = now - core.opts.versionRetentionDays * 86_400_000;
    const out: PruneSummary = { expired: 0, overBudget: 0, contents: 0 };
    for (const u of await core.users()) {
      const s = await core.state(u);
      out.expired += await s.versions.prune(cutoff);
      const live = new Set<string>(s.cache.hashes());
      for (const h of s.known.values()) if (h !== null) live.add(h);
      out.contents += await s.contents.prune(live, now - CONTENT_GRACE_MS);
      const budget = core.opts.versionMaxBytes ?? 0;
      const dropped = await s.versions.enforceBudget(budget, await s.contents.usage(live));
      if (dropped.length > 0) {
        core.log.warn({ userId: u, dropped: dropped.length, budgetBytes: budget, oldestKept: dropped.at(-1)?.kept_at }, 'version store over its disk budget (RALPH_VERSION_MAX_BYTES): oldest versions dropped');
        out.overBudget += dropped.length;
      }
    }
    return out;
  }
}

/**
 * Writes the checked items of a batch into temp files in `tmpDir` and fsyncs them; answers those
 * that made it, in request order. Every temp file made is added to `created` (the caller removes
 * what is not moved into the workspace); an item that failed gets its result.
 */
async function prepareTemps(tmpDir: string, checked: readonly Checked[], results: BatchResult[], created: string[]): Promise<Prepared[]> {
  await mkdir(tmpDir, { recursive: true });
  const limit = pLimit(BATCH_IO_PARALLEL);
  // Every temp file is written first and fsynced after: the first fsync's journal commit
  // carries the data of the whole batch, so the others mostly find theirs already on disk
  // (write + fsync file by file makes each one wait for a commit of its own).
  const written: Prepared[] = [];
  await Promise.all(
    checked.map((c) =>
      limit(async () => {
        const tmp = tempPathFor('upload', tmpDir);
        created.push(tmp);
        try {
          const st = await writeTemp(tmp, c.bytes);
          written.push({ i: c.i, p: c.p, tmp, hash: c.hash, size: c.bytes.length, st, opts: c.opts });
        } catch (error) {
          results[c.i] = { ok: false, error };
        }
      }),
    ),
  );
  const prepared: Prepared[] = [];
  await Promise.all(
    written.map((w) =>
      limit(async () => {
        try {
          await fsyncFile(w.tmp);
          prepared.push(w);
        } catch (error) {
          results[w.i] = { ok: false, error };
        }
      }),
    ),
  );
  prepared.sort((a, b) => a.i - b.i);
  return prepared;
}

/** Streams an upload into `tmp` (a new file), counting and hashing it; fsynced; over `max` bytes it is refused. */
async function receive(body: Readable | Uint8Array, tmp: string, max: number): Promise<{ hash: string; size: number; st: Stats }> {
  const h = createHash('sha256');
  let size = 0;
  let over = false;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      if (size > max) {
        over = true;
        if (size > max + DRAIN_CAP) return cb(new StoreError('too_large', `file is larger than ${max} bytes`));
        return cb();
      }
      h.update(chunk);
      cb(null, chunk);
    },
  });
  const source = body instanceof Uint8Array ? Readable.from([Buffer.from(body)]) : body;
  await mkdir(dirname(tmp), { recursive: true });
  await pipeline(source, meter, createWriteStream(tmp, { flags: 'wx', mode: 0o644 }));
  if (over) throw new StoreError('too_large', `file is larger than ${max} bytes`);
  const fh = await open(tmp, 'r+');
  try {
    await fh.sync();
    return { hash: HASH_PREFIX + h.digest('hex'), size, st: await fh.stat() };
  } finally {
    await fh.close();
  }
}

/** Writes a new temp file (never an existing one; not yet durable: see fsyncFile) and returns its stat. */
async function writeTemp(tmp: string, bytes: Uint8Array): Promise<Stats> {
  const fh = await open(tmp, 'wx', 0o644);
  try {
    await fh.writeFile(bytes);
    return await fh.stat();
  } finally {
    await fh.close();
  }
}

/** fsync of a file written and closed earlier (an fsync flushes the inode's data, whoever wrote it). */
async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function removeEmptyParents(root: string, dir: string): Promise<void> {
  while (dir.startsWith(root + sep)) {
    try {
      await rmdir(dir);
    } catch {
      // not empty, or gone: either way nothing more to remove
      return;
    }
    dir = dirname(dir);
  }
}
