// docs/SYNC-SPEC.md invariant 10, the other answer: after the mass-delete guard stopped a round,
// "Bring them back" (`youlab-sync --once --restore-deleted`, SyncEngine.restoreDeleted) puts the
// files back from the side that still has them instead of deleting them there: files deleted by
// hand in the folder come down from the hub, files deleted on the hub go up from the folder. Real
// hub, real CLI processes, real folders.
import { readdir, readFile, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SyncEngine } from '../../app/sync/engine.ts';
import { makeClient, makeRoot, runCli, type TestClient } from '../helpers/client.ts';
import { auth, startHub, type HubHandle } from '../helpers/hub.ts';

let hub: HubHandle;
let root: { dir: string; cleanup(): Promise<void> };

beforeAll(async () => {
  hub = await startHub();
  root = await makeRoot('youlab-guard-restore-');
});
afterAll(async () => {
  await hub?.stop();
  await root?.cleanup();
});

const listing = async (dir: string) => (await readdir(dir)).sort();
const names = (n: number) => Array.from({ length: n }, (_, i) => `f${String(i).padStart(2, '0')}.txt`);

async function synced(user: string, n: number): Promise<{ a: TestClient; ws: string; key: string }> {
  const key = await hub.createKey(user);
  const a = await makeClient(join(root.dir, user), 'alpha', hub.url, key);
  for (const f of names(n)) await a.write(f, `content of ${f}\n`);
  await a.sync();
  return { a, ws: join(hub.dataDir, user, 'workspace'), key };
}

it('files deleted by hand in the folder: --restore-deleted brings them back from the hub, and deletes nothing', async () => {
  const { a, ws } = await synced('byhand', 12);
  for (const f of names(11)) await rm(join(a.folder, f));

  const stopped = await a.once();
  expect(stopped.code).toBe(4);
  expect(stopped.stderr).toMatch(/11 files are gone from this folder/);
  expect(stopped.stderr).toMatch(/--restore-deleted/);
  expect(stopped.stderr).toMatch(/--allow-mass-delete/);

  const back = await runCli(a.opts(), ['--once', '--restore-deleted']);
  expect(back.code, back.stderr).toBe(0);
  expect(back.stdout).toMatch(/uploaded 0, downloaded 11, deleted 0/);
  expect(await listing(a.folder)).toEqual(names(12));
  for (const f of names(12)) expect(await a.read(f)).toBe(`content of ${f}\n`);
  expect(await listing(ws)).toEqual(names(12));

  // In step again: a plain round has nothing to do, and the guard stays armed for the next time.
  expect(await a.sync()).toMatch(/uploaded 0, downloaded 0, deleted 0/);
  for (const f of names(11)) await rm(join(a.folder, f));
  expect((await a.once()).code).toBe(4);
});

it('files deleted on the hub: --restore-deleted puts this folder\'s copies back on the hub', async () => {
  const { a, ws, key } = await synced('onhub', 12);
  // Someone deletes most of the workspace through the hub (conditional deletes, kept as versions).
  for (const f of names(11)) {
    const res = await fetch(`${hub.url}/users/onhub/workspace/files/${f}`, { method: 'DELETE', headers: { ...auth(key), 'if-match': `"${await etagOf(ws, f)}"` } });
    expect(res.status).toBe(204);
  }
  expect(await listing(ws)).toEqual(['f11.txt']);

  const stopped = await a.once();
  expect(stopped.code).toBe(4);
  expect(stopped.stderr).toMatch(/11 files are gone from the hub/);
  expect(await listing(a.folder)).toEqual(names(12));

  const back = await runCli(a.opts(), ['--once', '--restore-deleted']);
  expect(back.code, back.stderr).toBe(0);
  expect(back.stdout).toMatch(/uploaded 11, downloaded 0, deleted 0/);
  expect(await listing(ws)).toEqual(names(12));
  for (const f of names(12)) expect(await readFile(join(ws, f), 'utf8')).toBe(`content of ${f}\n`);
});

it('the engine API answers the same way (what the desktop app calls), and a round the guard did not stop is unchanged by it', async () => {
  const { a, ws, key } = await synced('engine', 12);
  const engine = new SyncEngine({ serverUrl: hub.url, apiKey: key, folder: a.folder, stateDir: a.stateDir, device: 'alpha', live: false });
  try {
    // Nothing stopped: the answer changes nothing, a normal delete of one file still goes to the hub.
    await unlink(join(a.folder, 'f00.txt'));
    const quiet = await engine.restoreDeleted();
    expect(quiet).toMatchObject({ downloaded: 0, deleted: 1, converged: true });
    expect(await listing(ws)).toEqual(names(12).slice(1));

    for (const f of names(12).slice(1, 12)) await unlink(join(a.folder, f));
    await expect(engine.syncNow()).rejects.toMatchObject({ code: 'mass_delete' });
    expect(engine.status().issues[0]).toMatchObject({ code: 'mass_delete', deletes: { where: 'hub', count: 11, of: 11 } });
    const back = await engine.restoreDeleted();
    expect(back).toMatchObject({ downloaded: 11, deleted: 0, converged: true });
    expect(await listing(a.folder)).toEqual(names(12).slice(1));
    expect(engine.status().issues).toEqual([]);
  } finally {
    await engine.stop();
  }
});

it('a missing folder is not "brought back" over: the round still stops and nothing moves; the two answers exclude each other', async () => {
  const { a, ws } = await synced('missing', 3);
  await rm(a.folder, { recursive: true });
  const r = await runCli(a.opts(), ['--once', '--restore-deleted']);
  expect(r.code).toBe(4);
  expect(r.stderr).toMatch(/missing/);
  expect(await listing(ws)).toEqual(names(3));

  const both = await runCli(a.opts(), ['--once', '--restore-deleted', '--allow-mass-delete']);
  expect(both.code).toBe(1);
  expect(both.stderr).toMatch(/give one/);
  const notOnce = await runCli(a.opts(), ['--restore-deleted']);
  expect(notOnce.code).toBe(1);
  expect(notOnce.stderr).toMatch(/--restore-deleted goes with --once/);
});

async function etagOf(ws: string, f: string): Promise<string> {
  const { createHash } = await import('node:crypto');
  return `sha256:${createHash('sha256').update(await readFile(join(ws, f))).digest('hex')}`;
}
