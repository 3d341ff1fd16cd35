// `npm run bench`: builds the trees, runs the reference tools (rsync, Unison, Syncthing) and our
// tool on the same trees on loopback, and prints one table with our figures, theirs, and the
// ratios; then the knowledge-base section (kb/section.ts: one real Open WebUI, oikb and the hub on
// the same notes) and its own table. `--only files|kb` runs one section, `--no-kb` skips the second.
// Writes tests/bench/results/last.json and last.md. Not part of `npm test`; no assertions.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { treeOf, type BenchContext } from './context.ts';
import { describeMachine } from './machine.ts';
import { NetWatch } from './netcheck.ts';
import { parseOptions } from './options.ts';
import { youlabScenarios } from './ours/scenarios.ts';
import { killAll } from './procs.ts';
import { processTree } from './rss.ts';
import { kbSection } from './kb/section.ts';
import { buildTable, KB_LAYOUT, kbRowDefs, renderMarkdown, renderText, Results, rowDefs, type Table } from './results.ts';
import { rsyncScenarios } from './tools/rsync.ts';
import { syncthingScenarios } from './tools/syncthing.ts';
import { unisonScenarios } from './tools/unison.ts';
import { buildTree, standardSpecs } from './trees.ts';

const started = new Date();
const t0 = performance.now();
const opts = parseOptions(process.argv.slice(2), process.env);
const log = (msg: string) => console.log(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${msg}`);
const work = opts.workDir ? resolve(opts.workDir) : await mkdtemp(join(tmpdir(), 'youlab-bench-'));
await mkdir(work, { recursive: true });
const res = new Results();

async function step(name: string, fn: () => Promise<void>): Promise<void> {
  log(name);
  try {
    await fn();
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    log(`  FAILED: ${msg}`);
    res.note(`${name} failed: ${msg.split('\n')[0]}`);
  }
}

/** The file-sync section: trees, the reference tools, our client and hub; returns its table. */
async function filesSection(): Promise<{ table: Table; trees: Record<string, { name: string; files: number; bytes: number } | null> }> {
  const specs = standardSpecs(opts.scale);
  log(`building trees (scale ${opts.scale})`);
  const mixed = await buildTree(specs.mixed, join(work, 'trees'));
  const many = opts.big ? await buildTree(specs.many, join(work, 'trees')) : undefined;
  const ctx: BenchContext = { opts, work, trees: { mixed, many }, res, log };
  log(`  ${mixed.spec.name}: ${mixed.files} files, ${(mixed.bytes / 1e6).toFixed(0)} MB`);
  if (many) log(`  ${many.spec.name}: ${many.files} files, ${(many.bytes / 1e6).toFixed(0)} MB`);
  const sizes = ['mixed', ...(many ? ['many'] : [])] as ('mixed' | 'many')[];
  if (!many) res.note('the 100,000-file tree was skipped (--no-big)');
  res.note('all trees are read from a warm page cache (built just before); every replica is on the same disk as its source');

  const stPids: number[] = [];
  // Syncthing runs as a monitor process and a child that owns the sockets: watch the whole tree.
  const net = new NetWatch(() => stPids.flatMap((p) => processTree(p)));
  for (const which of sizes) {
    if (opts.tools.has('rsync')) await step(`rsync, ${treeOf(ctx, which).spec.name}`, () => rsyncScenarios(ctx, which));
    if (opts.tools.has('unison')) await step(`unison, ${treeOf(ctx, which).spec.name}`, () => unisonScenarios(ctx, which));
    if (opts.tools.has('syncthing')) {
      if (which === 'many' && !opts.syncthingBig) {
        res.gap('first.many.s', 'syncthing', 'skipped (--no-syncthing-big)');
        continue;
      }
      await step(`syncthing, ${treeOf(ctx, which).spec.name}`, () => syncthingScenarios(ctx, which, net, stPids));
    }
  }
  if (opts.tools.has('syncthing')) {
    const n = net.report();
    res.extra.syncthingSockets = n;
    log(`syncthing sockets: ${n.sockets} seen in ${n.snapshots} ss snapshots; ${n.loopbackOnly ? 'all on 127.0.0.1' : n.sockets === 0 ? 'NONE SEEN: the check proved nothing' : `OUTSIDE 127.0.0.1: ${JSON.stringify(n.outside)}`}`);
    res.note(`Syncthing sockets (ss -tunap, ${n.snapshots} snapshots): ${n.loopbackOnly ? `only 127.0.0.1 (${n.sockets} sockets)` : n.sockets === 0 ? 'no sockets seen, check inconclusive' : 'SOME OUTSIDE 127.0.0.1, see last.json'}`);
  }
  if (opts.tools.has('youlab')) await step('youlab (our tool)', () => youlabScenarios(ctx, sizes));
  const table = buildTable(res, rowDefs({ mixed: mixed.spec.name, many: many?.spec.name ?? '100k (skipped)' }));
  const trees = { mixed: { name: mixed.spec.name, files: mixed.files, bytes: mixed.bytes }, many: many ? { name: many.spec.name, files: many.files, bytes: many.bytes } : null };
  return { table, trees };
}

try {
  const machine = await describeMachine(work);
  log(`work dir ${work}; ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memGiB} GiB; sections ${[...opts.sections].join(', ')}`);
  const files = opts.sections.has('files') ? await filesSection() : undefined;
  if (opts.sections.has('kb')) await step(`knowledge base (${opts.kbNotes.join(', ')} notes)`, () => kbSection({ opts, work, res, log }));
  const tables = [files?.table, opts.sections.has('kb') ? buildTable(res, kbRowDefs(opts.kbNotes), KB_LAYOUT) : undefined].filter((t): t is Table => t !== undefined);
  for (const t of tables) console.log(`\n${renderText(t)}\n`);
  for (const n of res.notes) console.log(`note: ${n}`);
  console.log('ratio = youlab ÷ reference, on the medians (p50/p95 for latency): below 1 is better for times and memory, above 1 for MB/s and files/s.');
  await mkdir(opts.outDir, { recursive: true });
  const durationS = (performance.now() - t0) / 1000;
  await writeFile(
    join(opts.outDir, 'last.json'),
    JSON.stringify({ started: started.toISOString(), durationS, options: { ...opts, tools: [...opts.tools], sections: [...opts.sections] }, machine, trees: files?.trees ?? null, series: res.series, gaps: res.gaps, notes: res.notes, extra: res.extra }, null, 2),
  );
  await writeFile(
    join(opts.outDir, 'last.md'),
    `<!-- npm run bench, ${started.toISOString()}, ${Math.round(durationS)} s, scale ${opts.scale} -->\n${tables.map(renderMarkdown).join('\n\n')}\n\n${res.notes.map((n) => `- ${n}`).join('\n')}\n`,
  );
  log(`done in ${Math.round(durationS)} s; results in ${join(opts.outDir, 'last.json')} and last.md`);
} finally {
  killAll();
  if (!opts.keep && !opts.workDir) await rm(work, { recursive: true, force: true });
}
