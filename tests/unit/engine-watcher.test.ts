// The client's folder watcher (app/sync/watcher.ts) on a real folder: the engine's own writes are
// not echoed as changes, and a user's edit made right after an engine write, while the round that
// wrote is still running, is not swallowed with them (issue 19's sync-watch flake: an edit saved
// the moment a download arrived waited for the 30 s rescan).
import { lstat, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createIgnore } from '../../shared/ignore-rules.ts';
import { FolderWatcher } from '../../app/sync/watcher.ts';

let dir: string;
let watcher: FolderWatcher | undefined;
let calls: (string[] | 'full')[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'youlab-folder-watch-'));
  calls = [];
  watcher = new FolderWatcher(dir, createIgnore(), 100, (paths) => calls.push(paths ? [...paths].sort() : 'full'), 20);
  await watcher.start();
});
afterEach(async () => {
  await watcher?.stop();
  await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const snap = async (p: string) => {
  const st = await lstat(p);
  return { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
};

/** The engine's download: a temp file renamed into place; returns the stat it records. */
async function engineWrites(rel: string, body: string) {
  // As the engine does where it can: the temp file outside the watched folder, on the same disk.
  const tmp = join(dir, '..', `${dir.split('/').pop()}-${rel}.download`);
  await writeFile(tmp, body);
  const st = await snap(tmp);
  watcher!.ownWrite(rel);
  await rename(tmp, join(dir, rel));
  return st;
}

describe('folder watcher and the engine\'s own writes', { timeout: 20_000 }, () => {
  it('does not echo a write of the engine as a change', async () => {
    const st = await engineWrites('a.txt', 'downloaded');
    await sleep(300);
    await watcher!.settle((rel) => (rel === 'a.txt' ? st : undefined));
    await sleep(300);
    expect(calls).toEqual([]);
  });

  it('a user edit right after the engine\'s write, before the round ends, asks for a round at settle', async () => {
    const st = await engineWrites('a.txt', 'downloaded');
    // The user saves the moment the download is in place; the round has not ended yet.
    await writeFile(join(dir, 'a.txt'), 'edited by the user at once');
    await sleep(300);
    expect(calls).toEqual([]);
    await watcher!.settle((rel) => (rel === 'a.txt' ? st : undefined));
    await sleep(300);
    expect(calls).toEqual([['a.txt']]);
  });

  it('a user edit after the round is seen as usual', async () => {
    const st = await engineWrites('b.txt', 'downloaded');
    await sleep(200);
    await watcher!.settle((rel) => (rel === 'b.txt' ? st : undefined));
    await writeFile(join(dir, 'b.txt'), 'edited later');
    await sleep(300);
    expect(calls).toEqual([['b.txt']]);
  });
});
