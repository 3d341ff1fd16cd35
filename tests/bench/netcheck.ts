// Proof that a process only talks to 127.0.0.1: its TCP and UDP sockets as `ss` sees them.
import { run } from './procs.ts';

export interface SocketLine {
  proto: string;
  state: string;
  local: string;
  peer: string;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|\[::1\]|\[::ffff:127\.\d+\.\d+\.\d+\]|localhost):/;
const WILDCARD_PEER = /^(0\.0\.0\.0|\*|\[::\]|\[::ffff:0\.0\.0\.0\]):\*$/;

export function isLoopbackOnly(s: SocketLine): boolean {
  return LOOPBACK.test(s.local) && (LOOPBACK.test(s.peer) || WILDCARD_PEER.test(s.peer));
}

/** Parses `ss -tunapH` output, keeping the sockets of the given pids. */
export function socketsOf(ssOutput: string, pids: number[]): SocketLine[] {
  const out: SocketLine[] = [];
  for (const line of ssOutput.split('\n')) {
    if (!pids.some((p) => line.includes(`pid=${p},`))) continue;
    const f = line.trim().split(/\s+/);
    if (f.length < 6) continue;
    out.push({ proto: f[0]!, state: f[1]!, local: f[4]!, peer: f[5]! });
  }
  return out;
}

export async function snapshotSockets(pids: number[]): Promise<SocketLine[]> {
  const r = await run('ss', ['-tunapH'], { check: false });
  return socketsOf(r.stdout, pids);
}

/** Collects snapshots over a run; `report` says what was seen and whether anything left loopback. */
export class NetWatch {
  private readonly seen = new Map<string, SocketLine>();
  snapshots = 0;

  constructor(private readonly pids: () => number[]) {}

  async snap(): Promise<void> {
    for (const s of await snapshotSockets(this.pids())) this.seen.set(`${s.proto} ${s.local} ${s.peer}`, s);
    this.snapshots++;
  }

  report(): { snapshots: number; sockets: number; outside: SocketLine[]; loopbackOnly: boolean; seen: SocketLine[] } {
    const all = [...this.seen.values()];
    const outside = all.filter((s) => !isLoopbackOnly(s));
    // No sockets seen proves nothing (wrong pids, ss without -p rights): that is not a pass.
    return { snapshots: this.snapshots, sockets: all.length, outside, loopbackOnly: all.length > 0 && outside.length === 0, seen: all };
  }
}
