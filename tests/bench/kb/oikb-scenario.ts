// oikb's side of the knowledge-base section, on one tree of notes: first sync (`oikb sync` with
// the files in place, until the KB lists all of them), no-change rounds (`oikb sync` again), and
// the changed-file latency through `oikb watch`. Its own KB, created empty by the admin; oikb
// uses the admin's API key, the key the hub uses too (see section.ts).
import { join } from 'node:path';
import { freshDir } from '../context.ts';
import type { NetWatch } from '../netcheck.ts';
import { sleep } from '../procs.ts';
import { kbKeys } from '../results.ts';
import { configureOikb, oikbStartupMs, oikbSync, oikbWatch, type Oikb } from '../tools/oikb.ts';
import { measureKbEdits, msList, type KbContext } from './measure.ts';
import { writeNotes } from './notes.ts';
import { createKb, kbFileCount, waitKbCount, type KbServer } from './openwebui.ts';

interface Run {
  ctx: KbContext;
  s: KbServer;
  o: Oikb;
  kbId: string;
  dir: string;
  n: number;
  net: NetWatch;
  pids: number[];
}

export async function oikbKbScenario(ctx: KbContext, s: KbServer, n: number, net: NetWatch, pids: number[]): Promise<void> {
  const base = await freshDir(ctx, `kb-oikb-${n}`);
  const dir = join(base, 'notes');
  await writeNotes(dir, n);
  const o = await configureOikb(join(base, 'home'), s.target.url, s.target.adminApiKey);
  const kbId = await createKb(s, `bench-oikb-${n}`);
  const r: Run = { ctx, s, o, kbId, dir, n, net, pids };
  ctx.res.extra[`oikbStartupMs.${n}`] = await oikbStartupMs(o);
  await firstSync(r);
  await noChange(r);
  await edits(r);
}

async function firstSync(r: Run): Promise<void> {
  const { ctx, s, n } = r;
  const t0 = performance.now();
  const proc = await oikbSync(r.o, r.dir, r.kbId, ctx.opts.oikbWorkers, r.net, r.pids);
  // oikb exits once the uploads are sent; Open WebUI processes and links them in the background.
  await waitKbCount(s, r.kbId, n, 60 * 60_000);
  const sec = (performance.now() - t0) / 1000;
  ctx.res.add(kbKeys(n).first, 'oikb', [sec], `oikb: \`oikb sync DIR --kb-id KB --concurrency ${ctx.opts.oikbWorkers}\` on the folder of notes, from its start until the KB lists all of them (GET .../knowledge/{id}/files total, polled every 200 ms): its process exits once the uploads are sent, Open WebUI processes and links them in the background`);
  ctx.res.extra[`oikbFirstProcessS.${n}`] = proc.ms / 1000;
  ctx.log(`  oikb first sync ${n} notes: ${sec.toFixed(1)} s (its process ${(proc.ms / 1000).toFixed(1)} s)`);
}

async function noChange(r: Run): Promise<void> {
  const { ctx, n } = r;
  const rounds: number[] = [];
  for (let i = 0; i < ctx.opts.repeats; i++) rounds.push((await oikbSync(r.o, r.dir, r.kbId, ctx.opts.oikbWorkers, r.net, r.pids)).ms);
  const listed = await kbFileCount(r.s, r.kbId);
  if (listed !== n) throw new Error(`after the no-change rounds the KB lists ${listed} files, not ${n}`);
  ctx.res.add(kbKeys(n).nochange, 'oikb', rounds, 'oikb: `oikb sync` again with nothing changed, process start to exit (hashes every file, one /sync/diff request; Python start-up included, see oikbStartupMs in last.json)');
  ctx.log(`  oikb no-change ${n} notes: ${msList(rounds)} ms`);
}

async function edits(r: Run): Promise<void> {
  const { ctx, n } = r;
  const d = oikbWatch(r.o, r.dir, r.kbId, r.pids);
  try {
    // Let watchdog set up its inotify watches before the clock starts.
    await sleep(3000);
    if (d.child.exitCode !== null) throw new Error(`oikb watch exited: ${d.output().slice(-1000)}`);
    const lat = await measureKbEdits(ctx, r.s, r.kbId, r.dir, n, () => r.net.snap());
    ctx.res.add(kbKeys(n).edit, 'oikb', lat, 'oikb: `oikb watch DIR --kb-id KB` (watchdog, 1 s debounce, its default): a note rewritten in the folder until the KB lists that name with the new bytes (meta.file_hash), polled every 100 ms; 3 s between edits');
    ctx.log(`  oikb changed file ${n} notes: ${msList(lat)} ms`);
  } finally {
    await d.stop();
  }
}
