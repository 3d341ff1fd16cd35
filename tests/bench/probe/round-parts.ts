// Developer probe: the parts of a no-change round on an N-file seeded pair, timed one by one
// (scan, hub listing conditional and full, plan, state), after one seeding round.
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SyncEngine, HubClient } from '../../../app/sync/index.ts';
import { planRound } from '../../../app/sync/plan.ts';
import { scanLocal } from '../../../app/sync/scanner.ts';
import { StateStore } from '../../../app/sync/state.ts';
import { createIgnore } from '../../../shared/ignore-rules.ts';
import { pathKey } from '../../../shared/paths.ts';
import { startHub } from '../../helpers/hub.ts';

const N = Number(process.argv[2] ?? 10_000);
const root = await mkdtemp(join(tmpdir(), 'probe-'));
const folder = join(root, 'local');
for (let d = 0; d < Math.ceil(N / 100); d++) {
  await mkdir(join(folder, `d${d}`), { recursive: true });
  for (let f = 0; f < 100 && d * 100 + f < N; f++) await writeFile(join(folder, `d${d}`, `f${f}.txt`), `file ${d}/${f}\n`);
}
const hub = await startHub({ env: { RALPH_RATE_LIMIT_TRANSFER_PER_MIN: '1000000' } });
const key = await hub.createKey('alice');
await cp(folder, join(hub.dataDir, 'alice', 'workspace'), { recursive: true });
const stateDir = join(root, 'state');
const t = () => performance.now();
try {
  const e = new SyncEngine({ serverUrl: hub.url, apiKey: key, folder, stateDir, device: 'p', live: false });
  let t0 = t();
  await e.syncNow();
  console.log('seed', Math.round(t() - t0));
  // The hub's agent watcher announces the files copied into its workspace above; let it finish,
  // or every round lists in full because the feed keeps moving.
  await new Promise((r) => setTimeout(r, Number(process.env.PROBE_SETTLE_MS ?? 3000)));
  await e.syncNow();
  for (let i = 0; i < 3; i++) {
    t0 = t();
    await e.syncNow();
    console.log('no-change round (engine)', Math.round(t() - t0));
  }
  await e.stop();
  const store = new StateStore(stateDir);
  t0 = t();
  const { state } = await store.load();
  console.log('state load', Math.round(t() - t0));
  const ignore = createIgnore([]);
  t0 = t();
  const scan = await scanLocal(folder, { ignore, cache: state.cache });
  console.log('scan', Math.round(t() - t0), 'hashed', scan.hashed);
  const c = new HubClient({ baseUrl: hub.url, apiKey: key });
  c.setUser('alice');
  t0 = t();
  const cond = await c.listIfChanged(state.clean_cursor);
  console.log('list, conditional', Math.round(t() - t0), 'notModified' in cond ? '(304)' : '(200)');
  t0 = t();
  const listing = await c.list();
  console.log('list, full', Math.round(t() - t0));
  t0 = t();
  const baseMap = new Map(Object.entries(state.base).filter(([k]) => !ignore.ignores(k)));
  const remote = new Map(listing.files.map((f) => [pathKey(f.path), f] as const).filter(([k]) => !ignore.ignores(k)));
  console.log('maps+ignore', Math.round(t() - t0));
  t0 = t();
  const plan = planRound({ base: baseMap, local: scan.files, localDirs: scan.dirs, remote, device: 'p', now: new Date(), localRoot: scan.root });
  console.log('plan', Math.round(t() - t0), 'steps', plan.steps.length);
  t0 = t();
  state.cache = scan.cache;
  console.log('cache re-assigned (compare)', Math.round(t() - t0));
  t0 = t();
  await store.save(state);
  console.log('save (no write)', Math.round(t() - t0));
} finally {
  await hub.stop();
  await rm(root, { recursive: true, force: true });
}
