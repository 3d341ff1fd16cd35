// Names the local OS cannot hold arrive from the hub (issue 15, item 3): an agent writes `aux.md`
// and `notes:v2.md` straight into the workspace; a client on Windows (the engine's platform is
// injected, so Windows' rules run here) skips them on download with an activity entry that says
// why and what to rename, syncs the rest, converges and does not loop. The same files reach a
// Linux client.
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityEntry } from '../../app/engine-api/types.ts';
import { SyncEngine } from '../../app/sync/engine.ts';
import { startHub, type HubHandle } from '../helpers/hub.ts';

describe('download of names the local OS cannot hold', () => {
  let hub: HubHandle;
  let dir: string;
  let key: string;
  beforeAll(async () => {
    hub = await startHub();
    dir = await mkdtemp(join(tmpdir(), 'local-names-'));
    key = await hub.createKey('agentuser');
    // As Ralph's agent does: straight into the workspace folder, no upload check on the way.
    const ws = join(hub.dataDir, 'agentuser', 'workspace');
    await mkdir(ws, { recursive: true });
    await Promise.all([writeFile(join(ws, 'aux.md'), 'a'), writeFile(join(ws, 'notes:v2.md'), 'n'), writeFile(join(ws, 'draft.'), 'd'), writeFile(join(ws, 'ok.md'), 'ok')]);
  });
  afterAll(async () => {
    await hub?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  function engine(name: string, platform: string): { engine: SyncEngine; folder: string; activity: ActivityEntry[] } {
    const folder = join(dir, name, 'folder');
    const e = new SyncEngine({ serverUrl: hub.url, apiKey: key, folder, stateDir: join(dir, name, 'state'), device: name, live: false, platform });
    const activity: ActivityEntry[] = [];
    e.on('activity', (a) => activity.push(a));
    return { engine: e, folder, activity };
  }

  it('a Windows client skips them with why and what to rename, syncs the rest, and a second sync does not retry them', async () => {
    const { engine: e, folder, activity } = engine('win', 'win32');
    await mkdir(folder, { recursive: true });
    try {
      const first = await e.syncNow();
      expect(first).toMatchObject({ downloaded: 1, converged: true });
      expect(await readdir(folder)).toEqual(['ok.md']);
      const skipped = activity.filter((a) => a.outcome === 'skipped');
      expect(skipped.map((a) => [a.path, a.direction]).sort()).toEqual([
        ['aux.md', 'down'],
        ['draft.', 'down'],
        ['notes:v2.md', 'down'],
      ]);
      expect(skipped.find((a) => a.path === 'aux.md')?.detail).toBe(
        "not downloaded: Windows cannot hold this name (Windows-reserved name 'aux.md'); rename it in the workspace (on the hub or another device), e.g. to '_aux.md'",
      );
      expect(skipped.find((a) => a.path === 'notes:v2.md')?.detail).toMatch(/character not allowed on Windows.*e\.g\. to 'notes-v2\.md'/);
      expect(e.status().issues.map((i) => [i.path, i.code]).sort()).toEqual([
        ['aux.md', 'bad_path'],
        ['draft.', 'bad_path'],
        ['notes:v2.md', 'bad_path'],
      ]);
      const second = await e.syncNow();
      expect(second).toMatchObject({ uploaded: 0, downloaded: 0, deleted: 0, converged: true });
      expect(await readdir(folder)).toEqual(['ok.md']);
      // Told once, not once per round.
      expect(activity.filter((a) => a.outcome === 'skipped')).toHaveLength(3);
    } finally {
      await e.stop();
    }
  });

  it('a Linux client holds every one of those names', async () => {
    const { engine: e, folder } = engine('linux', 'linux');
    try {
      expect(await e.syncNow()).toMatchObject({ downloaded: 4, converged: true });
      expect((await readdir(folder)).sort()).toEqual(['aux.md', 'draft.', 'notes:v2.md', 'ok.md']);
      expect(e.status().issues).toEqual([]);
    } finally {
      await e.stop();
    }
  });
});
