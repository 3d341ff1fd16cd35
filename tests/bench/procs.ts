// Child processes of the bench: run-to-exit commands with wall time and peak RSS, and daemons
// that are always stopped on exit (including Ctrl-C). Only processes started here are signalled.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { RssSampler } from './rss.ts';

export interface RunResult {
  ms: number;
  peakMiB: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

const live = new Set<ChildProcess>();

function killTree(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    // Each child leads its own process group (detached), so this reaches its helpers too.
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

export function killAll(): void {
  for (const c of live) killTree(c, 'SIGKILL');
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Reject on a non-zero exit (default true). */
  check?: boolean;
  /** Told the child's pid as soon as it runs (to watch its sockets while it works). */
  onSpawn?: (pid: number) => void;
}

export async function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const t0 = performance.now();
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  live.add(child);
  if (child.pid !== undefined) opts.onSpawn?.(child.pid);
  const sampler = new RssSampler(child.pid!).start();
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => killTree(child, 'SIGKILL'), opts.timeoutMs ?? 30 * 60_000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (c) => {
      sampler.sample();
      resolve(c);
    });
  });
  const ms = performance.now() - t0;
  clearTimeout(timer);
  live.delete(child);
  const peakMiB = sampler.stop();
  if ((opts.check ?? true) && code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${code}\n${stderr.slice(-2000) || stdout.slice(-2000)}`);
  }
  return { ms, peakMiB, code, stdout, stderr };
}

export interface Daemon {
  child: ChildProcess;
  pid: number;
  rss: RssSampler;
  output: () => string;
  stop: () => Promise<void>;
}

export function startDaemon(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Daemon {
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  live.add(child);
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const rss = new RssSampler(child.pid!, 200).start();
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    child,
    pid: child.pid!,
    rss,
    output: () => out,
    stop: async () => {
      rss.stop();
      killTree(child, 'SIGTERM');
      const t = setTimeout(() => killTree(child, 'SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
      live.delete(child);
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` until it returns a value, or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (performance.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await sleep(everyMs);
  }
}
