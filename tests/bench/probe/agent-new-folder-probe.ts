// Issue 19's scenario, `parallel` at once, `runs` times: a hub and a client that has synced; the
// agent runs `mkdir -p <ws>/agent` and writes agent/report.md; `delayMs` later `youlab-sync
// --once` runs and must bring the file down. Prints how many runs missed it.
//   node --import tsx tests/bench/probe/agent-new-folder-probe.ts [runs=20] [parallel=4] [delayMs=1500]
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeRoot, runOnce, type ClientOptions } from '../../helpers/client.ts';
import { startHub } from '../../helpers/hub.ts';

const runs = Number(process.argv[2] ?? 20);
const parallel = Number(process.argv[3] ?? 4);
const delayMs = Number(process.argv[4] ?? 1500);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function scenario(i: number): Promise<{ ok: boolean; detail: string }> {
  const hub = await startHub();
  const root = await makeRoot('youlab-probe19-');
  try {
    const key = await hub.createKey('u');
    const o: ClientOptions = { server: hub.url, key, folder: join(root.dir, 'folder'), stateDir: join(root.dir, 'state') };
    await mkdir(o.folder, { recursive: true });
    await writeFile(join(o.folder, 'mine.md'), `mine ${i}`);
    for (let k = 0; k < 3; k++) {
      const r = await runOnce(o);
      if (r.code !== 0) return { ok: false, detail: `setup round exit ${r.code}: ${r.stderr}` };
    }
    const ws = join(hub.dataDir, 'u', 'workspace');
    await mkdir(join(ws, 'agent'), { recursive: true });
    await writeFile(join(ws, 'agent', 'report.md'), `report ${i}`);
    await sleep(delayMs);
    const r = await runOnce(o);
    const got = await readFile(join(o.folder, 'agent', 'report.md'), 'utf8').catch(() => undefined);
    const ok = r.code === 0 && got === `report ${i}`;
    const logs = ok || !process.env.PROBE_HUB_LOGS ? '' : `\n--- hub log ---\n${hub.logs()}`;
    return { ok, detail: `exit ${r.code}, ${r.stdout.trim().split('\n').at(-1)}, file ${got === undefined ? 'missing' : 'present'}${logs}` };
  } finally {
    await hub.stop();
    await root.cleanup();
  }
}

let missed = 0;
for (let run = 0; run < runs; run++) {
  const results = await Promise.all(Array.from({ length: parallel }, (_, k) => scenario(run * parallel + k)));
  const bad = results.filter((r) => !r.ok);
  missed += bad.length;
  console.log(`run ${run + 1}/${runs}: ${parallel - bad.length}/${parallel} ok${bad.length ? ' | ' + bad.map((b) => b.detail).join(' | ') : ''}`);
}
console.log(`missed ${missed} of ${runs * parallel}`);
process.exit(missed ? 1 : 0);
