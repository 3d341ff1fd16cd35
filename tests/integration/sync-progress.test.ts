// The engine reports a round's transfers (files and bytes, done and in all) through its status,
// which the tray shows as "Syncing 3 of 5 files, 1.2 of 4 MB" during long syncs; between rounds
// there is no progress.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SyncEngine } from '../../app/sync/engine.ts';
import type { EngineProgress } from '../../app/engine-api/types.ts';
import { startHub, type HubHandle } from '../helpers/hub.ts';

let hub: HubHandle;
let dir: string;

beforeAll(async () => {
  hub = await startHub();
  dir = await mkdtemp(join(tmpdir(), 'youlab-sync-progress-'));
});
afterAll(async () => {
  await hub?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('status carries files and bytes of the running round, and none after it', async () => {
  const key = await hub.createKey('pat');
  const folder = join(dir, 'f');
  await mkdir(join(folder, 'sub'), { recursive: true });
  const sizes = [10, 2000, 70_000];
  await Promise.all(sizes.map((n, i) => writeFile(join(folder, i === 2 ? 'sub/c.bin' : `f${i}.txt`), Buffer.alloc(n, 97 + i))));
  const engine = new SyncEngine({ serverUrl: hub.url, apiKey: key, folder, stateDir: join(dir, 'state'), device: 'pat', live: false });
  const seen: EngineProgress[] = [];
  engine.on('status', (s) => {
    if (s.progress) seen.push(s.progress);
  });
  try {
    const summary = await engine.syncNow();
    expect(summary.uploaded).toBe(3);
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(seen[0]).toMatchObject({ filesDone: 0, filesTotal: 3, bytesDone: 0, bytesTotal: total });
    // Monotonic, and the last report before the round ended had done all but the final file.
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.filesDone).toBeGreaterThanOrEqual(seen[i - 1]!.filesDone);
    expect(seen.at(-1)!.filesDone).toBe(2);
    expect(engine.status().progress).toBeUndefined();
  } finally {
    await engine.stop();
  }
});
