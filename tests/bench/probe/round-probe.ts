// Developer probe (not part of `npm run bench`): times one engine in-process against a real hub on
// a seeded N-file tree: seeding round, no-change round, and local-save -> hub / agent -> local latency.
// Usage: node --import tsx tests/bench/probe/round-probe.ts [files=10000] [edits=10]
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SyncEngine } from '../../../app/sync/index.ts';
import { startHub } from '../../helpers/hub.ts';

const N = Number(process.argv[2] ?? 10_000);
const EDITS = Number(process.argv[3] ?? 10);
const root = await mkdtemp(join(tmpdir(), 'probe-'));
const tree = join(root, 'tree');
for (let d = 0; d < Math.ceil(N / 100); d++) {
  await mkdir(join(tree, `d${d}`), { recursive: true });
  for (let f = 0; f < 100 && d * 100 + f < N; f++) await writeFile(join(tree, `d${d}`, `f${f}.txt`), `file ${d}/${f}\n`.repeat(100));
}
const hub = await startHub({ env: { RALPH_RATE_LIMIT_TRANSFER_PER_MIN: '1000000' } });
const key = await hub.createKey('alice');
await cp(tree, join(hub.dataDir, 'alice', 'workspace'), { recursive: true });
const folder = join(root, 'local');
await cp(tree, folder, { recursive: true });
const opts = { serverUrl: hub.url, apiKey: key, folder, stateDir: join(root, 'state'), device: 'probe' };
const t = () => performance.now();
const mem = () => `${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`;
try {
  const e1 = new SyncEngine({ ...opts, live: false });
  let t0 = t();
  console.log('seed', await e1.syncNow(), Math.round(t() - t0), 'ms', mem());
  // The hub's agent watcher announces the files copied into its workspace above; let it finish,
  // or every round lists in full because the feed keeps moving.
  await new Promise((r) => setTimeout(r, Number(process.env.PROBE_SETTLE_MS ?? 3000)));
  await e1.syncNow();
  for (let i = 0; i < 5; i++) {
    t0 = t();
    await e1.syncNow();
    console.log('no-change round', Math.round(t() - t0), 'ms', mem());
  }
  await e1.stop();
  const e2 = new SyncEngine({ ...opts });
  e2.on('log', (l) => console.log('log:', l));
  let tEdit = 0;
  if (process.env.PROBE_TRACE) {
    e2.on('activity', (a) => console.log('  activity', a.path, a.direction, Math.round(t() - tEdit)));
    e2.on('status', (st) => console.log('  status', st.phase, Math.round(t() - tEdit)));
  }
  await e2.start();
  await new Promise((r) => setTimeout(r, 2000));
  console.log('watching', mem());
  const up: number[] = [];
  const down: number[] = [];
  for (let i = 0; i < EDITS; i++) {
    const body = `edit ${i} ${Date.now()}\n`;
    t0 = t();
    tEdit = t0;
    if (process.env.PROBE_TRACE) console.error('TRACE write local', Date.now() % 100000);
    await writeFile(join(folder, `edit${i}.txt`), body);
    for (;;) {
      const got = await readFile(join(hub.dataDir, 'alice', 'workspace', `edit${i}.txt`), 'utf8').catch(() => '');
      if (got === body) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    up.push(t() - t0);
    if (process.env.PROBE_TRACE) console.error('TRACE seen on hub', Date.now() % 100000);
    const body2 = `agent ${i} ${Date.now()}\n`;
    t0 = t();
    tEdit = t0;
    await writeFile(join(hub.dataDir, 'alice', 'workspace', `agent${i}.txt`), body2);
    for (;;) {
      const got = await readFile(join(folder, `agent${i}.txt`), 'utf8').catch(() => '');
      if (got === body2) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    down.push(t() - t0);
  }
  const med = (a: number[]) => Math.round([...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!);
  console.log('local->hub p50', med(up), 'max', Math.round(Math.max(...up)), '| agent->local p50', med(down), 'max', Math.round(Math.max(...down)), mem());
  await e2.stop();
} finally {
  await hub.stop();
  await rm(root, { recursive: true, force: true });
}
