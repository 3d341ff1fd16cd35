// The folder probe on a REAL case-insensitive folder (issue 15, item 3): an ext4 casefold or vfat
// image loop-mounted inside the test (tests/helpers/case-insensitive-mount.ts). The probe must
// say "case-insensitive", and a client syncing that folder must report a hub's case-only pair
// (Notes.txt, notes.txt) as a clash and converge, where it used to loop as "did not converge".
// Skipped, with the reason, where this machine cannot mount one (not root, no loop devices, a
// kernel without casefold or vfat); the decision logic is tested on fakes in
// tests/unit/engine-folder-probe.test.ts.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeFolder } from '../../app/sync/folder-probe.ts';
import { SyncEngine } from '../../app/sync/engine.ts';
import { mountCaseInsensitive, type CaseInsensitiveMount } from '../helpers/case-insensitive-mount.ts';
import { auth, rawRequest, startHub, type HubHandle } from '../helpers/hub.ts';

const got = await mountCaseInsensitive();
const mount: CaseInsensitiveMount | undefined = 'mount' in got ? got.mount : undefined;
if (!mount) console.warn(`real case-insensitive folder tests skipped: ${'why' in got ? got.why : ''}`);

describe.skipIf(!mount)(`a real case-insensitive folder (${mount?.kind ?? `skipped: ${'why' in got ? got.why : ''}`})`, { timeout: 60_000 }, () => {
  let hub: HubHandle;
  let stateRoot: string;
  beforeAll(async () => {
    hub = await startHub();
    stateRoot = await mkdtemp(join(tmpdir(), 'youlab-ci-state-'));
  }, 60_000);
  afterAll(async () => {
    await hub?.stop();
    await rm(stateRoot, { recursive: true, force: true });
    await mount?.cleanup();
  });

  it('the probe finds it case-insensitive and leaves nothing behind', async () => {
    const t = await probeFolder(mount!.folder);
    expect(t).toMatchObject({ caseInsensitive: true, source: 'probe' });
    expect(await readdir(mount!.folder)).toEqual([]);
  });

  it('a case-only pair from the hub is reported as a clash and the sync converges', async () => {
    const key = await hub.createKey('ci');
    for (const name of ['Notes.txt', 'notes.txt']) {
      const put = await rawRequest(hub.url, { method: 'PUT', path: `/users/ci/workspace/files/${name}`, headers: { ...auth(key), 'if-none-match': '*' }, body: name });
      expect(put.status).toBe(200);
    }
    const engine = new SyncEngine({ serverUrl: hub.url, apiKey: key, folder: mount!.folder, stateDir: join(stateRoot, 'state'), device: 'ci', live: false, platform: 'linux' });
    const log: string[] = [];
    engine.on('log', (l) => log.push(l));
    try {
      const first = await engine.syncNow();
      expect(first).toMatchObject({ downloaded: 1, converged: true });
      expect(log).toContainEqual(expect.stringMatching(/case-insensitive \(names that differ only in case are reported as clashes\)$/));
      expect(await readdir(mount!.folder)).toHaveLength(1);
      expect(engine.status().issues).toEqual([expect.objectContaining({ code: 'clash', message: expect.stringMatching(/differs only in case from/) })]);
      expect(await engine.syncNow()).toMatchObject({ downloaded: 0, uploaded: 0, converged: true });
    } finally {
      await engine.stop();
    }
  });
});
