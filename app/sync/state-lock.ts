// One engine per state dir: two engines sharing a base would each write their own view of it.
// A lock file holds the owner's pid; a lock whose process is gone (crash, SIGKILL) is taken over.
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export class StateDirBusyError extends Error {
  constructor(
    readonly stateDir: string,
    readonly pid: number,
  ) {
    super(`another youlab-sync (pid ${pid}) is using the state dir ${stateDir}; stop it first, or use it to do this`);
    this.name = 'StateDirBusyError';
  }
}

export class StateLock {
  private held = false;

  constructor(readonly stateDir: string) {}

  get file(): string {
    return join(this.stateDir, 'lock');
  }

  async acquire(): Promise<void> {
    if (this.held) return;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await writeFile(this.file, `${process.pid}\n`, { flag: 'wx' });
        this.held = true;
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const pid = Number((await readFile(this.file, 'utf8').catch(() => '')).trim()); // no pid to read: a lock left by a crash, taken over below
      if (pid > 0 && pid !== process.pid && alive(pid)) throw new StateDirBusyError(this.stateDir, pid);
      // Stale: its owner is gone.
      await unlink(this.file).catch(() => {});
    }
    throw new Error(`could not lock the state dir ${this.stateDir}`);
  }

  async release(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    await unlink(this.file).catch(() => {}); // gone already: nothing to release
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
