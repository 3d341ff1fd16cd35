// docs/SYNC-SPEC.md invariant 10 "stops and asks": after the mass-delete guard stopped a round, the user
// can confirm (`youlab-sync --once --allow-mass-delete`, or the desktop app's "Apply the
// deletes"). The confirmed round applies the deletes; the hub keeps every deleted version. A
// missing local folder is never confirmable.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHub, type HubHandle } from '../helpers/hub.ts';
import { makeClient, makeRoot, runCli } from '../helpers/client.ts';

let hub: HubHandle;
let root: { dir: string; cleanup(): Promise<void> };

beforeAll(async () => {
  hub = await startHub();
  root = await makeRoot();
});
afterAll(async () => {
  await hub?.stop();
  await root?.cleanup();
});

const listing = async (dir: string) => (await readdir(dir)).sort();

it('a confirmed round applies the deletes the guard stopped, and the hub keeps their versions', async () => {
  const key = await hub.createKey('guard');
  const a = await makeClient(join(root.dir, 'guard'), 'alpha', hub.url, key);
  const ws = join(hub.dataDir, 'guard', 'workspace');
  for (let i = 0; i < 12; i++) await a.write(`f${i}.txt`, `file ${i}\n`);
  await a.sync();
  for (let i = 0; i < 11; i++) await rm(join(a.folder, `f${i}.txt`));

  const stopped = await a.once();
  expect(stopped.code).toBe(4);
  expect(stopped.stderr).toMatch(/--allow-mass-delete/);
  expect(await listing(ws)).toHaveLength(12);

  const confirmed = await runCli(a.opts(), ['--once', '--allow-mass-delete']);
  expect(confirmed.code, confirmed.stderr).toBe(0);
  expect(confirmed.stdout).toMatch(/deleted 11/);
  expect(await listing(ws)).toEqual(['f11.txt']);
  const versions = await fetch(`${hub.url}/users/guard/workspace/versions/f3.txt`, { headers: { authorization: `Bearer ${key}` } });
  expect(((await versions.json()) as { versions: { reason: string }[] }).versions[0]?.reason).toBe('delete');

  // The confirmation was for one round only: the guard is armed again.
  for (let i = 0; i < 11; i++) await a.write(`g${i}.txt`, `g ${i}\n`);
  await a.sync();
  for (let i = 0; i < 11; i++) await rm(join(a.folder, `g${i}.txt`));
  expect((await a.once()).code).toBe(4);
});

it('a missing local folder cannot be confirmed away', async () => {
  const key = await hub.createKey('gone');
  const a = await makeClient(join(root.dir, 'gone'), 'alpha', hub.url, key);
  await a.write('keep.txt', 'keep\n');
  await a.sync();
  await rm(a.folder, { recursive: true });
  const r = await runCli(a.opts(), ['--once', '--allow-mass-delete']);
  expect(r.code).toBe(4);
  expect(await listing(join(hub.dataDir, 'gone', 'workspace'))).toEqual(['keep.txt']);
});
