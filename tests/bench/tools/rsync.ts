// rsync -a as the floor: a one-way local copy with no state, no hashing of new files and no watcher.
import { freshDir, removeDir, treeOf, type BenchContext } from '../context.ts';
import { run } from '../procs.ts';
import { verifyReplica } from '../trees.ts';

export async function rsyncScenarios(ctx: BenchContext, which: 'mixed' | 'many'): Promise<void> {
  const { res, opts, log } = ctx;
  const tree = treeOf(ctx, which);
  let dst = '';
  // Creating 100,000 files is bound by the disk's metadata writes and varies with writeback: once is enough.
  const repeats = which === 'many' ? 1 : opts.repeats;
  for (let i = 0; i < repeats; i++) {
    dst = await freshDir(ctx, `rsync-${which}`);
    const r = await run('rsync', ['-a', `${tree.root}/`, `${dst}/`]);
    const s = r.ms / 1000;
    res.add(`first.${which}.s`, 'rsync', [s]);
    res.add(`first.${which}.MBps`, 'rsync', [tree.bytes / 1e6 / s]);
    res.add(`first.${which}.fps`, 'rsync', [tree.files / s]);
    if (which === 'mixed') res.add('rss.first.mixed.MiB', 'rsync', [r.peakMiB], 'rsync: sum of its three processes (sender, generator, receiver)');
    log(`  rsync first sync ${tree.spec.name}: ${s.toFixed(2)} s, ${r.peakMiB.toFixed(0)} MiB`);
  }
  await verifyReplica(tree, dst);
  const rounds: number[] = [];
  for (let i = 0; i < opts.repeats; i++) rounds.push((await run('rsync', ['-a', `${tree.root}/`, `${dst}/`])).ms);
  res.add(`nochange.${which}.ms`, 'rsync', rounds, 'rsync -a again: compares size and mtime of every file, hashes nothing');
  log(`  rsync no-change ${tree.spec.name}: ${rounds.map((r) => r.toFixed(0)).join(', ')} ms`);
  res.gap('prop.ab.ms', 'rsync', 'rsync has no watcher; it copies when run');
  res.gap('rss.watch.MiB', 'rsync', 'rsync has no watcher; it copies when run');
  await removeDir(dst);
}
