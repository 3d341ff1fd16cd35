// Unison 2.52 with two local roots, batch mode, a fresh archive dir (UNISONDIR) per first sync.
// Debian does not package unison-fsmonitor, so `-repeat watch` is unavailable; propagation is
// measured with `-repeat 1` (rescan every second), the way Unison runs without it.
import { join } from 'node:path';
import { freshDir, linkedCopy, removeDir, treeOf, type BenchContext } from '../context.ts';
import { run, startDaemon } from '../procs.ts';
import { measurePropagation, waitForContent, writeEdit } from '../propagation.ts';
import { RssSampler } from '../rss.ts';
import { verifyReplica } from '../trees.ts';

const FLAGS = ['-batch', '-auto', '-times', '-ui', 'text', '-silent', '-confirmbigdel=false'];

function env(dir: string): NodeJS.ProcessEnv {
  return { ...process.env, UNISONDIR: dir, HOME: dir };
}

export async function unisonScenarios(ctx: BenchContext, which: 'mixed' | 'many'): Promise<void> {
  const { res, opts, log } = ctx;
  const tree = treeOf(ctx, which);
  // Replica A is a hard-linked copy of the tree so that edits never land in the shared tree.
  const a = await linkedCopy(ctx, tree, `unison-${which}-a`);
  // One first sync of 100,000 files takes minutes; repeat only the smaller tree.
  const repeats = which === 'many' ? 1 : opts.repeats;
  let b = '';
  let archive = '';
  for (let i = 0; i < repeats; i++) {
    b = await freshDir(ctx, `unison-${which}-b`);
    archive = await freshDir(ctx, `unison-${which}-archive`);
    const r = await run('unison', [a, b, ...FLAGS], { env: env(archive) });
    const s = r.ms / 1000;
    res.add(`first.${which}.s`, 'unison', [s]);
    res.add(`first.${which}.MBps`, 'unison', [tree.bytes / 1e6 / s]);
    res.add(`first.${which}.fps`, 'unison', [tree.files / s]);
    if (which === 'mixed') res.add('rss.first.mixed.MiB', 'unison', [r.peakMiB]);
    log(`  unison first sync ${tree.spec.name}: ${s.toFixed(2)} s, ${r.peakMiB.toFixed(0)} MiB`);
  }
  await verifyReplica(tree, b);
  const rounds: number[] = [];
  for (let i = 0; i < opts.repeats; i++) rounds.push((await run('unison', [a, b, ...FLAGS], { env: env(archive) })).ms);
  res.add(`nochange.${which}.ms`, 'unison', rounds, 'Unison: second run with its archive; fastcheck compares size, mtime and inode');
  log(`  unison no-change ${tree.spec.name}: ${rounds.map((r) => r.toFixed(0)).join(', ')} ms`);

  if (which === 'mixed') {
    if (opts.unisonRepeat) {
      const d = startDaemon('unison', [a, b, ...FLAGS, '-repeat', '1'], { env: env(archive) });
      const watch = new RssSampler(d.pid, 200, 'VmRSS').start();
      try {
        const lat = await measurePropagation({
          tag: 'un',
          edits: opts.edits,
          write: (e) => writeEdit(a, e),
          arrived: (e) => waitForContent(join(b, e.rel), e.content, 60_000),
        });
        res.add('prop.ab.ms', 'unison', lat, 'Unison -repeat 1: rescans both roots every second (no unison-fsmonitor in Debian)');
        res.add('rss.watch.MiB', 'unison', [watch.stop()], 'Unison -repeat 1: one process holds both roots');
        log(`  unison propagation (-repeat 1): ${lat.length} edits`);
      } finally {
        watch.stop();
        await d.stop();
      }
    } else {
      res.gap('prop.ab.ms', 'unison', 'skipped (--no-unison-repeat)');
    }
  }
  await removeDir(a);
  await removeDir(b);
  await removeDir(archive);
}
