// Folder marks (server/workspace/folder-marks.ts): the proof behind a 304 that no folder of the
// workspace gained, lost or renamed an entry the hub's view does not hold. Real folders; the view
// is a map of path -> stat key, as the hub's hash cache keeps it.
import type { Stats } from 'node:fs';
import { lstat, mkdir, mkdtemp, rename, rm, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { foldersUnchanged, markHolds, markOf, RACY_MS, type FolderMarks, type FolderView } from '../../server/workspace/folder-marks.ts';

let root: string;
/** What the hub listed or announced: path -> "size:mtime:ino". */
let view: Map<string, string>;
const key = (st: Pick<Stats, 'size' | 'mtimeMs' | 'ino'>): string => `${st.size}:${st.mtimeMs}:${st.ino}`;
const asView = (): FolderView => ({ holds: (p, st) => view.get(p) === key(st), paths: () => view.keys() });
const past = new Date(Date.now() - 60_000);

/** Writes a file and records it in the view, as a hub write does. */
async function hubWrite(rel: string, body: string): Promise<void> {
  await mkdir(join(root, rel, '..'), { recursive: true });
  await writeFile(join(root, rel), body);
  view.set(rel, key(await lstat(join(root, rel))));
}

/** Marks of every folder, as a listing takes them, after dating them a minute back. */
async function listed(...folders: string[]): Promise<FolderMarks> {
  const marks: FolderMarks = new Map();
  for (const f of ['', ...folders]) {
    await utimes(join(root, f), past, past);
    marks.set(f, (await markOf(join(root, f)))!);
  }
  return marks;
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'youlab-marks-'));
  view = new Map();
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('markHolds', () => {
  it('holds for the same mtime only when the mark was taken well after it (coarse timestamps)', () => {
    const t = 1_700_000_000_000;
    expect(markHolds({ mtimeMs: t, seenAt: t + RACY_MS + 1 }, { mtimeMs: t })).toBe(true);
    expect(markHolds({ mtimeMs: t, seenAt: t + RACY_MS + 1 }, { mtimeMs: t + 1 })).toBe(false);
    expect(markHolds({ mtimeMs: t, seenAt: t + 5 }, { mtimeMs: t })).toBe(false);
    expect(markHolds({ mtimeMs: t, seenAt: t + RACY_MS + 1 }, undefined)).toBe(false);
  });
});

describe('foldersUnchanged', () => {
  beforeEach(async () => {
    await hubWrite('a.txt', 'a');
    await hubWrite('docs/b.txt', 'b');
  });

  it('is true when no folder changed, without reading any folder', async () => {
    const marks = await listed('docs');
    expect(await foldersUnchanged(root, marks, { holds: () => false, paths: () => [] })).toBe(true);
  });

  it('finds a new file, a new folder with a file, a deleted file and a renamed file', async () => {
    const changes: [string, () => Promise<unknown>][] = [
      ['new file', () => writeFile(join(root, 'docs', 'new.txt'), 'n')],
      ['new folder with a file', async () => {
        await mkdir(join(root, 'docs', 'agent', 'sub'), { recursive: true });
        await writeFile(join(root, 'docs', 'agent', 'sub', 'r.md'), 'r');
      }],
      ['deleted file', () => unlink(join(root, 'docs', 'b.txt'))],
      ['renamed file', () => rename(join(root, 'a.txt'), join(root, 'docs', 'a.txt'))],
      ['folder removed with its file', () => rm(join(root, 'docs'), { recursive: true })],
    ];
    for (const [what, change] of changes) {
      await rm(root, { recursive: true, force: true });
      await mkdir(root);
      view = new Map();
      await hubWrite('a.txt', 'a');
      await hubWrite('docs/b.txt', 'b');
      const marks = await listed('docs');
      const before = new Map(marks);
      await change();
      expect(await foldersUnchanged(root, marks, asView()), what).toBe(false);
      // A failed check leaves the marks alone: the full listing takes them anew.
      expect(marks, what).toEqual(before);
    }
  });

  it('accepts the hub\'s own writes (new files and folders the view holds) and takes fresh marks for them', async () => {
    const marks = await listed('docs');
    await hubWrite('docs/c.txt', 'c');
    await hubWrite('docs/new/deep/d.txt', 'd');
    expect(await foldersUnchanged(root, marks, asView())).toBe(true);
    expect([...marks.keys()].sort()).toEqual(['', 'docs', 'docs/new', 'docs/new/deep']);
    // An empty folder holds nothing to list: no reason to list in full.
    await mkdir(join(root, 'empty'));
    expect(await foldersUnchanged(root, marks, asView())).toBe(true);
  });

  it('a folder the hub emptied and removed is fine; one gone with files the view holds is not', async () => {
    const marks = await listed('docs');
    await rm(join(root, 'docs'), { recursive: true });
    view.delete('docs/b.txt');
    expect(await foldersUnchanged(root, marks, asView())).toBe(true);
    expect(marks.has('docs')).toBe(false);
  });

  it('finds an entry added within the same timestamp tick as the mark (mtime unchanged)', async () => {
    // A mark taken right after the folder changed proves nothing about later changes in the same
    // tick. The tick is played by whole seconds, which utimes sets exactly.
    const tick = Math.floor(Date.now() / 1000);
    await utimes(join(root, 'docs'), tick, tick);
    const marks: FolderMarks = new Map([['', (await markOf(root))!], ['docs', (await markOf(join(root, 'docs')))!]]);
    await writeFile(join(root, 'docs', 'same-tick.txt'), 'x');
    await utimes(join(root, 'docs'), tick, tick);
    expect((await lstat(join(root, 'docs'))).mtimeMs).toBe(marks.get('docs')!.mtimeMs);
    expect(await foldersUnchanged(root, marks, asView())).toBe(false);
  });

  it('skips what a listing skips: symlinks and names a listing refuses', async () => {
    const marks = await listed('docs');
    const { symlink } = await import('node:fs/promises');
    await symlink('/etc/passwd', join(root, 'docs', 'link'));
    await writeFile(join(root, 'docs', 'bad\u0001name.txt'), 'control character');
    expect(await foldersUnchanged(root, marks, asView())).toBe(true);
  });

  it('a file replaced behind the hub\'s back by a file of the same name is found (another inode)', async () => {
    const marks = await listed('docs');
    await writeFile(join(root, 'docs', 'tmp'), 'b2');
    await rename(join(root, 'docs', 'tmp'), join(root, 'docs', 'b.txt'));
    expect(await foldersUnchanged(root, marks, asView())).toBe(false);
  });
});
