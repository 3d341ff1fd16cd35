// Developer probe: an in-process first sync of N small files into an empty hub (default limits).
// HUB_PROF=1 writes a CPU profile of the hub to /tmp/hubprof.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SyncEngine } from '../../../app/sync/index.ts';
import { startHub } from '../../helpers/hub.ts';

const N = Number(process.argv[2] ?? 3000);
const root = await mkdtemp(join(tmpdir(), 'probe-'));
const folder = join(root, 'local');
for (let d = 0; d < Math.ceil(N / 100); d++) {
  await mkdir(join(folder, `d${d}`), { recursive: true });
  for (let f = 0; f < 100 && d * 100 + f < N; f++) await writeFile(join(folder, `d${d}`, `f${f}.txt`), Buffer.alloc(4096, f));
}
const hub = await startHub(process.env.HUB_PROF ? { env: { NODE_OPTIONS: '--cpu-prof --cpu-prof-dir=/tmp/hubprof' } } : {});
const key = await hub.createKey('alice');
try {
  const e = new SyncEngine({ serverUrl: hub.url, apiKey: key, folder, stateDir: join(root, 'state'), device: 'p', live: false });
  const t0 = performance.now();
  console.log(await e.syncNow(), Math.round(performance.now() - t0), 'ms');
  await e.stop();
} finally {
  await hub.stop();
  await rm(root, { recursive: true, force: true });
}
