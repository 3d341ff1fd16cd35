// The knowledge-base section of `npm run bench` (issue 12): one real Open WebUI for the whole
// section; per note count (200 and 1,000; --quick 50) oikb and then the hub on the same notes,
// each into a KB of its own, both with the admin's API key (the hub needs an admin key, and oikb
// with the same key takes the same permission paths in Open WebUI: the fairer pairing). One tool
// at a time, so neither shares Open WebUI's processing with the other; the hub goes second, on a
// database that already holds oikb's files.
import { NetWatch } from '../netcheck.ts';
import { unavailableReason, useCompiled } from '../ours/cli.ts';
import { hubKbScenario } from '../ours/kb.ts';
import { processTree } from '../rss.ts';
import { kbKeys, type Column, type Results } from '../results.ts';
import { median, quantile } from '../stats.ts';
import { ensureOikb } from '../tools/oikb.ts';
import type { KbContext } from './measure.ts';
import { oikbKbScenario } from './oikb-scenario.ts';
import { startKbServer, type KbServer } from './openwebui.ts';

type KbTool = Extract<Column, 'oikb' | 'youlab'>;

function gapAll(ctx: KbContext, column: KbTool, reason: string): void {
  for (const n of ctx.opts.kbNotes) for (const k of Object.values(kbKeys(n))) ctx.res.gap(k, column, reason);
}

/** Runs one tool on one size; a failure becomes a gap on that tool's rows for that size. */
async function part(ctx: KbContext, column: KbTool, n: number, fn: () => Promise<void>): Promise<void> {
  ctx.log(`  ${column}: KB, ${n} notes`);
  try {
    await fn();
  } catch (err) {
    const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
    ctx.log(`  ${column}: KB, ${n} notes FAILED: ${msg}`);
    for (const k of Object.values(kbKeys(n))) ctx.res.gap(k, column, `failed: ${msg.slice(0, 160)}`);
  }
}

/** Which tools can run; the others get their rows marked with the reason. */
async function toolsReady(ctx: KbContext): Promise<KbTool[]> {
  const ready: KbTool[] = [];
  if (ctx.opts.tools.has('oikb')) {
    const why = await ensureOikb(ctx.log);
    if (why) gapAll(ctx, 'oikb', why);
    else ready.push('oikb');
  }
  if (ctx.opts.tools.has('youlab')) {
    const why = unavailableReason();
    if (why) gapAll(ctx, 'youlab', why);
    else {
      if (!ctx.opts.tsx) await useCompiled();
      ready.push('youlab');
    }
  }
  return ready;
}

export async function kbSection(ctx: KbContext): Promise<void> {
  const tools = await toolsReady(ctx);
  if (tools.length === 0) return;
  ctx.log('  starting Open WebUI (offline, 127.0.0.1)');
  const s = await startKbServer();
  if (typeof s === 'string') {
    for (const t of tools) gapAll(ctx, t, s);
    ctx.log(`  ${s}`);
    return;
  }
  ctx.res.extra.kbOpenWebUI = { version: s.target.version, startupMs: s.target.startupMs };
  ctx.log(`  Open WebUI ${s.target.version} up in ${((s.target.startupMs ?? 0) / 1000).toFixed(0)} s`);
  const pids: number[] = [];
  const net = new NetWatch(() => pids.flatMap((p) => processTree(p)));
  try {
    for (const n of ctx.opts.kbNotes) await oneSize(ctx, s, n, tools, net, pids);
  } finally {
    await s.stop();
  }
  if (tools.includes('oikb')) reportSockets(ctx, net);
  for (const line of targetLines(ctx.res, ctx.opts.kbNotes)) ctx.res.note(line);
}

async function oneSize(ctx: KbContext, s: KbServer, n: number, tools: KbTool[], net: NetWatch, pids: number[]): Promise<void> {
  if (tools.includes('oikb')) await part(ctx, 'oikb', n, () => oikbKbScenario(ctx, s, n, net, pids));
  if (tools.includes('youlab')) await part(ctx, 'youlab', n, () => hubKbScenario(ctx, s, n));
}

function reportSockets(ctx: KbContext, net: NetWatch): void {
  const r = net.report();
  ctx.res.extra.oikbSockets = r;
  const verdict = r.loopbackOnly ? `only 127.0.0.1 (${r.sockets} sockets)` : r.sockets === 0 ? 'no sockets seen, check inconclusive' : 'SOME OUTSIDE 127.0.0.1, see oikbSockets in last.json';
  ctx.log(`  oikb sockets: ${r.sockets} seen in ${r.snapshots} ss snapshots: ${verdict}`);
  ctx.res.note(`oikb sockets (ss -tunap, ${r.snapshots} snapshots while it synced and watched): ${verdict}`);
}

/** Issue 12's targets, as ratios within this run: hub ÷ oikb. */
export function targetLines(res: Results, notes: number[]): string[] {
  const out: string[] = [];
  const v = (key: string, col: KbTool, stat: (s: number[]) => number) => {
    const s = res.get(key, col)?.samples;
    return s?.length ? stat(s) : undefined;
  };
  for (const n of notes) {
    const k = kbKeys(n);
    const first = [v(k.first, 'youlab', median), v(k.first, 'oikb', median)];
    const still = [v(k.nochange, 'youlab', median), v(k.nochange, 'oikb', median)];
    const p50 = v(k.edit, 'youlab', (s) => quantile(s, 0.5));
    const verdict = (ok: boolean | undefined) => (ok === undefined ? 'not measured' : ok ? 'met' : 'NOT met');
    const ratio = (a: (number | undefined)[]) => (a[0] !== undefined && a[1] !== undefined ? a[0] / a[1] : undefined);
    const rf = ratio(first);
    const rs = ratio(still);
    out.push(
      `KB targets, ${n} notes: first sync <= 0.5x oikb: ${rf?.toFixed(2) ?? '?'}x, ${verdict(rf === undefined ? undefined : rf <= 0.5)}; ` +
        `changed file p50 <= 1 s: ${p50 === undefined ? '?' : (p50 / 1000).toFixed(2)} s, ${verdict(p50 === undefined ? undefined : p50 <= 1000)}; ` +
        `no-change round <= oikb: ${rs?.toFixed(2) ?? '?'}x, ${verdict(rs === undefined ? undefined : rs <= 1)}`,
    );
  }
  return out;
}
