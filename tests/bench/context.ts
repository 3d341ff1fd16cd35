// What every scenario gets: options, the trees, a place for replicas, and the results.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchOptions } from './options.ts';
import { run } from './procs.ts';
import type { Results } from './results.ts';
import type { Tree } from './trees.ts';

export interface BenchContext {
  opts: BenchOptions;
  work: string;
  /** `many` is absent with --no-big. */
  trees: { mixed: Tree; many?: Tree };
  res: Results;
  log: (msg: string) => void;
}

/** A new empty directory under the work dir (removed first if it exists). */
export async function freshDir(ctx: Pick<BenchContext, 'work'>, name: string): Promise<string> {
  const dir = join(ctx.work, 'replicas', name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return dir;
}

/**
 * A writable copy of a tree made of hard links: instant, and the tree stays untouched as long as
 * the scenario only creates new files in it (edits go to new paths, never into linked files).
 */
export async function linkedCopy(ctx: BenchContext, tree: Tree, name: string): Promise<string> {
  const dir = join(ctx.work, 'replicas', name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(ctx.work, 'replicas'), { recursive: true });
  await run('cp', ['-al', tree.root, dir]);
  return dir;
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export function treeOf(ctx: BenchContext, which: 'mixed' | 'many'): Tree {
  const t = ctx.trees[which];
  if (!t) throw new Error(`tree ${which} was not built`);
  return t;
}
