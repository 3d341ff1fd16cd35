// Developer probe: cost of the client state file on N entries: load (read + JSON.parse +
// validation), a no-change save, the round's cache re-assignment, and zod's full-schema check for
// comparison. Usage: node --import tsx tests/bench/probe/state-probe.ts [entries=10000]
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { parseState, StateStore } from '../../../app/sync/state.ts';

const N = Number(process.argv[2] ?? 10_000);
const dir = await mkdtemp(join(tmpdir(), 'state-probe-'));
const t = () => performance.now();
const ms = (t0: number) => `${(t() - t0).toFixed(1)} ms`;
try {
  const seed = new StateStore(dir);
  const { state } = await seed.load();
  const H = 'sha256:' + 'a'.repeat(64);
  const base: Record<string, string> = {};
  const cache: Record<string, { size: number; mtime_ms: number; ino: number; hash: string }> = {};
  for (let i = 0; i < N; i++) {
    const p = `d${Math.floor(i / 100)}/f${i % 100}.txt`;
    base[p] = H;
    cache[p] = { size: 100 + i, mtime_ms: 1.7e12 + i + 0.25, ino: 1e6 + i, hash: H };
  }
  state.base = base;
  state.cache = cache;
  state.clean_cursor = 'abc:1';
  let t0 = t();
  await seed.save(state);
  console.log(`save (write, ${N} entries)`, ms(t0));
  for (let i = 0; i < 3; i++) {
    const store = new StateStore(dir);
    t0 = t();
    const { state: s } = await store.load();
    console.log('load', ms(t0));
    t0 = t();
    const text = await readFile(store.file, 'utf8');
    const tr = t() - t0;
    t0 = t();
    const raw = JSON.parse(text) as unknown;
    const tp = t() - t0;
    t0 = t();
    parseState(raw);
    console.log(`  of which read ${tr.toFixed(1)} ms, JSON.parse ${tp.toFixed(1)} ms, parseState ${ms(t0)}`);
    const Zod = z.object({
      version: z.literal(2),
      base: z.record(z.string(), z.string()),
      cache: z.record(z.string(), z.object({ size: z.number(), mtime_ms: z.number(), ino: z.number(), hash: z.string() })),
      conflicts: z.array(z.unknown()),
      failures: z.record(z.string(), z.unknown()),
    });
    t0 = t();
    Zod.parse(JSON.parse(text));
    console.log('  zod full-schema parse (old way, incl. JSON.parse)', ms(t0));
    const copy: typeof cache = {};
    for (const k in cache) copy[k] = { ...cache[k]! };
    t0 = t();
    s.cache = copy;
    console.log('  cache re-assigned an equal copy (compare)', ms(t0), 'changed', store.changed);
    t0 = t();
    console.log('  save, no change', await store.save(s), ms(t0));
    t0 = t();
    JSON.stringify(s);
    console.log('  (a serialise, for comparison)', ms(t0));
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
