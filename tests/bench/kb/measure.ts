// What the knowledge-base section measures the same way for both tools: the context it runs in,
// and the changed-file latency (a note rewritten in the tool's folder, timed until the KB lists a
// file of that name with the new bytes).
import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { BenchContext } from '../context.ts';
import { sleep, waitFor } from '../procs.ts';
import { editOf } from './notes.ts';
import { kbHasBytes, sha256Hex, type KbServer } from './openwebui.ts';

/** The bench context without the file-sync trees (the KB section builds its own notes). */
export type KbContext = Pick<BenchContext, 'opts' | 'work' | 'res' | 'log'>;

/** How often the KB is asked whether an edit arrived: figures are up to this late. */
export const EDIT_POLL_MS = 100;
/**
 * Quiet time after an edit arrived before the next one: longer than the hub's debounce (2 s) plus
 * the confirming round it runs after a round that moved files, so no edit waits behind the
 * previous one's tail. Both tools get the same pause.
 */
export const EDIT_GAP_MS = 3000;

/**
 * Rewrites one note at a time in `folder` (plain writeFile, in place, as an editor or Ralph's agent
 * would) and times each until the KB lists the new bytes. Edits go to different notes across the
 * tree (notes.ts editOf), the same notes for both tools.
 */
export async function measureKbEdits(ctx: KbContext, s: KbServer, kbId: string, folder: string, n: number, onArrived?: () => Promise<void>): Promise<number[]> {
  const out: number[] = [];
  for (let k = 0; k < ctx.opts.kbEdits; k++) {
    const e = editOf(k, n);
    const name = basename(e.rel);
    const hash = sha256Hex(e.content);
    const t0 = performance.now();
    await writeFile(join(folder, e.rel), e.content);
    await waitFor(`${e.rel} with its new bytes in the KB`, async () => ((await kbHasBytes(s, kbId, name, hash)) ? true : undefined), 5 * 60_000, EDIT_POLL_MS);
    out.push(performance.now() - t0);
    await onArrived?.();
    await sleep(EDIT_GAP_MS);
  }
  return out;
}

/** Milliseconds as the log shows them: `1,234, 1,456, …`. */
export const msList = (xs: number[]) => xs.map((x) => Math.round(x).toLocaleString('en-US')).join(', ');
