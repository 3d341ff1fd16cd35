// Small files travel many per request (server/README.md "HTTP API", bulk routes): which steps go
// in bulk, how they are grouped, and how a batch is sent. The executor (executor.ts) runs every
// step; it lends the batches what they need through `BatchHost`, so a step sent in bulk ends
// exactly as the same step sent alone would.
import { constants as fsConstants } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import pLimit from 'p-limit';
import type { HubClient } from './hub-client.ts';
import { HubError } from './hub-errors.ts';
import type { Step } from './plan.ts';

export type UploadStep = Extract<Step, { kind: 'upload' }>;
export type DownloadStep = Extract<Step, { kind: 'download' }>;

/** Small files read at once to fill one bulk request. */
const READ_PARALLEL = 16;

/** Files up to this size travel in bulk; larger ones stream one by one. */
export const BULK_FILE_BYTES = 256 * 1024;
const BATCH_BYTES = 4 * 1024 * 1024;
const BATCH_FILES = 500;

/** Small uploads and downloads in batches of up to ~4 MiB / 500 files; a lone small file goes alone. */
export function bulkBatches(
  steps: readonly Step[],
  local: ReadonlyMap<string, { size: number }>,
  remote: ReadonlyMap<string, { size: number }>,
  off: boolean,
): { uploads: UploadStep[][]; downloads: DownloadStep[][]; rest: Step[] } {
  const ups: UploadStep[] = [];
  const downs: DownloadStep[] = [];
  const rest: Step[] = [];
  for (const s of steps) {
    if (!off && s.kind === 'upload' && (local.get(s.key)?.size ?? Infinity) <= BULK_FILE_BYTES) ups.push(s);
    else if (!off && s.kind === 'download' && (remote.get(s.key)?.size ?? Infinity) <= BULK_FILE_BYTES) downs.push(s);
    else rest.push(s);
  }
  const batch = <T extends Step>(list: T[], size: (s: T) => number): T[][] => {
    if (list.length < 2) {
      rest.push(...list);
      return [];
    }
    const out: T[][] = [];
    let cur: T[] = [];
    let bytes = 0;
    for (const s of list) {
      const n = size(s);
      if (cur.length > 0 && (cur.length >= BATCH_FILES || bytes + n > BATCH_BYTES)) {
        out.push(cur);
        cur = [];
        bytes = 0;
      }
      cur.push(s);
      bytes += n;
    }
    if (cur.length) out.push(cur);
    return out;
  };
  return {
    uploads: batch(ups, (s) => local.get(s.key)!.size),
    downloads: batch(downs, (s) => remote.get(s.key)!.size),
    rest,
  };
}

/** A small file's bytes, or undefined when it grew past the bulk size (then it streams). */
async function readSmall(abs: string): Promise<Buffer | undefined> {
  const fh = await open(abs, fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0));
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.size > BULK_FILE_BYTES) return undefined;
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

/** What a batch needs from the executor running its steps. */
export interface BatchHost {
  hub: HubClient;
  abs(rel: string): string;
  /** The one-by-one path: the step runs alone. */
  run(step: Step): Promise<void>;
  /** The hub stored an upload (as `uploaded` of a single upload). */
  uploaded(key: string, hash: string, stored: string): void;
  /** A download whose bytes `fetch` writes to the temp file (as a single download, then put in place). */
  download(step: DownloadStep, fetch: (tmp: string) => Promise<{ hash: string; size: number }>): Promise<void>;
  /** The step failed with `e`. */
  onError(step: Step, e: unknown): void;
  /** The step is over (for progress). */
  countDone(step: Step): void;
  /** Whether `e` says the hub has no bulk routes (an older hub): then every file goes one by one. */
  isNoBulk(e: unknown): boolean;
}

export async function uploadBatch(host: BatchHost, steps: UploadStep[]): Promise<void> {
  const entries: { step: UploadStep; bytes: Buffer }[] = [];
  // Read READ_PARALLEL at a time (one by one, 500 small files are ~2,000 thread-pool round
  // trips in a row), then handled in plan order.
  const read = pLimit(READ_PARALLEL);
  const got = await Promise.all(steps.map((step) => read(() => readSmall(host.abs(step.rel)).catch((e: unknown) => e as Error))));
  for (const [k, step] of steps.entries()) {
    const bytes = got[k];
    if (bytes instanceof Error || bytes === undefined) {
      // Gone or grown past the bulk size meanwhile: the one-by-one path decides.
      await host.run(step);
      continue;
    }
    entries.push({ step, bytes });
  }
  if (entries.length === 0) return;
  let results;
  try {
    results = await host.hub.bulkUpload(
      entries.map(({ step, bytes }) => ({ path: step.key, bytes, hash: step.hash, precondition: step.ifMatch ? { ifMatch: step.ifMatch } : { ifNoneMatch: true as const } })),
    );
  } catch (e) {
    if (host.isNoBulk(e)) {
      for (const { step } of entries) await host.run(step);
      return;
    }
    for (const { step } of entries) {
      host.onError(step, e);
      host.countDone(step);
    }
    return;
  }
  for (const [i, { step }] of entries.entries()) {
    const r = results[i]!;
    if (r.result) host.uploaded(step.key, step.hash, r.result.hash);
    else host.onError(step, r.error);
    host.countDone(step);
  }
}

export async function downloadBatch(host: BatchHost, steps: DownloadStep[]): Promise<void> {
  let got: Awaited<ReturnType<HubClient['bulkGet']>>;
  try {
    got = await host.hub.bulkGet(steps.map((s) => s.key));
  } catch (e) {
    if (host.isNoBulk(e)) {
      for (const step of steps) await host.run(step);
      return;
    }
    for (const step of steps) {
      host.onError(step, e);
      host.countDone(step);
    }
    return;
  }
  for (const step of steps) {
    const r = got.get(step.key);
    if (r === undefined || (r instanceof HubError && r.kind === 'too_large')) {
      await host.run(step);
      continue;
    }
    try {
      if (r instanceof HubError) throw r;
      await host.download(step, async (tmp) => {
        await writeFile(tmp, r.bytes, { flag: 'wx', mode: 0o644 });
        return { hash: r.hash, size: r.bytes.length };
      });
    } catch (e) {
      host.onError(step, e);
    }
    host.countDone(step);
  }
}
