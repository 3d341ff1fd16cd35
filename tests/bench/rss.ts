// Peak memory of a process tree, from /proc. VmHWM is each process's own high-water mark, so a
// sample every 100 ms still catches peaks between samples; the figure is the sum over the tree
// (rsync runs as three processes, Unison and Syncthing as one each, node as one).
import { readFileSync, readdirSync } from 'node:fs';

function readKiB(pid: number, field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Children of every thread: Go programs (Syncthing) fork from whichever thread runs, not the main one. */
function children(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const t of tasks) {
    try {
      out.push(...readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    } catch {
      // thread gone
    }
  }
  return out;
}

export function processTree(root: number): number[] {
  const out: number[] = [];
  const todo = [root];
  while (todo.length) {
    const pid = todo.pop()!;
    out.push(pid);
    todo.push(...children(pid));
  }
  return out;
}

export class RssSampler {
  private readonly peakByPid = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly rootPid: number,
    private readonly everyMs = 100,
    /** VmHWM: peak over the process's life. VmRSS: peak over the sampling window only. */
    private readonly field: 'VmHWM' | 'VmRSS' = 'VmHWM',
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
    this.timer.unref();
    return this;
  }

  sample(): void {
    for (const pid of processTree(this.rootPid)) {
      const kib = readKiB(pid, this.field) ?? readKiB(pid, 'VmRSS');
      if (kib !== undefined) this.peakByPid.set(pid, Math.max(kib, this.peakByPid.get(pid) ?? 0));
    }
  }

  /** Sum of per-process peaks, in MiB. */
  peakMiB(): number {
    let kib = 0;
    for (const v of this.peakByPid.values()) kib += v;
    return kib / 1024;
  }

  stop(): number {
    if (this.timer) clearInterval(this.timer);
    return this.peakMiB();
  }
}
