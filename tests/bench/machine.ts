// The machine and tool versions a run was made on, for the report.
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { run } from './procs.ts';

export interface Machine {
  cpus: number;
  cpuModel: string;
  memGiB: number;
  disk: string;
  kernel: string;
  node: string;
  tools: Record<string, string>;
}

async function firstLine(cmd: string, args: string[]): Promise<string> {
  try {
    const r = await run(cmd, args, { check: false, timeoutMs: 10_000 });
    return (r.stdout || r.stderr).split('\n')[0]!.trim();
  } catch {
    return 'not installed';
  }
}

export async function describeMachine(workDir: string): Promise<Machine> {
  const model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? '?';
  const df = (await run('df', ['-hT', workDir], { check: false })).stdout.trim().split('\n')[1] ?? '';
  const [dev, fstype, size] = df.split(/\s+/);
  return {
    cpus: Number((await run('nproc', [])).stdout.trim()),
    cpuModel: model.trim(),
    memGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    disk: `${dev ?? '?'} (${fstype ?? '?'}, ${size ?? '?'}) holding ${workDir}`,
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    node: process.version,
    tools: {
      rsync: await firstLine('rsync', ['--version']),
      unison: await firstLine('unison', ['-version']),
      syncthing: await firstLine('syncthing', ['--version']),
    },
  };
}
