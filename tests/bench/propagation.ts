// Propagation latency: a file written on one side, timed until it is on the other side with the
// right bytes. Every edit creates a new file (never rewrites a tree file, which may be a hard link).
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { sleep } from './procs.ts';

export interface Edit {
  rel: string;
  content: Buffer;
}

export function makeEdit(tag: string, i: number): Edit {
  const head = Buffer.from(`edit ${tag} #${i}\n`);
  return { rel: `bench-edits/${tag}/e${String(i).padStart(4, '0')}.txt`, content: Buffer.concat([head, randomBytes(1024)]) };
}

export async function writeEdit(root: string, e: Edit): Promise<void> {
  await mkdir(dirname(join(root, e.rel)), { recursive: true });
  await writeFile(join(root, e.rel), e.content);
}

/** Resolves when `path` holds exactly `content`; polls (cheap for one file) so no watcher skews it. */
export async function waitForContent(path: string, content: Buffer, timeoutMs: number, everyMs = 10): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      if ((await stat(path)).size === content.length && (await readFile(path)).equals(content)) return;
    } catch {
      // not there yet
    }
    if (performance.now() > deadline) throw new Error(`${path} did not arrive within ${Math.round(timeoutMs / 1000)} s`);
    await sleep(everyMs);
  }
}

export interface PropagationPlan {
  tag: string;
  edits: number;
  /** Write edit i on the source side. */
  write: (e: Edit) => Promise<void>;
  /** Resolve when edit i has arrived on the other side. */
  arrived: (e: Edit) => Promise<void>;
  /** Pause after each arrival before the next edit (default 200 ms). */
  gapMs?: number;
}

export async function measurePropagation(plan: PropagationPlan): Promise<number[]> {
  const one = async (i: number) => {
    const e = makeEdit(plan.tag, i);
    const t0 = performance.now();
    await plan.write(e);
    await plan.arrived(e);
    return performance.now() - t0;
  };
  const out: number[] = [];
  for (let i = 0; i < plan.edits; i++) {
    out.push(await one(i));
    await sleep(plan.gapMs ?? 200);
  }
  return out;
}
