// A real case-insensitive folder on Linux for the folder probe's test: an ext4 image with the
// casefold feature (a folder marked +F), else a vfat image, loop-mounted inside the test. Either
// needs root, loop devices and kernel support (ext4 casefold needs a kernel built with
// CONFIG_UNICODE; vfat needs its driver); mkfs.vfat is Debian's dosfstools. Where none of it
// works, the answer says why, for the test's skip message.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CaseInsensitiveMount {
  /** The case-insensitive folder to sync. */
  folder: string;
  kind: 'ext4 casefold' | 'vfat';
  cleanup(): Promise<void>;
}

async function sh(cmd: string, args: string[]): Promise<void> {
  try {
    await run(cmd, args);
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${(err.stderr || err.message).trim().split('\n')[0]}`, { cause: e });
  }
}

type Attempt = (img: string, mnt: string) => Promise<string>;

const ext4Casefold: Attempt = async (img, mnt) => {
  await sh('mkfs.ext4', ['-q', '-F', '-O', 'casefold', img]);
  await sh('mount', ['-o', 'loop', img, mnt]);
  const folder = join(mnt, 'YouLab');
  await mkdir(folder);
  await sh('chattr', ['+F', folder]);
  return folder;
};

const vfat: Attempt = async (img, mnt) => {
  await sh('mkfs.vfat', [img]);
  await sh('mount', ['-o', 'loop,utf8', img, mnt]);
  const folder = join(mnt, 'YouLab');
  await mkdir(folder);
  return folder;
};

/** A mounted case-insensitive folder, or why there cannot be one here. */
export async function mountCaseInsensitive(): Promise<{ mount: CaseInsensitiveMount } | { why: string }> {
  if (process.platform !== 'linux') return { why: `loop mounts are set up on Linux only (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { why: 'not root: mounting a loop device needs root' };
  if (!existsSync('/dev/loop-control')) return { why: 'no loop devices (/dev/loop-control is missing)' };
  const reasons: string[] = [];
  const attempts: [CaseInsensitiveMount['kind'], Attempt, string | undefined][] = [
    ['ext4 casefold', ext4Casefold, existsSync('/sys/fs/ext4/features/casefold') ? undefined : 'this kernel has no ext4 casefold (built without CONFIG_UNICODE: /sys/fs/ext4/features/casefold is missing)'],
    ['vfat', vfat, undefined],
  ];
  for (const [kind, attempt, unsupported] of attempts) {
    if (unsupported) {
      reasons.push(unsupported);
      continue;
    }
    const base = await mkdtemp(join(tmpdir(), 'youlab-ci-mount-'));
    const img = join(base, 'fs.img');
    const mnt = join(base, 'mnt');
    await mkdir(mnt);
    await sh('truncate', ['-s', '32M', img]);
    let mounted = false;
    const cleanup = async () => {
      if (mounted) await sh('umount', [mnt]);
      mounted = false;
      await rm(base, { recursive: true, force: true });
    };
    try {
      const folder = await attempt(img, mnt);
      mounted = true;
      return { mount: { folder, kind, cleanup } };
    } catch (e) {
      reasons.push(`${kind}: ${(e as Error).message}`);
      // A mount that succeeded before a later step failed is undone.
      await sh('umount', [mnt]).catch(() => undefined); // not mounted: nothing to undo
      await cleanup();
    }
  }
  return { why: reasons.join('; ') };
}
